#include <map>
#include <mutex>

#include "llama_stack/storage/kvstore.h"

namespace llama_stack::storage {
namespace {

class MemoryKVStore final : public KVStore {
 public:
  std::optional<std::string> get(std::string_view key) override {
    std::lock_guard lock(mutex_);
    auto it = entries_.find(key);
    if (it == entries_.end() || expired(it->second)) return std::nullopt;
    return it->second.value;
  }

  void set(std::string_view key, std::string_view value,
           std::optional<Clock::time_point> expiration) override {
    std::lock_guard lock(mutex_);
    entries_.insert_or_assign(std::string(key), Entry{std::string(value), expiration});
  }

  void remove(std::string_view key) override {
    std::lock_guard lock(mutex_);
    auto it = entries_.find(key);
    if (it != entries_.end()) entries_.erase(it);
  }

  std::vector<std::pair<std::string, std::string>> range(std::string_view start_key,
                                                         std::string_view end_key) override {
    std::lock_guard lock(mutex_);
    std::vector<std::pair<std::string, std::string>> out;
    for (auto it = entries_.lower_bound(start_key); it != entries_.end() && it->first <= end_key;
         ++it) {
      if (!expired(it->second)) out.emplace_back(it->first, it->second.value);
    }
    return out;
  }

  std::vector<std::pair<std::string, std::string>> scan_prefix(std::string_view prefix) override {
    std::lock_guard lock(mutex_);
    std::vector<std::pair<std::string, std::string>> out;
    for (auto it = entries_.lower_bound(prefix);
         it != entries_.end() && std::string_view(it->first).starts_with(prefix); ++it) {
      if (!expired(it->second)) out.emplace_back(it->first, it->second.value);
    }
    return out;
  }

  std::int64_t increment(std::string_view key, std::int64_t delta,
                         std::optional<Clock::time_point> expiration) override {
    std::lock_guard lock(mutex_);
    auto it = entries_.find(key);
    if (it == entries_.end() || expired(it->second)) {
      entries_.insert_or_assign(std::string(key), Entry{std::to_string(delta), expiration});
      return delta;
    }
    std::int64_t value = 0;
    try {
      value = std::stoll(it->second.value);
    } catch (const std::exception&) {
      throw StorageError("increment: value at key is not an integer");
    }
    value += delta;
    it->second.value = std::to_string(value);
    return value;
  }

  std::string update_entry(std::string_view key, const UpdateEntryFn& fn) override {
    std::lock_guard lock(mutex_);
    auto it = entries_.find(key);
    const bool live = it != entries_.end() && !expired(it->second);
    std::optional<StoredValue> next =
        fn(live ? std::optional<std::string>(it->second.value) : std::nullopt);
    if (!next) {
      if (it != entries_.end()) entries_.erase(it);
      return {};
    }
    std::string result = next->value;
    entries_.insert_or_assign(std::string(key), Entry{std::move(next->value), next->expiration});
    return result;
  }

  std::size_t purge_expired() override {
    std::lock_guard lock(mutex_);
    return std::erase_if(entries_, [](const auto& kv) { return expired(kv.second); });
  }

 private:
  struct Entry {
    std::string value;
    std::optional<Clock::time_point> expiration;
  };
  static bool expired(const Entry& e) { return e.expiration && *e.expiration <= Clock::now(); }

  std::mutex mutex_;
  std::map<std::string, Entry, std::less<>> entries_;
};

class NamespacedKVStore final : public KVStore {
 public:
  NamespacedKVStore(std::shared_ptr<KVStore> inner, std::string name_space)
      : inner_(std::move(inner)), prefix_(std::move(name_space) + ":") {}

  std::optional<std::string> get(std::string_view key) override { return inner_->get(k(key)); }
  void set(std::string_view key, std::string_view value,
           std::optional<Clock::time_point> expiration) override {
    inner_->set(k(key), value, expiration);
  }
  void remove(std::string_view key) override { inner_->remove(k(key)); }
  std::vector<std::pair<std::string, std::string>> range(std::string_view start_key,
                                                         std::string_view end_key) override {
    return strip(inner_->range(k(start_key), k(end_key)));
  }
  std::vector<std::pair<std::string, std::string>> scan_prefix(std::string_view prefix) override {
    return strip(inner_->scan_prefix(k(prefix)));
  }
  std::int64_t increment(std::string_view key, std::int64_t delta,
                         std::optional<Clock::time_point> expiration) override {
    return inner_->increment(k(key), delta, expiration);
  }
  std::string update_entry(std::string_view key, const UpdateEntryFn& fn) override {
    return inner_->update_entry(k(key), fn);
  }
  void transaction(const std::function<void()>& body) override { inner_->transaction(body); }
  std::size_t purge_expired() override { return inner_->purge_expired(); }
  void flush() override { inner_->flush(); }
  std::size_t concurrency() const override { return inner_->concurrency(); }

 private:
  std::string k(std::string_view key) const { return prefix_ + std::string(key); }
  std::vector<std::pair<std::string, std::string>> strip(
      std::vector<std::pair<std::string, std::string>> entries) const {
    for (auto& [key, value] : entries) key.erase(0, prefix_.size());
    return entries;
  }

  std::shared_ptr<KVStore> inner_;
  std::string prefix_;
};

}  // namespace

std::string KVStore::update(std::string_view key, const UpdateFn& fn,
                            std::optional<Clock::time_point> expiration) {
  return update_entry(key, [&](const std::optional<std::string>& current) {
    std::optional<std::string> value = fn(current);
    return value ? std::optional<StoredValue>(StoredValue{std::move(*value), expiration})
                 : std::nullopt;
  });
}

std::string KVStore::update_entry(std::string_view, const UpdateEntryFn&) {
  throw StorageError("this kvstore does not support atomic updates");
}

std::unique_ptr<KVStore> make_memory_kvstore() {
  return std::make_unique<MemoryKVStore>();
}

std::unique_ptr<KVStore> make_namespaced_kvstore(std::shared_ptr<KVStore> inner,
                                                 std::string name_space) {
  return std::make_unique<NamespacedKVStore>(std::move(inner), std::move(name_space));
}

}  // namespace llama_stack::storage
