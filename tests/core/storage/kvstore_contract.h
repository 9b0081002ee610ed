// The KVStore contract: every backend (memory, SQLite, PostgreSQL, Redis)
// passes these. A test binary includes this file and instantiates
// KVStoreContract with factories of fresh, empty stores:
//
//   INSTANTIATE_TEST_SUITE_P(Backends, KVStoreContract,
//                            ::testing::Values(StoreFactory{"Sqlite", [] { ... }}),
//                            StoreFactory::name);
#pragma once

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "llama_stack/storage/kvstore.h"

namespace llama_stack::storage::contract {

struct StoreFactory {
  std::string label;
  std::function<std::unique_ptr<KVStore>()> make;
  static std::string name(const ::testing::TestParamInfo<StoreFactory>& info) {
    return info.param.label;
  }
};

class KVStoreContract : public ::testing::TestWithParam<StoreFactory> {
 protected:
  void SetUp() override { store_ = GetParam().make(); }
  std::unique_ptr<KVStore> store_;
};

// Increments the "n" field of a JSON object: a read-modify-write that is only
// exact if update() is atomic.
inline std::optional<std::string> bump_json(const std::optional<std::string>& current) {
  std::int64_t n = current ? boost::json::parse(*current).as_object().at("n").as_int64() : 0;
  return boost::json::serialize(boost::json::object{{"n", n + 1}});
}

inline std::int64_t json_count(KVStore& store, std::string_view key) {
  auto value = store.get(key);
  return value ? boost::json::parse(*value).as_object().at("n").as_int64() : 0;
}

TEST_P(KVStoreContract, SetGetRemove) {
  EXPECT_FALSE(store_->get("a").has_value());
  store_->set("a", "1");
  store_->set("a", "2");
  EXPECT_EQ(store_->get("a"), "2");
  store_->remove("a");
  EXPECT_FALSE(store_->get("a").has_value());
  store_->remove("never-there");
}

TEST_P(KVStoreContract, BinarySafeValues) {
  const std::string value("a\0b\xff", 4);
  store_->set("bin", value);
  EXPECT_EQ(store_->get("bin"), value);
}

TEST_P(KVStoreContract, RangeAndPrefixAreOrdered) {
  store_->set("p:b", "2");
  store_->set("p:a", "1");
  store_->set("p%:x", "literal percent");
  store_->set("q:a", "3");
  auto prefix = store_->scan_prefix("p:");
  ASSERT_EQ(prefix.size(), 2u);
  EXPECT_EQ(prefix[0].first, "p:a");
  EXPECT_EQ(prefix[1].first, "p:b");
  EXPECT_EQ(store_->scan_prefix("p%").size(), 1u);  // no LIKE wildcard leaks
  auto range = store_->range("p:a", "q:a");
  EXPECT_EQ(range.size(), 3u);  // "p%:x" sorts before "p:a"
}

TEST_P(KVStoreContract, ExpirationIsHonouredOnRead) {
  store_->set("old", "x", Clock::now() - std::chrono::seconds(1));
  store_->set("new", "y", Clock::now() + std::chrono::hours(1));
  EXPECT_FALSE(store_->get("old").has_value());
  EXPECT_EQ(store_->get("new"), "y");
  EXPECT_EQ(store_->scan_prefix("").size(), 1u);
  EXPECT_EQ(store_->purge_expired(), 1u);
}

TEST_P(KVStoreContract, IncrementStartsAtZeroAndRestartsAfterExpiry) {
  EXPECT_EQ(store_->increment("c", 1), 1);
  EXPECT_EQ(store_->increment("c", 5), 6);
  store_->set("e", "41", Clock::now() - std::chrono::seconds(1));
  EXPECT_EQ(store_->increment("e", 1, Clock::now() + std::chrono::hours(1)), 1);
  EXPECT_EQ(store_->increment("e", 1), 2);
}

TEST_P(KVStoreContract, IncrementIsExactUnderConcurrency) {
  constexpr int kThreads = 8;
  constexpr int kPerThread = 200;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kPerThread; ++i) store_->increment("counter", 1);
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(store_->get("counter"), std::to_string(kThreads * kPerThread));
}

TEST_P(KVStoreContract, UpdateWritesReturnsAndDeletes) {
  EXPECT_EQ(store_->update("u",
                           [](const auto& current) {
                             EXPECT_FALSE(current.has_value());
                             return std::optional<std::string>("1");
                           }),
            "1");
  EXPECT_EQ(store_->update("u", [](const auto& current) { return *current + "2"; }), "12");
  EXPECT_EQ(store_->get("u"), "12");
  EXPECT_EQ(store_->update("u", [](const auto&) { return std::optional<std::string>(); }), "");
  EXPECT_FALSE(store_->get("u").has_value());
  // Deleting an absent key is fine.
  EXPECT_EQ(store_->update("u", [](const auto&) { return std::optional<std::string>(); }), "");
}

TEST_P(KVStoreContract, UpdateSeesExpiredAsAbsentAndSetsExpiration) {
  store_->set("e", "old", Clock::now() - std::chrono::seconds(1));
  store_->update(
      "e",
      [](const auto& current) {
        EXPECT_FALSE(current.has_value());
        return std::optional<std::string>("gone soon");
      },
      Clock::now() - std::chrono::milliseconds(1));
  EXPECT_FALSE(store_->get("e").has_value());
  store_->update(
      "e", [](const auto&) { return std::optional<std::string>("kept"); },
      Clock::now() + std::chrono::hours(1));
  EXPECT_EQ(store_->get("e"), "kept");
  EXPECT_EQ(store_->purge_expired(), 0u);
}

TEST_P(KVStoreContract, UpdateEntryLetsTheFunctionChooseExpiration) {
  store_->update_entry("x", [](const auto&) {
    return std::optional<StoredValue>(
        StoredValue{"short", Clock::now() - std::chrono::milliseconds(1)});
  });
  EXPECT_FALSE(store_->get("x").has_value());
  store_->update_entry("x", [](const auto&) {
    return std::optional<StoredValue>(StoredValue{"long", std::nullopt});
  });
  EXPECT_EQ(store_->get("x"), "long");
}

TEST_P(KVStoreContract, UpdateThatThrowsWritesNothing) {
  store_->set("t", "before");
  EXPECT_THROW(store_->update("t",
                              [](const auto&) -> std::optional<std::string> {
                                throw std::runtime_error("refused");
                              }),
               std::runtime_error);
  EXPECT_EQ(store_->get("t"), "before");
  // The store is still usable (no transaction left open).
  EXPECT_EQ(store_->update("t", [](const auto&) { return std::optional<std::string>("after"); }),
            "after");
}

TEST_P(KVStoreContract, UpdateIsExactUnderConcurrency) {
  constexpr int kThreads = 8;
  constexpr int kPerThread = 200;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kPerThread; ++i) store_->update("json", bump_json);
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(json_count(*store_, "json"), kThreads * kPerThread);
}

TEST_P(KVStoreContract, NamespacesIsolateKeys) {
  std::shared_ptr<KVStore> shared = std::move(store_);
  auto a = make_namespaced_kvstore(shared, "a");
  auto b = make_namespaced_kvstore(shared, "b");
  a->set("k", "1");
  b->set("k", "2");
  EXPECT_EQ(a->get("k"), "1");
  EXPECT_EQ(b->get("k"), "2");
  EXPECT_EQ(shared->get("a:k"), "1");
  auto listed = a->scan_prefix("");
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0].first, "k");
  EXPECT_EQ(a->update("k", [](const auto& current) { return *current + "+"; }), "1+");
  EXPECT_EQ(shared->get("a:k"), "1+");
  EXPECT_EQ(b->get("k"), "2");
}

}  // namespace llama_stack::storage::contract
