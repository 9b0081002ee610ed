#include "llama_stack/storage/kvstore.h"
#include "support/stub_kvstore.h"
#include "support/temp_dir.h"

#include <gtest/gtest.h>

#include <atomic>
#include <boost/json.hpp>
#include <filesystem>
#include <thread>

namespace llama_stack::storage {
namespace {

namespace fs = std::filesystem;

using ::llama_stack::testing::TempDir;

enum class Backend { kMemory, kSqlite };

class KVStoreTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    store_ = GetParam() == Backend::kMemory ? make_memory_kvstore()
                                            : open_sqlite_kvstore(dir_.file("nested/dir/kv.db"));
  }
  TempDir dir_;
  std::unique_ptr<KVStore> store_;
};

TEST_P(KVStoreTest, SetGetRemove) {
  EXPECT_FALSE(store_->get("a").has_value());
  store_->set("a", "1");
  store_->set("a", "2");
  EXPECT_EQ(store_->get("a"), "2");
  store_->remove("a");
  EXPECT_FALSE(store_->get("a").has_value());
  store_->remove("never-there");
}

TEST_P(KVStoreTest, BinarySafeValues) {
  const std::string value("a\0b\xff", 4);
  store_->set("bin", value);
  EXPECT_EQ(store_->get("bin"), value);
}

TEST_P(KVStoreTest, RangeAndPrefixAreOrdered) {
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

TEST_P(KVStoreTest, ExpirationIsHonouredOnRead) {
  store_->set("old", "x", Clock::now() - std::chrono::seconds(1));
  store_->set("new", "y", Clock::now() + std::chrono::hours(1));
  EXPECT_FALSE(store_->get("old").has_value());
  EXPECT_EQ(store_->get("new"), "y");
  EXPECT_EQ(store_->scan_prefix("").size(), 1u);
  EXPECT_EQ(store_->purge_expired(), 1u);
}

TEST_P(KVStoreTest, IncrementStartsAtZeroAndRestartsAfterExpiry) {
  EXPECT_EQ(store_->increment("c", 1), 1);
  EXPECT_EQ(store_->increment("c", 5), 6);
  store_->set("e", "41", Clock::now() - std::chrono::seconds(1));
  EXPECT_EQ(store_->increment("e", 1, Clock::now() + std::chrono::hours(1)), 1);
  EXPECT_EQ(store_->increment("e", 1), 2);
}

TEST_P(KVStoreTest, IncrementIsExactUnderConcurrency) {
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

// Increments the "n" field of a JSON object: a read-modify-write that is only
// exact if update() is atomic.
std::optional<std::string> bump_json(const std::optional<std::string>& current) {
  std::int64_t n = current ? boost::json::parse(*current).as_object().at("n").as_int64() : 0;
  return boost::json::serialize(boost::json::object{{"n", n + 1}});
}

std::int64_t json_count(KVStore& store, std::string_view key) {
  auto value = store.get(key);
  return value ? boost::json::parse(*value).as_object().at("n").as_int64() : 0;
}

TEST_P(KVStoreTest, UpdateWritesReturnsAndDeletes) {
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

TEST_P(KVStoreTest, UpdateSeesExpiredAsAbsentAndSetsExpiration) {
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

TEST_P(KVStoreTest, UpdateEntryLetsTheFunctionChooseExpiration) {
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

TEST_P(KVStoreTest, UpdateThatThrowsWritesNothing) {
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

TEST_P(KVStoreTest, UpdateIsExactUnderConcurrency) {
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

TEST_P(KVStoreTest, NamespacesIsolateKeys) {
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

TEST(KVStore, StoresWithoutAtomicUpdatesSaySo) {
  class NoUpdateStore : public ::llama_stack::testing::StubKVStore {};
  NoUpdateStore store;
  EXPECT_THROW(store.update("k", bump_json), StorageError);
}

INSTANTIATE_TEST_SUITE_P(Backends, KVStoreTest,
                         ::testing::Values(Backend::kMemory, Backend::kSqlite),
                         [](const auto& info) {
                           return info.param == Backend::kMemory ? "Memory" : "Sqlite";
                         });

TEST(SqliteKVStore, PersistsAcrossReopen) {
  TempDir dir;
  const std::string path = dir.file("kv.db");
  {
    auto store = open_sqlite_kvstore(path);
    store->set("model", "{\"x\":1}");
    store->increment("n", 3);
  }
  auto store = open_sqlite_kvstore(path);
  EXPECT_EQ(store->get("model"), "{\"x\":1}");
  EXPECT_EQ(store->increment("n", 1), 4);
}

TEST(SqliteKVStore, TwoHandlesOnOneFileCountExactly) {
  TempDir dir;
  const std::string path = dir.file("shared.db");
  auto first = open_sqlite_kvstore(path);
  auto second = open_sqlite_kvstore(path);
  std::thread t1([&] {
    for (int i = 0; i < 100; ++i) first->increment("c", 1);
  });
  std::thread t2([&] {
    for (int i = 0; i < 100; ++i) second->increment("c", 1);
  });
  t1.join();
  t2.join();
  EXPECT_EQ(first->get("c"), "200");
}

TEST(SqliteKVStore, TwoHandlesOnOneFileUpdateExactly) {
  TempDir dir;
  const std::string path = dir.file("shared-update.db");
  auto first = open_sqlite_kvstore(path);
  auto second = open_sqlite_kvstore(path);
  constexpr int kPerThread = 200;
  std::vector<std::thread> threads;
  for (KVStore* store : {first.get(), second.get(), first.get(), second.get()}) {
    threads.emplace_back([store] {
      for (int i = 0; i < kPerThread; ++i) store->update("json", bump_json);
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(json_count(*first, "json"), 4 * kPerThread);
  EXPECT_EQ(json_count(*second, "json"), 4 * kPerThread);
}

TEST(SqliteKVStore, UnwritableLocationIsAClearError) {
  try {
    open_sqlite_kvstore("/proc/definitely/not/here/kv.db");
    FAIL();
  } catch (const StorageError& e) {
    EXPECT_NE(std::string(e.what()).find("/proc/definitely/not/here"), std::string::npos);
  }
}

}  // namespace
}  // namespace llama_stack::storage
