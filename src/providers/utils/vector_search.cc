#include "providers/utils/vector_search.h"

#include <faiss/utils/distances.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cctype>
#include <cmath>
#include <cstring>
#include <queue>
#include <set>
#include <stdexcept>

namespace llama_stack::providers::utils {
namespace {

bool is_word_byte(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c >= 0x80;
}

}  // namespace

double distance_score(double l2_distance) {
  return 1.0 / std::max(l2_distance, 1e-9);
}

std::vector<std::string> word_tokens(std::string_view text) {
  std::vector<std::string> out;
  std::string word;
  for (unsigned char c : text) {
    if (is_word_byte(c)) {
      word.push_back(c < 0x80 ? static_cast<char>(std::tolower(c)) : static_cast<char>(c));
    } else if (!word.empty()) {
      out.push_back(std::move(word));
      word.clear();
    }
  }
  if (!word.empty()) out.push_back(std::move(word));
  return out;
}

void KeywordIndex::add(const std::string& id, std::string_view text) {
  remove(id);
  Doc doc;
  for (auto& term : word_tokens(text)) {
    ++doc.terms[term];
    ++doc.length;
  }
  for (const auto& [term, count] : doc.terms) ++document_frequency_[term];
  total_length_ += doc.length;
  docs_.emplace(id, std::move(doc));
}

void KeywordIndex::remove(const std::string& id) {
  auto it = docs_.find(id);
  if (it == docs_.end()) return;
  for (const auto& [term, count] : it->second.terms) {
    auto df = document_frequency_.find(term);
    if (df != document_frequency_.end() && --df->second == 0) document_frequency_.erase(df);
  }
  total_length_ -= it->second.length;
  docs_.erase(it);
}

std::vector<std::pair<std::string, double>> KeywordIndex::search(std::string_view query,
                                                                 std::size_t k,
                                                                 const IdFilter* keep) const {
  std::vector<std::pair<std::string, double>> out;
  if (docs_.empty() || k == 0) return out;
  std::set<std::string> terms;
  for (auto& t : word_tokens(query)) terms.insert(std::move(t));
  if (terms.empty()) return out;
  constexpr double k1 = 1.2, b = 0.75;
  const double n = static_cast<double>(docs_.size());
  const double average = static_cast<double>(total_length_) / n;
  for (const auto& [id, doc] : docs_) {
    if (keep != nullptr && !(*keep)(id)) continue;
    double score = 0.0;
    for (const auto& term : terms) {
      auto tf = doc.terms.find(term);
      if (tf == doc.terms.end()) continue;
      const double df = document_frequency_.at(term);
      const double idf = std::log(1.0 + (n - df + 0.5) / (df + 0.5));
      const double f = tf->second;
      score += idf * f * (k1 + 1) / (f + k1 * (1 - b + b * doc.length / std::max(average, 1.0)));
    }
    if (score > 0) out.emplace_back(id, score);
  }
  std::sort(out.begin(), out.end(), [](const auto& x, const auto& y) {
    return x.second != y.second ? x.second > y.second : x.first < y.first;
  });
  if (out.size() > k) out.resize(k);
  return out;
}

void FlatIndex::add(const std::string& id, const std::vector<float>& vector) {
  if (vector.size() != dimension_) throw std::invalid_argument("vector dimension mismatch");
  if (auto it = row_of_.find(id); it != row_of_.end()) {
    std::copy(vector.begin(), vector.end(), data_.begin() + it->second * dimension_);
    return;
  }
  row_of_.emplace(id, ids_.size());
  ids_.push_back(id);
  data_.insert(data_.end(), vector.begin(), vector.end());
}

void FlatIndex::remove(const std::string& id) {
  auto it = row_of_.find(id);
  if (it == row_of_.end()) return;
  const std::size_t row = it->second, last = ids_.size() - 1;
  if (row != last) {  // move the last row into the hole
    std::copy(data_.begin() + last * dimension_, data_.begin() + (last + 1) * dimension_,
              data_.begin() + row * dimension_);
    ids_[row] = std::move(ids_[last]);
    row_of_[ids_[row]] = row;
  }
  ids_.pop_back();
  data_.resize(ids_.size() * dimension_);
  row_of_.erase(id);
}

std::vector<std::pair<std::string, double>> FlatIndex::search(const std::vector<float>& query,
                                                              std::size_t k,
                                                              const IdFilter* keep) const {
  std::vector<std::pair<std::string, double>> out;
  if (k == 0 || ids_.empty() || query.size() != dimension_) return out;
  // Keep the k nearest in a max-heap of (squared distance, row).
  std::priority_queue<std::pair<float, std::size_t>> best;
  for (std::size_t row = 0; row < ids_.size(); ++row) {
    if (keep != nullptr && !(*keep)(ids_[row])) continue;
    // libfaiss's SIMD kernel (the same distance faiss's flat index computes).
    const float d = faiss::fvec_L2sqr(data_.data() + row * dimension_, query.data(), dimension_);
    if (best.size() < k) {
      best.emplace(d, row);
    } else if (d < best.top().first) {
      best.pop();
      best.emplace(d, row);
    }
  }
  out.resize(best.size());
  for (std::size_t i = best.size(); i-- > 0;) {
    out[i] = {ids_[best.top().second], std::sqrt(static_cast<double>(best.top().first))};
    best.pop();
  }
  return out;
}

std::vector<std::pair<std::string, double>> rerank(
    const std::vector<std::pair<std::string, double>>& vector_hits,
    const std::vector<std::pair<std::string, double>>& keyword_hits,
    const apis::VectorQuery& query) {
  std::map<std::string, double> combined;
  if (query.ranker == "weighted") {
    auto normalized = [](const std::vector<std::pair<std::string, double>>& hits) {
      std::map<std::string, double> out;
      if (hits.empty()) return out;
      double lo = hits.front().second, hi = hits.front().second;
      for (const auto& [id, s] : hits) {
        lo = std::min(lo, s);
        hi = std::max(hi, s);
      }
      for (const auto& [id, s] : hits) out[id] = hi > lo ? (s - lo) / (hi - lo) : 1.0;
      return out;
    };
    const auto v = normalized(vector_hits), k = normalized(keyword_hits);
    for (const auto& [id, s] : v) combined[id] += (1 - query.alpha) * s;
    for (const auto& [id, s] : k) combined[id] += query.alpha * s;
  } else {
    // Hits arrive best first: rank i + 1; a missing rank adds nothing.
    for (std::size_t i = 0; i < vector_hits.size(); ++i) {
      combined[vector_hits[i].first] += 1.0 / (query.impact_factor + static_cast<double>(i + 1));
    }
    for (std::size_t i = 0; i < keyword_hits.size(); ++i) {
      combined[keyword_hits[i].first] += 1.0 / (query.impact_factor + static_cast<double>(i + 1));
    }
  }
  std::vector<std::pair<std::string, double>> out(combined.begin(), combined.end());
  std::sort(out.begin(), out.end(), [](const auto& x, const auto& y) {
    return x.second != y.second ? x.second > y.second : x.first < y.first;
  });
  return out;
}

apis::QueryChunksResponse query_response(
    std::vector<std::pair<std::string, double>> vector_hits,
    std::vector<std::pair<std::string, double>> keyword_hits, const apis::VectorQuery& query,
    const std::function<const apis::Chunk*(const std::string& id)>& chunk_of) {
  std::vector<std::pair<std::string, double>> hits;
  if (query.mode == apis::SearchMode::kVector) {
    hits = std::move(vector_hits);
  } else if (query.mode == apis::SearchMode::kKeyword) {
    hits = std::move(keyword_hits);
  } else {
    hits = rerank(vector_hits, keyword_hits, query);
  }
  apis::QueryChunksResponse out;
  for (const auto& [id, score] : hits) {
    if (out.chunks.size() >= static_cast<std::size_t>(query.max_chunks)) break;
    if (score < query.score_threshold) continue;
    const apis::Chunk* chunk = chunk_of(id);
    if (chunk == nullptr) continue;
    out.chunks.push_back(chunk->output());
    out.scores.push_back(score);
  }
  return out;
}

std::string encode_stored_chunk(const apis::Chunk& chunk) {
  std::string bytes(chunk.embedding.size() * 4, '\0');
  for (std::size_t i = 0; i < chunk.embedding.size(); ++i) {
    const auto bits = std::bit_cast<std::uint32_t>(chunk.embedding[i]);
    for (int b = 0; b < 4; ++b) bytes[i * 4 + b] = static_cast<char>((bits >> (8 * b)) & 0xFF);
  }
  return to_json(json::object{{"id", chunk.id},
                              {"chunk", chunk.value},
                              {"text", chunk.text},
                              {"caller_embedding", chunk.caller_embedding},
                              {"embedding", base64_encode(bytes)}});
}

apis::Chunk decode_stored_chunk(std::string_view stored) {
  const json::value doc = parse_json(stored);
  const json::object& o = doc.as_object();
  apis::Chunk chunk;
  chunk.id = json::value_to<std::string>(o.at("id"));
  chunk.value = o.at("chunk").as_object();
  chunk.text = json::value_to<std::string>(o.at("text"));
  if (const auto* c = o.if_contains("caller_embedding"); c != nullptr && c->is_bool()) {
    chunk.caller_embedding = c->get_bool();
  }
  const std::optional<std::string> decoded = base64_decode(o.at("embedding").as_string());
  if (!decoded) throw std::runtime_error("stored chunk: bad base64");
  const std::string& bytes = *decoded;
  chunk.embedding.resize(bytes.size() / 4);
  for (std::size_t i = 0; i < chunk.embedding.size(); ++i) {
    std::uint32_t bits = 0;
    for (int b = 0; b < 4; ++b) {
      bits |= static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i * 4 + b])) << (8 * b);
    }
    chunk.embedding[i] = std::bit_cast<float>(bits);
  }
  return chunk;
}

}  // namespace llama_stack::providers::utils
