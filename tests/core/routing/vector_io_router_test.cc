#include "core/routing/vector_io_router.h"

#include <gtest/gtest.h>

#include "support/api_errors.h"

namespace llama_stack::routing {
namespace {

TEST(VectorIORouter, ChunkIdsAreDerivedLikeLlamaStack) {
  // A UUID-shaped MD5 of "<document_id>:<text>"; stable, and the text alone without a document.
  const std::string a = derived_chunk_id(json::object{{"document_id", "doc"}}, "hello");
  EXPECT_EQ(a.size(), 36u);
  EXPECT_EQ(a[8], '-');
  EXPECT_EQ(a, derived_chunk_id(json::object{{"document_id", "doc"}}, "hello"));
  EXPECT_NE(a, derived_chunk_id(json::object{{"document_id", "other"}}, "hello"));
  EXPECT_NE(a, derived_chunk_id(json::object{}, "hello"));
  EXPECT_EQ(derived_chunk_id(json::object{}, ""), "d41d8cd9-8f00-b204-e980-0998ecf8427e");
}

TEST(VectorIORouter, QueryParams) {
  apis::VectorQuery q = parse_vector_query_params(json::object{});
  EXPECT_EQ(q.max_chunks, 3);
  EXPECT_EQ(q.score_threshold, 0.0);
  EXPECT_EQ(q.mode, apis::SearchMode::kVector);
  q = parse_vector_query_params(
      json::object{{"max_chunks", 7},
                   {"mode", "hybrid"},
                   {"ranker", json::object{{"type", "weighted"}, {"alpha", 0.2}}}});
  EXPECT_EQ(q.max_chunks, 7);
  EXPECT_EQ(q.mode, apis::SearchMode::kHybrid);
  EXPECT_EQ(q.ranker, "weighted");
  EXPECT_DOUBLE_EQ(q.alpha, 0.2);
  for (const auto& bad : {json::object{{"max_chunks", "3"}}, json::object{{"mode", 1}},
                          json::object{{"score_threshold", "x"}},
                          json::object{{"ranker", json::object{{"alpha", 2}}}}}) {
    EXPECT_EQ(testing::status_of([&] { parse_vector_query_params(bad); }), 400) << bad;
  }
}

}  // namespace
}  // namespace llama_stack::routing
