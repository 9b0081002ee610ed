// The persistent registry of resources (models, shields, vector_dbs, ...),
// Llama Stack's DistributionRegistry: a write-through cache over a KVStore
// under keys "distributions:registry:v9::<type>:<identifier>".
//
// Thread-safety: safe for concurrent use; reads take a shared lock.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>
#include <vector>

#include "core/util/json.h"
#include "llama_stack/storage/kvstore.h"

namespace llama_stack::registry {

class ResourceRegistry {
 public:
  explicit ResourceRegistry(std::shared_ptr<storage::KVStore> store);

  // Loads every stored resource. Corrupt records are logged and skipped.
  void load();

  std::optional<json::object> get(const std::string& type, const std::string& identifier) const;
  std::vector<json::object> list(const std::string& type) const;
  // Persists then caches. Throws StorageError (the cache is unchanged then).
  void put(const std::string& type, const std::string& identifier, const json::object& object);
  // Returns false when absent.
  bool remove(const std::string& type, const std::string& identifier);

  storage::KVStore& store() { return *store_; }

  // Changes on every load, put and remove: lets callers cache what they
  // derive from the registry (e.g. parsed models) and notice it is stale.
  std::uint64_t generation() const { return generation_.load(std::memory_order_acquire); }

 private:
  static std::string key(const std::string& type, const std::string& identifier);

  std::shared_ptr<storage::KVStore> store_;
  mutable std::shared_mutex mutex_;
  std::map<std::pair<std::string, std::string>, json::object> cache_;
  std::atomic<std::uint64_t> generation_{0};
};

}  // namespace llama_stack::registry
