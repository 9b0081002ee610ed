// A KVStore that stores nothing: tests derive from it and override the one
// or two operations they are about (a failing increment, a failing commit).
#pragma once

#include "llama_stack/storage/kvstore.h"

namespace llama_stack::testing {

class StubKVStore : public storage::KVStore {
 public:
  std::optional<std::string> get(std::string_view) override { return std::nullopt; }
  void set(std::string_view, std::string_view, std::optional<storage::Clock::time_point>) override {
  }
  void remove(std::string_view) override {}
  std::vector<std::pair<std::string, std::string>> range(std::string_view,
                                                         std::string_view) override {
    return {};
  }
  std::vector<std::pair<std::string, std::string>> scan_prefix(std::string_view) override {
    return {};
  }
  std::int64_t increment(std::string_view, std::int64_t,
                         std::optional<storage::Clock::time_point>) override {
    return 0;
  }
  std::size_t purge_expired() override { return 0; }
};

}  // namespace llama_stack::testing
