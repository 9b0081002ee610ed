#include "llama_stack/storage/kvstore.h"
#include "core/storage/kvstore_contract.h"
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

using contract::bump_json;
using contract::json_count;
using contract::KVStoreContract;
using contract::StoreFactory;

// One folder for the SQLite files of every instantiated test.
TempDir& sqlite_dir() {
  static TempDir dir;
  return dir;
}

TEST(KVStore, StoresWithoutAtomicUpdatesSaySo) {
  class NoUpdateStore : public ::llama_stack::testing::StubKVStore {};
  NoUpdateStore store;
  EXPECT_THROW(store.update("k", bump_json), StorageError);
}

INSTANTIATE_TEST_SUITE_P(
    Backends, KVStoreContract,
    ::testing::Values(StoreFactory{"Memory", [] { return make_memory_kvstore(); }},
                      StoreFactory{"Sqlite",
                                   [] {
                                     static int n = 0;
                                     return open_sqlite_kvstore(sqlite_dir().file(
                                         "nested/dir/kv" + std::to_string(++n) + ".db"));
                                   }}),
    StoreFactory::name);

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
