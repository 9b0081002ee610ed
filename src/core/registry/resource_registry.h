// The persistent registry of resources (models, shields, vector_dbs, ...),
// Llama Stack's DistributionRegistry: a write-through cache over a KVStore
// under keys "distributions:registry:v9::<type>:<identifier>".
//
// Thread-safety: safe for concurrent use; reads take a shared lock.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/util/json.h"
#include "llama_stack/storage/kvstore.h"

namespace llama_stack::registry {

class ResourceRegistry {
 public:
  explicit ResourceRegistry(std::shared_ptr<storage::KVStore> store);

  // Loads every stored resource. Corrupt records are logged and skipped.
  void load();

  // Reloads when another process sharing the store (a replica) changed it
  // since the last load: every put and remove bumps a generation counter in
  // the store. Returns whether it reloaded. Throws StorageError.
  bool refresh();

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
  void note_own_write();  // REQUIRES: mutex_ held exclusively

  std::shared_ptr<storage::KVStore> store_;
  mutable std::shared_mutex mutex_;
  std::map<std::pair<std::string, std::string>, json::object> cache_;
  std::atomic<std::uint64_t> generation_{0};
  // The store's generation counter as of our last load or write; guarded by mutex_.
  std::int64_t seen_ = -1;
};

// Calls registry.refresh() every `interval` on its own thread, so a
// registration on one replica is seen by the others within about
// `interval` (plus the store's latency). A failing store is logged once per
// outage and retried.
class RegistryRefresher {
 public:
  RegistryRefresher(ResourceRegistry& registry, std::chrono::milliseconds interval);
  ~RegistryRefresher();
  RegistryRefresher(const RegistryRefresher&) = delete;
  RegistryRefresher& operator=(const RegistryRefresher&) = delete;

 private:
  void run();
  ResourceRegistry& registry_;
  const std::chrono::milliseconds interval_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;  // guarded by mutex_
  std::thread thread_;
};

}  // namespace llama_stack::registry
