// The OpenAI vector stores API (/v1/vector_stores, /v1/openai/v1/vector_stores):
// stores of files, cut into chunks and indexed by a vector DB, and searched.
// Callers use VectorStoresApi — the vector stores router
// (src/core/routing/vector_stores_router.h), which keeps the stores' and
// their files' records, reads files through the Files API, indexes and
// searches them through the vector IO API, and applies the access policy
// (a store belongs to whoever created it).
//
// The objects are OpenAI's (as Llama Stack serves them): to_json() gives the
// wire form.
#pragma once

#include <boost/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "llama_stack/apis/call_context.h"
#include "llama_stack/apis/resources.h"
#include "llama_stack/async/task.h"

namespace llama_stack::apis {

struct FileCounts {
  std::int64_t in_progress = 0, completed = 0, failed = 0, cancelled = 0, total = 0;
  void add(const std::string& status);
  json::object to_json() const;
};

// {type: "static", static: {max_chunk_size_tokens, chunk_overlap_tokens}};
// "auto" is 800/400 (OpenAI's and Llama Stack's) and is stored as static.
struct ChunkingStrategy {
  std::int64_t max_chunk_size_tokens = 800;
  std::int64_t chunk_overlap_tokens = 400;
  json::object to_json() const;
  // 400 naming `field` for an unknown type or sizes out of range (100–4096
  // tokens, overlap at most half of it).
  static ChunkingStrategy parse(const json::value* value, const std::string& field);
};

struct VectorStore {
  std::string id;  // "vs_<uuid>"; also its vector DB's identifier
  std::int64_t created_at = 0;
  std::optional<std::string> name;
  json::value expires_after;  // as given (null when unset)
  std::int64_t last_active_at = 0;
  json::object metadata;
  ChunkingStrategy chunking;  // for files attached without one
  // Ours: the vector DB behind it (provider, embedding model and dimension).
  std::string provider_id;
  std::string embedding_model;
  std::int64_t embedding_dimension = 0;
  std::optional<Owner> owner;
  // Derived from the files' records when the store is read.
  FileCounts file_counts;
  std::int64_t usage_bytes = 0;

  json::object to_json() const;  // the OpenAI object
  json::object to_record() const;
  static VectorStore from_record(const json::value& value);  // throws on a corrupt record
};

struct VectorStoreFileError {
  std::string code;  // "server_error" | "rate_limit_exceeded"
  std::string message;
};

struct VectorStoreFile {
  std::string id;  // the file's id
  std::string vector_store_id;
  std::int64_t created_at = 0;
  std::string status = "in_progress";  // in_progress | completed | failed | cancelled
  std::int64_t usage_bytes = 0;        // the file's bytes, once indexed
  ChunkingStrategy chunking;
  json::object attributes;
  std::optional<VectorStoreFileError> last_error;
  std::string filename;  // ours: search results name it
  std::optional<std::string> batch_id;
  std::int64_t chunks = 0;  // ours: how many chunks it was cut into

  json::object to_json() const;
  json::object to_record() const;
  static VectorStoreFile from_record(const json::value& value);
};

struct VectorStoreFileBatch {
  std::string id;  // "batch_<uuid>"
  std::string vector_store_id;
  std::int64_t created_at = 0;
  std::string status = "in_progress";  // in_progress | completed | failed | cancelled
  std::vector<std::string> file_ids;
  json::object attributes;
  ChunkingStrategy chunking;
  FileCounts file_counts;  // derived from the files' records

  json::object to_json() const;
  json::object to_record() const;
  static VectorStoreFileBatch from_record(const json::value& value);
};

// Cursor pagination of OpenAI lists: limit 1–100 (default 20), order by
// created_at (desc by default), after/before an id of the listing (400 when
// it is not one), filter = a file status (file lists only).
struct PageQuery {
  std::int64_t limit = 20;
  bool descending = true;
  std::optional<std::string> after;
  std::optional<std::string> before;
  std::optional<std::string> filter;
};

template <class T>
struct Page {
  std::vector<T> data;
  bool has_more = false;

  json::object to_json() const {
    json::array items;
    for (const auto& item : data) items.push_back(item.to_json());
    json::object out{{"object", "list"}, {"data", std::move(items)}, {"has_more", has_more}};
    out["first_id"] = data.empty() ? json::value(nullptr) : json::value(data.front().id);
    out["last_id"] = data.empty() ? json::value(nullptr) : json::value(data.back().id);
    return out;
  }
};

struct CreateVectorStoreRequest {
  std::optional<std::string> name;
  std::vector<std::string> file_ids;
  json::value expires_after;
  std::optional<ChunkingStrategy> chunking;
  json::object metadata;
  // Llama Stack's extensions.
  std::optional<std::string> embedding_model;
  std::optional<std::int64_t> embedding_dimension;
  std::optional<std::string> provider_id;
};

struct UpdateVectorStoreRequest {
  std::optional<std::string> name;
  std::optional<json::value> expires_after;
  std::optional<json::object> metadata;
};

struct AttachFileRequest {
  std::string file_id;
  json::object attributes;
  std::optional<ChunkingStrategy> chunking;  // unset: the store's
};

struct CreateFileBatchRequest {
  std::vector<std::string> file_ids;
  json::object attributes;
  std::optional<ChunkingStrategy> chunking;
};

struct VectorStoreSearchRequest {
  std::vector<std::string> queries;  // a string or a list of strings; searched joined by ' '
  std::optional<json::value> filters;
  std::int64_t max_num_results = 10;
  double score_threshold = 0.0;
  std::optional<std::string> ranker;  // rrf | weighted (hybrid mode)
  std::optional<double> alpha;
  std::optional<double> impact_factor;
  bool rewrite_query = false;
  std::string search_mode = "vector";  // vector | keyword | hybrid
};

struct VectorStoreSearchResult {
  std::string file_id;
  std::string filename;
  double score = 0.0;
  json::object attributes;
  std::string text;
};

struct VectorStoreSearchPage {
  std::vector<std::string> search_query;
  std::vector<VectorStoreSearchResult> data;
  json::object to_json() const;
};

// The chunks of a file in a store, in document order.
struct VectorStoreFileContent {
  VectorStoreFile file;
  std::vector<json::object> chunks;  // {content, metadata, chunk_metadata, embedding?}
  std::vector<std::vector<float>> embeddings;
  json::object to_json(bool include_embeddings, bool include_metadata) const;
};

class VectorStoresApi {
 public:
  virtual ~VectorStoresApi() = default;

  virtual async::Task<VectorStore> create(const CallContext& context,
                                          CreateVectorStoreRequest request) = 0;
  virtual async::Task<Page<VectorStore>> list(const CallContext& context, PageQuery query) = 0;
  // 404 for a store that does not exist or the caller may not read.
  virtual async::Task<VectorStore> retrieve(const CallContext& context, std::string id) = 0;
  virtual async::Task<VectorStore> update(const CallContext& context, std::string id,
                                          UpdateVectorStoreRequest request) = 0;
  virtual async::Task<void> remove(const CallContext& context, std::string id) = 0;
  virtual async::Task<VectorStoreSearchPage> search(const CallContext& context, std::string id,
                                                    VectorStoreSearchRequest request) = 0;

  // Indexes the file before it answers: the status is final (completed or
  // failed with last_error). A file already attached is returned as it is.
  virtual async::Task<VectorStoreFile> attach_file(const CallContext& context, std::string id,
                                                   AttachFileRequest request) = 0;
  virtual async::Task<Page<VectorStoreFile>> list_files(const CallContext& context, std::string id,
                                                        PageQuery query) = 0;
  virtual async::Task<VectorStoreFile> retrieve_file(const CallContext& context, std::string id,
                                                     std::string file_id) = 0;
  virtual async::Task<VectorStoreFile> update_file(const CallContext& context, std::string id,
                                                   std::string file_id,
                                                   json::object attributes) = 0;
  virtual async::Task<VectorStoreFileContent> file_content(const CallContext& context,
                                                           std::string id, std::string file_id) = 0;
  // Removes the file from the store and its chunks from the index (the file
  // itself stays in the Files API).
  virtual async::Task<void> remove_file(const CallContext& context, std::string id,
                                        std::string file_id) = 0;

  // Answers at once (in_progress); the files are indexed in the background.
  virtual async::Task<VectorStoreFileBatch> create_file_batch(const CallContext& context,
                                                              std::string id,
                                                              CreateFileBatchRequest request) = 0;
  virtual async::Task<VectorStoreFileBatch> retrieve_file_batch(const CallContext& context,
                                                                std::string id,
                                                                std::string batch_id) = 0;
  // Files not yet started are cancelled; those being indexed finish.
  virtual async::Task<VectorStoreFileBatch> cancel_file_batch(const CallContext& context,
                                                              std::string id,
                                                              std::string batch_id) = 0;
  virtual async::Task<Page<VectorStoreFile>> list_file_batch_files(const CallContext& context,
                                                                   std::string id,
                                                                   std::string batch_id,
                                                                   PageQuery query) = 0;
};

}  // namespace llama_stack::apis
