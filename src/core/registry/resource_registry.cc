#include "core/registry/resource_registry.h"

#include <mutex>

#include "core/log/log.h"

namespace llama_stack::registry {
namespace {
constexpr std::string_view kPrefix = "distributions:registry:v9::";
// Bumped by every put and remove; outside kPrefix so scans never see it.
constexpr std::string_view kGenerationKey = "distributions:registry:generation";

std::int64_t parse_generation(const std::optional<std::string>& value) {
  if (!value) return 0;
  try {
    return std::stoll(*value);
  } catch (const std::exception&) {
    return 0;
  }
}
}  // namespace

ResourceRegistry::ResourceRegistry(std::shared_ptr<storage::KVStore> store)
    : store_(std::move(store)) {}

std::string ResourceRegistry::key(const std::string& type, const std::string& identifier) {
  return std::string(kPrefix) + type + ":" + identifier;
}

void ResourceRegistry::load() {
  std::unique_lock lock(mutex_);
  // Read before the scan: a write landing in between makes the next
  // refresh() load again rather than be missed.
  seen_ = parse_generation(store_->get(kGenerationKey));
  cache_.clear();
  for (const auto& [key, value] : store_->scan_prefix(kPrefix)) {
    try {
      json::value parsed = parse_json(value);
      const auto& object = parsed.as_object();
      std::string type(object.at("type").as_string());
      std::string identifier(object.at("identifier").as_string());
      cache_[{type, identifier}] = object;
    } catch (const std::exception& e) {
      LS_WARN(kCore, "skipping corrupt registry entry '{}': {}", key, e.what());
    }
  }
  generation_.fetch_add(1, std::memory_order_acq_rel);
  LS_DEBUG(kCore, "registry: loaded {} resources", cache_.size());
}

std::optional<json::object> ResourceRegistry::get(const std::string& type,
                                                  const std::string& identifier) const {
  std::shared_lock lock(mutex_);
  auto it = cache_.find({type, identifier});
  if (it == cache_.end()) return std::nullopt;
  return it->second;
}

std::vector<json::object> ResourceRegistry::list(const std::string& type) const {
  std::shared_lock lock(mutex_);
  std::vector<json::object> out;
  for (auto it = cache_.lower_bound({type, ""}); it != cache_.end() && it->first.first == type;
       ++it) {
    out.push_back(it->second);
  }
  return out;
}

void ResourceRegistry::put(const std::string& type, const std::string& identifier,
                           const json::object& object) {
  std::unique_lock lock(mutex_);
  store_->set(key(type, identifier), to_json(object));
  cache_[{type, identifier}] = object;
  note_own_write();
  generation_.fetch_add(1, std::memory_order_acq_rel);
}

void ResourceRegistry::note_own_write() {
  try {
    const std::int64_t now = store_->increment(kGenerationKey, 1);
    // Another replica wrote since our last look: keep `seen_` behind so the
    // next refresh() picks its change up.
    if (now == seen_ + 1) seen_ = now;
  } catch (const storage::StorageError& e) {
    // The write itself landed; only other replicas learn of it later (their
    // next change, or a restart).
    LS_WARN(kCore, "registry: cannot tell other replicas about a change: {}", e.what());
  }
}

bool ResourceRegistry::refresh() {
  {
    std::shared_lock lock(mutex_);
    if (parse_generation(store_->get(kGenerationKey)) == seen_) return false;
  }
  load();
  LS_DEBUG(kCore, "registry: reloaded after a change made elsewhere");
  return true;
}

RegistryRefresher::RegistryRefresher(ResourceRegistry& registry, std::chrono::milliseconds interval)
    : registry_(registry), interval_(interval), thread_([this] { run(); }) {}

RegistryRefresher::~RegistryRefresher() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void RegistryRefresher::run() {
  bool failing = false;
  std::unique_lock lock(mutex_);
  while (!wake_.wait_for(lock, interval_, [this] { return stopping_; })) {
    lock.unlock();
    try {
      registry_.refresh();
      if (failing) LS_INFO(kCore, "registry: the metadata store is reachable again");
      failing = false;
    } catch (const std::exception& e) {
      if (!failing) LS_WARN(kCore, "registry: cannot look for changes: {}", e.what());
      failing = true;
    }
    lock.lock();
  }
}

bool ResourceRegistry::remove(const std::string& type, const std::string& identifier) {
  std::unique_lock lock(mutex_);
  auto it = cache_.find({type, identifier});
  if (it == cache_.end()) return false;
  store_->remove(key(type, identifier));
  cache_.erase(it);
  note_own_write();
  generation_.fetch_add(1, std::memory_order_acq_rel);
  return true;
}

}  // namespace llama_stack::registry
