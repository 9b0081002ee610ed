// The vector IO API: insert chunks into a vector database and query them.
// Callers (the /v1/vector-io routes, later the RAG tool and vector stores)
// use VectorIOApi — the vector IO router (src/core/routing/vector_io_router.h),
// which resolves the vector DB (404 unknown or not readable, 403 scopes),
// validates chunks, embeds those without an embedding through the inference
// router, and calls the provider.
#pragma once

#include <boost/json.hpp>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "llama_stack/apis/call_context.h"
#include "llama_stack/async/task.h"

namespace llama_stack::apis {

// One stored chunk: the caller's chunk object as given (content, metadata,
// chunk_metadata, … — returned as it came, without the embedding), its id,
// its text (what keyword search and the embedding model see) and its vector.
struct Chunk {
  std::string id;             // chunk_id, else derived from document_id and content
  boost::json::object value;  // the chunk as the caller sent it, "embedding" removed
  std::string text;
  std::vector<float> embedding;
  bool caller_embedding = false;  // the caller sent the embedding: queries return it

  // The chunk as queries return it.
  boost::json::object output() const {
    boost::json::object out = value;
    if (caller_embedding) {
      boost::json::array e;
      e.reserve(embedding.size());
      for (float f : embedding) e.push_back(static_cast<double>(f));
      out["embedding"] = std::move(e);
    }
    return out;
  }
};

struct QueryChunksResponse {
  std::vector<boost::json::object> chunks;
  std::vector<double> scores;  // best first, one per chunk

  boost::json::object to_json() const {
    boost::json::array c, s;
    for (const auto& chunk : chunks) c.push_back(chunk);
    for (double score : scores) s.push_back(score);
    return boost::json::object{{"chunks", std::move(c)}, {"scores", std::move(s)}};
  }
};

enum class SearchMode { kVector, kKeyword, kHybrid };

// Which stored chunks a query may return or a listing includes (vector
// stores' attribute filters): true to keep. Called with the stored chunk on a
// worker thread under the provider's lock: it must be cheap and not block.
using ChunkFilter = std::function<bool(const Chunk& chunk)>;

// params of a query (Llama Stack's names and defaults).
struct VectorQuery {
  std::string text;              // the query as text
  std::vector<float> embedding;  // empty for keyword mode
  std::int64_t max_chunks = 3;
  double score_threshold = 0.0;
  SearchMode mode = SearchMode::kVector;
  std::string ranker = "rrf";   // hybrid: "rrf" | "weighted"
  double impact_factor = 60.0;  // rrf
  double alpha = 0.5;           // weighted: the keyword share
  ChunkFilter filter;           // unset: every chunk
};

class VectorIOApi {
 public:
  virtual ~VectorIOApi() = default;
  // `chunks`: [{content, metadata?, embedding?, chunk_id?, chunk_metadata?}].
  // 400 naming chunks[i] for a bad chunk or a wrong embedding dimension.
  virtual async::Task<void> insert(const CallContext& context, const std::string& vector_db_id,
                                   boost::json::array chunks,
                                   std::optional<std::int64_t> ttl_seconds) = 0;
  // `query`: a string or content items; `params`: max_chunks, score_threshold,
  // mode (vector | keyword | hybrid), ranker ({type: rrf, impact_factor} or
  // {type: weighted, alpha}).
  virtual async::Task<QueryChunksResponse> query(const CallContext& context,
                                                 const std::string& vector_db_id,
                                                 boost::json::value query,
                                                 boost::json::object params) = 0;
  // A query already parsed (vector stores' search): `query.text` set and
  // `query.embedding` empty — it is embedded here unless in keyword mode.
  virtual async::Task<QueryChunksResponse> search(const CallContext& context,
                                                  const std::string& vector_db_id,
                                                  VectorQuery query) = 0;
  // Removes the chunks with these ids (unknown ids are ignored).
  virtual async::Task<void> delete_chunks(const CallContext& context,
                                          const std::string& vector_db_id,
                                          std::vector<std::string> chunk_ids) = 0;
  // The stored chunks `keep` accepts (unset: all), in insertion order.
  virtual async::Task<std::vector<Chunk>> list_chunks(const CallContext& context,
                                                      const std::string& vector_db_id,
                                                      ChunkFilter keep) = 0;
};

}  // namespace llama_stack::apis
