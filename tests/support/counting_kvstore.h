// A KVStore that forwards everything to another store and counts what
// reaches it: transactions (one per GroupCommitter batch, i.e. one commit),
// the writes made inside each, and update_entry calls per key. Optionally
// fails every update_entry (a store that is down).
//
// Thread-safety: as the inner store; the counters have their own lock.
#pragma once

#include <cstddef>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "llama_stack/storage/kvstore.h"

namespace llama_stack::testing {

class CountingKVStore final : public storage::KVStore {
 public:
  explicit CountingKVStore(std::shared_ptr<storage::KVStore> inner) : inner_(std::move(inner)) {}

  std::optional<std::string> get(std::string_view key) override { return inner_->get(key); }
  void set(std::string_view key, std::string_view value,
           std::optional<storage::Clock::time_point> expiration = std::nullopt) override {
    wrote();
    inner_->set(key, value, expiration);
  }
  void remove(std::string_view key) override {
    wrote();
    inner_->remove(key);
  }
  std::vector<std::pair<std::string, std::string>> range(std::string_view start,
                                                         std::string_view end) override {
    return inner_->range(start, end);
  }
  std::vector<std::pair<std::string, std::string>> scan_prefix(std::string_view prefix) override {
    return inner_->scan_prefix(prefix);
  }
  std::int64_t increment(
      std::string_view key, std::int64_t delta,
      std::optional<storage::Clock::time_point> expiration = std::nullopt) override {
    wrote();
    return inner_->increment(key, delta, expiration);
  }
  std::string update(std::string_view key, const UpdateFn& fn,
                     std::optional<storage::Clock::time_point> expiration = std::nullopt) override {
    wrote();
    return inner_->update(key, fn, expiration);
  }
  std::string update_entry(std::string_view key, const UpdateEntryFn& fn) override {
    {
      std::lock_guard lock(mutex_);
      ++update_entries_[std::string(key)];
    }
    if (fail_updates) throw storage::StorageError("database is locked");
    wrote();
    return inner_->update_entry(key, fn);
  }
  void transaction(const std::function<void()>& body) override {
    {
      std::lock_guard lock(mutex_);
      ++open_transactions_;
      batch_writes_ = 0;
    }
    auto close = [this](bool committed) {
      std::lock_guard lock(mutex_);
      --open_transactions_;
      if (committed) batches_.push_back(batch_writes_);
    };
    try {
      inner_->transaction(body);
    } catch (...) {
      close(false);
      throw;
    }
    close(true);
  }
  std::size_t purge_expired() override { return inner_->purge_expired(); }
  void flush() override { inner_->flush(); }

  // Committed transactions, in order, each with the writes made inside it.
  std::vector<std::size_t> batches() const {
    std::lock_guard lock(mutex_);
    return batches_;
  }
  std::size_t commits() const { return batches().size(); }
  // update_entry calls for `key`.
  int update_entries(const std::string& key) const {
    std::lock_guard lock(mutex_);
    auto it = update_entries_.find(key);
    return it == update_entries_.end() ? 0 : it->second;
  }
  // update_entry calls for keys starting with `prefix`.
  int update_entries_with_prefix(const std::string& prefix) const {
    std::lock_guard lock(mutex_);
    int count = 0;
    for (const auto& [key, n] : update_entries_) {
      if (key.starts_with(prefix)) count += n;
    }
    return count;
  }

  bool fail_updates = false;  // set before use

 private:
  void wrote() {
    std::lock_guard lock(mutex_);
    if (open_transactions_ > 0) ++batch_writes_;
  }

  std::shared_ptr<storage::KVStore> inner_;
  mutable std::mutex mutex_;
  int open_transactions_ = 0;
  std::size_t batch_writes_ = 0;
  std::vector<std::size_t> batches_;
  std::map<std::string, int> update_entries_;
};

}  // namespace llama_stack::testing
