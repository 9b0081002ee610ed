// The vector IO providers' shared pieces: BM25, the exact index, the hybrid
// rerankers, the score formula and the stored chunk form.
#include "providers/utils/vector_search.h"

#include <gtest/gtest.h>

#include <cmath>

namespace llama_stack::providers::utils {
namespace {

TEST(VectorSearch, DistanceScoreIsOneOverDistanceAndFiniteAtZero) {
  EXPECT_DOUBLE_EQ(distance_score(4.0), 0.25);
  EXPECT_TRUE(std::isfinite(distance_score(0.0)));
  EXPECT_DOUBLE_EQ(distance_score(0.0), 1e9);
}

TEST(VectorSearch, WordTokensIgnorePunctuationAndCase) {
  EXPECT_EQ(word_tokens("Hello, WORLD!! (*&^ c++ "),
            (std::vector<std::string>{"hello", "world", "c"}));
  EXPECT_EQ(word_tokens("naïve café"), (std::vector<std::string>{"na\xc3\xafve", "caf\xc3\xa9"}));
  EXPECT_TRUE(word_tokens("\"*&^%").empty());
}

TEST(VectorSearch, Bm25RanksRareTermsAndReplacesById) {
  KeywordIndex index;
  index.add("a", "the cat sat on the mat");
  index.add("b", "the dog barked at the cat");
  index.add("c", "quantum chromodynamics");
  auto hits = index.search("cat", 10);
  ASSERT_EQ(hits.size(), 2u);
  auto rare = index.search("quantum cat", 10);
  ASSERT_FALSE(rare.empty());
  EXPECT_EQ(rare.front().first, "c");  // the rarer term weighs more
  EXPECT_TRUE(index.search("the", 10).size() == 2);
  index.add("c", "a cat again");  // replaced: no more quantum
  EXPECT_TRUE(index.search("quantum", 10).empty());
  EXPECT_EQ(index.search("cat", 10).size(), 3u);
  index.remove("a");
  EXPECT_EQ(index.size(), 2u);
  EXPECT_EQ(index.search("cat", 1).size(), 1u);
}

TEST(VectorSearch, FlatIndexIsExactAndRemoves) {
  FlatIndex index(2);
  index.add("x", {0, 0});
  index.add("y", {3, 4});
  index.add("z", {1, 0});
  auto hits = index.search({0, 0}, 2);
  ASSERT_EQ(hits.size(), 2u);
  EXPECT_EQ(hits[0].first, "x");
  EXPECT_DOUBLE_EQ(hits[0].second, 0.0);
  EXPECT_EQ(hits[1].first, "z");
  EXPECT_DOUBLE_EQ(index.search({0, 0}, 3)[2].second, 5.0);  // L2, not squared
  index.remove("x");
  EXPECT_EQ(index.search({0, 0}, 1)[0].first, "z");
  index.add("y", {0, 0});  // replace in place
  EXPECT_EQ(index.search({0, 0}, 1)[0].first, "y");
  EXPECT_EQ(index.size(), 2u);
}

TEST(VectorSearch, Rerankers) {
  const std::vector<std::pair<std::string, double>> vec = {{"a", 9}, {"b", 5}};
  const std::vector<std::pair<std::string, double>> kw = {{"b", 3}, {"c", 1}};
  apis::VectorQuery rrf;
  auto r = rerank(vec, kw, rrf);
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(r[0].first, "b");  // in both lists
  EXPECT_DOUBLE_EQ(r[0].second, 1.0 / 62 + 1.0 / 61);
  apis::VectorQuery weighted;
  weighted.ranker = "weighted";
  weighted.alpha = 1.0;  // keyword only
  auto w = rerank(vec, kw, weighted);
  EXPECT_EQ(w[0].first, "b");
  EXPECT_DOUBLE_EQ(w[0].second, 1.0);
  weighted.alpha = 0.0;  // vector only
  EXPECT_EQ(rerank(vec, kw, weighted)[0].first, "a");
}

TEST(VectorSearch, StoredChunksRoundTrip) {
  apis::Chunk chunk;
  chunk.id = "id-1";
  chunk.value = json::object{{"content", "text"}, {"metadata", json::object{{"k", 1}}}};
  chunk.text = "text";
  chunk.embedding = {0.5f, -1.25f, 3.0e-8f};
  chunk.caller_embedding = true;
  const apis::Chunk back = decode_stored_chunk(encode_stored_chunk(chunk));
  EXPECT_EQ(back.id, chunk.id);
  EXPECT_EQ(back.value, chunk.value);
  EXPECT_EQ(back.embedding, chunk.embedding);
  EXPECT_TRUE(back.caller_embedding);
  EXPECT_EQ(back.output().at("embedding").as_array().size(), 3u);
}

}  // namespace
}  // namespace llama_stack::providers::utils
