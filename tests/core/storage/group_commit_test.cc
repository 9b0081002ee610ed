#include "core/storage/group_commit.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <future>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "support/stub_kvstore.h"
#include "support/temp_dir.h"

namespace llama_stack::storage {
namespace {

using ::llama_stack::testing::TempDir;

TEST(SqliteKVStore, TransactionCommitsTogetherAndRollsBackOnThrow) {
  TempDir dir;
  auto store = open_sqlite_kvstore(dir.file("kv.db"));
  store->transaction([&] {
    EXPECT_EQ(store->increment("n", 1), 1);
    EXPECT_EQ(store->increment("n", 1), 2);  // sees the write before it
    store->update_entry("s", [](const std::optional<std::string>&) {
      return std::optional<StoredValue>(StoredValue{"kept", std::nullopt});
    });
  });
  EXPECT_EQ(store->get("n"), "2");
  EXPECT_EQ(store->get("s"), "kept");

  EXPECT_THROW(store->transaction([&] {
    store->increment("n", 5);
    store->set("t", "x");
    throw std::runtime_error("give up");
  }),
               std::runtime_error);
  EXPECT_EQ(store->get("n"), "2");  // nothing of the failed transaction stayed
  EXPECT_FALSE(store->get("t").has_value());
  EXPECT_EQ(store->increment("n", 1), 3);  // and the store still works
}

TEST(SqliteKVStore, FailedUpdateInsideATransactionKeepsTheOthers) {
  TempDir dir;
  auto store = open_sqlite_kvstore(dir.file("kv.db"));
  store->transaction([&] {
    store->increment("a", 1);
    EXPECT_THROW(
        store->update_entry("b",
                            [](const std::optional<std::string>&) -> std::optional<StoredValue> {
                              throw std::runtime_error("refused");
                            }),
        std::runtime_error);
    store->increment("a", 1);
  });
  EXPECT_EQ(store->get("a"), "2");
  EXPECT_FALSE(store->get("b").has_value());
}

// Every caller gets its own exact count, as if the increments ran one by one,
// while several threads submit at once and batches form.
TEST(GroupCommitter, ConcurrentIncrementsAreExactAndDistinct) {
  TempDir dir;
  std::shared_ptr<KVStore> store = open_sqlite_kvstore(dir.file("kv.db"));
  constexpr int kThreads = 4;
  constexpr int kPerThread = 250;
  std::mutex mutex;
  std::set<std::int64_t> seen;
  int errors = 0;
  {
    GroupCommitter committer(store);
    std::vector<std::thread> threads;
    std::vector<std::promise<void>> finished(kThreads * kPerThread);
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        for (int i = 0; i < kPerThread; ++i) {
          auto count = std::make_shared<std::int64_t>(0);
          auto& done = finished[static_cast<std::size_t>(t * kPerThread + i)];
          committer.submit([&store, count] { *count = store->increment("hits", 1); },
                           [&, count](std::exception_ptr error) {
                             std::lock_guard lock(mutex);
                             if (error) ++errors;
                             seen.insert(*count);
                             done.set_value();
                           });
        }
      });
    }
    for (auto& t : threads) t.join();
    for (auto& f : finished) f.get_future().wait();
  }
  EXPECT_EQ(errors, 0);
  ASSERT_EQ(seen.size(), static_cast<std::size_t>(kThreads * kPerThread));
  EXPECT_EQ(*seen.begin(), 1);
  EXPECT_EQ(*seen.rbegin(), kThreads * kPerThread);
  EXPECT_EQ(store->get("hits"), std::to_string(kThreads * kPerThread));
}

TEST(GroupCommitter, AnOperationThatThrowsFailsAloneAndTheDestructorDrains) {
  std::shared_ptr<KVStore> store = make_memory_kvstore();
  std::vector<bool> failed(3, false);
  {
    GroupCommitter committer(store);
    committer.submit([&] { store->increment("x", 1); },
                     [&](std::exception_ptr e) { failed[0] = e != nullptr; });
    committer.submit([] { throw StorageError("database is locked"); },
                     [&](std::exception_ptr e) { failed[1] = e != nullptr; });
    committer.submit([&] { store->increment("x", 1); },
                     [&](std::exception_ptr e) { failed[2] = e != nullptr; });
  }  // the destructor runs what is queued
  EXPECT_EQ(failed, (std::vector<bool>{false, true, false}));
  EXPECT_EQ(store->get("x"), "2");
}

// A store whose transactions cannot commit: every operation of the batch
// reports the failure (so a quota or rate-limit filter fails closed).
class UncommittableStore : public ::llama_stack::testing::StubKVStore {
 public:
  void transaction(const std::function<void()>& body) override {
    body();
    throw StorageError("disk full");
  }
};

TEST(GroupCommitter, ACommitFailureFailsEveryOperationOfTheBatch) {
  auto store = std::make_shared<UncommittableStore>();
  std::promise<std::string> message;
  GroupCommitter committer(store);
  committer.submit([&] { store->increment("k", 1, std::nullopt); },
                   [&](std::exception_ptr error) {
                     try {
                       if (error) std::rethrow_exception(error);
                       message.set_value("no error");
                     } catch (const StorageError& e) {
                       message.set_value(e.what());
                     }
                   });
  EXPECT_EQ(message.get_future().get(), "disk full");
}

}  // namespace
}  // namespace llama_stack::storage
