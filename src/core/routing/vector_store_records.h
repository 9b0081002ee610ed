// VectorStoreRecords: the vector stores' own records — stores, their files
// and file batches — kept in memory and written through to the metadata
// store, so that they survive a restart. File counts and usage are derived
// from the file records whenever a store or batch is read, so they are
// always exact.
//
// Keys: "vector_stores:v1::<vs>" → store; "vector_store_files:v1::<vs>::<file>"
// → file; "vector_store_batches:v1::<vs>::<batch>" → batch (JSON records of
// include/llama_stack/apis/vector_stores.h).
//
// Thread-safe: every method takes one mutex briefly.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "llama_stack/apis/vector_stores.h"
#include "llama_stack/storage/kvstore.h"

namespace llama_stack::routing {

class VectorStoreRecords {
 public:
  explicit VectorStoreRecords(std::shared_ptr<storage::KVStore> store);

  // Reads every record (startup). Files left in_progress by a previous run
  // become failed ("interrupted by a restart"), their batches completed.
  // Returns how many stores were loaded.
  std::size_t load();

  // Stores, oldest first; `store()` with counts and usage filled in.
  std::vector<apis::VectorStore> stores() const;
  std::optional<apis::VectorStore> store(const std::string& id) const;
  void put_store(const apis::VectorStore& store);
  // Drops the store with its files and batches.
  void remove_store(const std::string& id);

  // Files of a store, oldest first (status `filter` when set).
  std::vector<apis::VectorStoreFile> files(const std::string& store_id,
                                           const std::optional<std::string>& filter = {}) const;
  std::optional<apis::VectorStoreFile> file(const std::string& store_id,
                                            const std::string& file_id) const;
  // False (nothing written) when the store no longer exists.
  bool put_file(const apis::VectorStoreFile& file);
  void remove_file(const std::string& store_id, const std::string& file_id);
  // The attributes of each file of the store, by file id.
  std::map<std::string, apis::json::object> attributes(const std::string& store_id) const;

  std::optional<apis::VectorStoreFileBatch> batch(const std::string& store_id,
                                                  const std::string& batch_id) const;
  bool put_batch(const apis::VectorStoreFileBatch& batch);

 private:
  struct Entry {
    apis::VectorStore store;
    std::int64_t order = 0;  // creation order (created_at is in seconds)
    std::map<std::string, std::pair<std::int64_t, apis::VectorStoreFile>> files;
    std::map<std::string, apis::VectorStoreFileBatch> batches;
  };

  // REQUIRES: mutex_.
  apis::VectorStore with_counts(const Entry& entry) const;
  apis::VectorStoreFileBatch with_counts(const Entry& entry,
                                         const apis::VectorStoreFileBatch& batch) const;
  void write(const std::string& key, const apis::json::object& record);

  std::shared_ptr<storage::KVStore> kv_;
  mutable std::mutex mutex_;
  std::map<std::string, Entry> entries_;
  std::int64_t next_order_ = 0;
};

// One page of `items` (oldest first, each with an `id`): OpenAI cursor
// pagination (see apis::PageQuery); 400 for an `after`/`before` that is not
// an id of the listing.
template <class T>
apis::Page<T> page_of(std::vector<T> items, const apis::PageQuery& query);

}  // namespace llama_stack::routing

#include "core/routing/vector_store_records_inl.h"
