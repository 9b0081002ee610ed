// VectorStoresRouter: the OpenAI vector stores API (apis::VectorStoresApi).
//
// A vector store is a vector DB of the same id ("vs_<uuid>", registered in
// the vector DBs routing table with the creator as owner) plus our records
// of it, its files and batches (VectorStoreRecords, in the metadata store).
// Everything it does to chunks and files goes through the routers — the
// Files API reads the file as the caller, the vector IO router embeds (the
// inference router) and stores chunks — so those calls are checked, audited
// and limited like the caller's own.
//
// Attaching a file: read it, turn it into text (the registry's
// DocumentTextFn, on a worker), cut it into windows of the chunking
// strategy's tokens (core/util/text_chunks.h), insert the chunks with
// metadata {document_id, file_id, filename, token_count, …attributes} and
// chunk_metadata. Any failure makes the file `failed` with last_error; the
// store stays. File batches index in the background, a few files at a time,
// with an owned copy of the caller's context whose stop token shutdown()
// requests.
//
// Search filters are matched against each file's current attributes (so an
// attribute update applies at once), inside the provider's search.
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <stop_token>
#include <unordered_set>

#include "core/config/stack_config.h"
#include "core/routing/resource_access.h"
#include "core/routing/routing_tables.h"
#include "core/routing/vector_store_records.h"
#include "llama_stack/apis/files.h"
#include "llama_stack/apis/inference.h"
#include "llama_stack/apis/vector_io.h"
#include "llama_stack/apis/vector_stores.h"
#include "llama_stack/async/executor.h"
#include "llama_stack/providers/provider.h"

namespace llama_stack::routing {

struct VectorStoresDeps {
  VectorDBsRoutingTable* vector_dbs = nullptr;
  const ModelsRoutingTable* models = nullptr;
  const ResourceAccess* access = nullptr;
  apis::VectorIOApi* vector_io = nullptr;
  apis::FilesApi* files = nullptr;
  apis::InferenceApi* inference = nullptr;
  async::Executor* workers = nullptr;
  providers::DocumentTextFn document_text;
  // The vector_io providers in run.yaml order (the default when one).
  std::vector<std::string> provider_ids;
};

class VectorStoresRouter final : public apis::VectorStoresApi {
 public:
  VectorStoresRouter(VectorStoresDeps deps, config::VectorStoresSettings settings,
                     std::shared_ptr<storage::KVStore> store);
  ~VectorStoresRouter() override;

  // Loads the records (startup).
  void initialize();
  // Stops the background batches and waits (a few seconds at most) for them.
  void shutdown() noexcept;

  async::Task<apis::VectorStore> create(const apis::CallContext& context,
                                        apis::CreateVectorStoreRequest request) override;
  async::Task<apis::Page<apis::VectorStore>> list(const apis::CallContext& context,
                                                  apis::PageQuery query) override;
  async::Task<apis::VectorStore> retrieve(const apis::CallContext& context,
                                          std::string id) override;
  async::Task<apis::VectorStore> update(const apis::CallContext& context, std::string id,
                                        apis::UpdateVectorStoreRequest request) override;
  async::Task<void> remove(const apis::CallContext& context, std::string id) override;
  async::Task<apis::VectorStoreSearchPage> search(const apis::CallContext& context, std::string id,
                                                  apis::VectorStoreSearchRequest request) override;

  async::Task<apis::VectorStoreFile> attach_file(const apis::CallContext& context, std::string id,
                                                 apis::AttachFileRequest request) override;
  async::Task<apis::Page<apis::VectorStoreFile>> list_files(const apis::CallContext& context,
                                                            std::string id,
                                                            apis::PageQuery query) override;
  async::Task<apis::VectorStoreFile> retrieve_file(const apis::CallContext& context, std::string id,
                                                   std::string file_id) override;
  async::Task<apis::VectorStoreFile> update_file(const apis::CallContext& context, std::string id,
                                                 std::string file_id,
                                                 apis::json::object attributes) override;
  async::Task<apis::VectorStoreFileContent> file_content(const apis::CallContext& context,
                                                         std::string id,
                                                         std::string file_id) override;
  async::Task<void> remove_file(const apis::CallContext& context, std::string id,
                                std::string file_id) override;

  async::Task<apis::VectorStoreFileBatch> create_file_batch(
      const apis::CallContext& context, std::string id,
      apis::CreateFileBatchRequest request) override;
  async::Task<apis::VectorStoreFileBatch> retrieve_file_batch(const apis::CallContext& context,
                                                              std::string id,
                                                              std::string batch_id) override;
  async::Task<apis::VectorStoreFileBatch> cancel_file_batch(const apis::CallContext& context,
                                                            std::string id,
                                                            std::string batch_id) override;
  async::Task<apis::Page<apis::VectorStoreFile>> list_file_batch_files(
      const apis::CallContext& context, std::string id, std::string batch_id,
      apis::PageQuery query) override;

  // Attributes (OpenAI's limits): at most 16 keys of at most 64 characters;
  // values strings (at most 512 characters), numbers or booleans. 400
  // naming `field` otherwise.
  static void check_attributes(const apis::json::object& attributes, const std::string& field);

 private:
  // The store, readable by the caller (404 otherwise).
  apis::VectorStore readable(const apis::CallContext& context, const std::string& id) const;
  // Readable and the caller may `action` it (403 otherwise).
  apis::VectorStore writable(const apis::CallContext& context, const std::string& id,
                             auth::Action action) const;
  std::string embedding_model_for(const apis::CreateVectorStoreRequest& request) const;
  std::string provider_for(const apis::CreateVectorStoreRequest& request) const;
  async::Task<std::string> rewrite(const apis::CallContext& context, std::string query);

  // Indexes `file` (its record in_progress) and records the outcome; never
  // throws for the file's own failures (they become its last_error).
  async::Task<apis::VectorStoreFile> index_file(const apis::CallContext& context,
                                                apis::VectorStore store,
                                                apis::VectorStoreFile file);
  // The chunks of a file (file_id in their metadata), for content and delete.
  async::Task<std::vector<apis::Chunk>> chunks_of(const apis::CallContext& context,
                                                  std::string store_id, std::string file_id);
  // A file batch in the background: `context` is owned.
  async::Task<void> run_batch(apis::CallContext context, apis::VectorStore store,
                              std::string batch_id);
  async::Task<void> batch_worker(const apis::CallContext& context, apis::VectorStore store,
                                 std::string batch_id,
                                 std::shared_ptr<std::vector<std::string>> queue);
  apis::VectorStoreFileBatch batch_of(const apis::CallContext& context, const std::string& id,
                                      const std::string& batch_id) const;

  VectorStoresDeps deps_;
  config::VectorStoresSettings settings_;
  VectorStoreRecords records_;
  // Background batches: their count, and the stop they honour.
  std::stop_source stop_;
  std::mutex background_mutex_;
  std::condition_variable background_done_;
  std::size_t background_ = 0;
  std::mutex queue_mutex_;                    // the batches' file queues and:
  std::unordered_set<std::string> indexing_;  // "<store>/<file>" a batch worker indexes now
};

}  // namespace llama_stack::routing
