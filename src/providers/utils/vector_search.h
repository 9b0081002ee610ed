// What the vector IO providers share: an exact L2 index of our own (for
// inline::sqlite-vec), a BM25 keyword index, the two hybrid rerankers, the
// distance → score formula, and the stored form of a chunk.
//
// Thread-safety: none of these types lock; providers guard them.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/util/json.h"
#include "llama_stack/apis/vector_io.h"

namespace llama_stack::providers::utils {

// Vector mode's score of an L2 distance: 1 / distance, as Llama Stack — with
// the distance taken as at least 1e-9, so identical vectors score 1e9 rather
// than dividing by zero.
double distance_score(double l2_distance);

// Which ids a filtered search may return.
using IdFilter = std::function<bool(const std::string& id)>;

// Lower-case word tokens (letters and digits; bytes >= 0x80 count as letters,
// so UTF-8 words stay whole). Punctuation only separates.
std::vector<std::string> word_tokens(std::string_view text);

// BM25 (k1 1.2, b 0.75) over chunk texts, in memory.
class KeywordIndex {
 public:
  void add(const std::string& id, std::string_view text);  // replaces an existing id
  void remove(const std::string& id);
  // Up to `k` ids with a positive score for `query` (and that `keep`
  // accepts, when given), best first.
  std::vector<std::pair<std::string, double>> search(std::string_view query, std::size_t k,
                                                     const IdFilter* keep = nullptr) const;
  std::size_t size() const { return docs_.size(); }

 private:
  struct Doc {
    std::unordered_map<std::string, std::uint32_t> terms;
    std::uint32_t length = 0;
  };
  std::unordered_map<std::string, Doc> docs_;
  std::unordered_map<std::string, std::uint32_t> document_frequency_;
  std::uint64_t total_length_ = 0;
};

// Exact nearest neighbours by L2 distance over float vectors, in memory
// (distances by libfaiss's SIMD kernel, fvec_L2sqr).
class FlatIndex {
 public:
  explicit FlatIndex(std::size_t dimension) : dimension_(dimension) {}
  void add(const std::string& id, const std::vector<float>& vector);  // replaces an existing id
  void remove(const std::string& id);
  // Up to `k` (id, L2 distance), nearest first (only ids `keep` accepts,
  // when given).
  std::vector<std::pair<std::string, double>> search(const std::vector<float>& query, std::size_t k,
                                                     const IdFilter* keep = nullptr) const;
  std::size_t size() const { return ids_.size(); }

 private:
  std::size_t dimension_;
  std::vector<float> data_;  // row-major, size() rows
  std::vector<std::string> ids_;
  std::unordered_map<std::string, std::size_t> row_of_;
};

// Hybrid reranking over (id → score) of each mode (Llama Stack's):
//  rrf:      1/(impact_factor + vector rank) + 1/(impact_factor + keyword rank)
//  weighted: alpha * keyword + (1 - alpha) * vector, each min-max normalised
std::vector<std::pair<std::string, double>> rerank(
    const std::vector<std::pair<std::string, double>>& vector_hits,
    const std::vector<std::pair<std::string, double>>& keyword_hits,
    const apis::VectorQuery& query);

// The answer of a query from each mode's hits (best first): the mode's own
// list, or both reranked for hybrid; then at most max_chunks hits at or
// above score_threshold, each chunk from `chunk_of` (null: skipped).
apis::QueryChunksResponse query_response(
    std::vector<std::pair<std::string, double>> vector_hits,
    std::vector<std::pair<std::string, double>> keyword_hits, const apis::VectorQuery& query,
    const std::function<const apis::Chunk*(const std::string& id)>& chunk_of);

// The stored form of a chunk (one kvstore value or SQL row):
// {"id", "chunk", "text", "embedding": base64 of little-endian float32}.
std::string encode_stored_chunk(const apis::Chunk& chunk);
apis::Chunk decode_stored_chunk(std::string_view stored);

}  // namespace llama_stack::providers::utils
