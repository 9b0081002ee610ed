#include "core/registry/resource_registry.h"

#include <mutex>

#include "core/log/log.h"

namespace llama_stack::registry {
namespace {
constexpr std::string_view kPrefix = "distributions:registry:v9::";
}

ResourceRegistry::ResourceRegistry(std::shared_ptr<storage::KVStore> store)
    : store_(std::move(store)) {}

std::string ResourceRegistry::key(const std::string& type, const std::string& identifier) {
  return std::string(kPrefix) + type + ":" + identifier;
}

void ResourceRegistry::load() {
  std::unique_lock lock(mutex_);
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
  generation_.fetch_add(1, std::memory_order_acq_rel);
}

bool ResourceRegistry::remove(const std::string& type, const std::string& identifier) {
  std::unique_lock lock(mutex_);
  auto it = cache_.find({type, identifier});
  if (it == cache_.end()) return false;
  store_->remove(key(type, identifier));
  cache_.erase(it);
  generation_.fetch_add(1, std::memory_order_acq_rel);
  return true;
}

}  // namespace llama_stack::registry
