#include "core/storage/group_commit.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <future>
#include <latch>
#include <mutex>
#include <numeric>
#include <set>
#include <thread>
#include <vector>

#include "support/counting_kvstore.h"
#include "support/stub_kvstore.h"
#include "support/temp_dir.h"

namespace llama_stack::storage {
namespace {

using ::llama_stack::testing::CountingKVStore;
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
  auto store = std::make_shared<CountingKVStore>(open_sqlite_kvstore(dir.file("kv.db")));
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
  // Every write ran inside a committed transaction, never more than one
  // transaction per write.
  const std::vector<std::size_t> batches = store->batches();
  EXPECT_EQ(std::accumulate(batches.begin(), batches.end(), std::size_t{0}),
            static_cast<std::size_t>(kThreads * kPerThread));
  EXPECT_LE(batches.size(), static_cast<std::size_t>(kThreads * kPerThread));
}

// Holds the writer thread inside a batch (an operation that waits) until
// released: everything submitted meanwhile waits in the queue. Released at
// the latest when it goes, so a failing test cannot hang the committer.
class Gate {
 public:
  explicit Gate(GroupCommitter& committer) {
    auto running = std::make_shared<std::promise<void>>();
    std::future<void> started = running->get_future();
    std::shared_future<void> released = release_.get_future().share();
    committer.submit(
        [running, released] {
          running->set_value();
          released.wait();
        },
        nullptr);
    started.wait();
  }
  ~Gate() { release(); }
  Gate(const Gate&) = delete;
  Gate& operator=(const Gate&) = delete;

  void release() {
    if (!released_) release_.set_value();
    released_ = true;
  }

 private:
  std::promise<void> release_;
  bool released_ = false;
};

// Writers submit from many threads while a commit is in progress: their
// writes form one batch, one commit, and each is acknowledged only once it
// is durable (visible to another connection to the database).
TEST(GroupCommitter, WritesQueuedDuringACommitShareTheNextCommit) {
  TempDir dir;
  auto store = std::make_shared<CountingKVStore>(open_sqlite_kvstore(dir.file("kv.db")));
  auto reader = open_sqlite_kvstore(dir.file("kv.db"));  // a second connection
  constexpr int kWriters = 8;
  constexpr int kPerWriter = 50;  // 400 writes, under max_batch
  constexpr int kWrites = kWriters * kPerWriter;
  std::mutex mutex;
  std::set<std::int64_t> counts;
  std::vector<std::string> seen_by_reader;
  int errors = 0;
  std::latch acknowledged(kWrites);
  {
    GroupCommitter committer(store);
    Gate gate(committer);
    std::vector<std::thread> writers;
    std::latch go(kWriters);
    for (int w = 0; w < kWriters; ++w) {
      writers.emplace_back([&, w] {
        go.arrive_and_wait();
        for (int i = 0; i < kPerWriter; ++i) {
          const std::string key = "w:" + std::to_string(w) + ":" + std::to_string(i);
          auto count = std::make_shared<std::int64_t>(0);
          committer.submit(
              [&store, key, count] {
                *count = store->increment("hits", 1);
                store->set(key, "written");
              },
              [&, key, count](std::exception_ptr error) {
                // On the writer thread, after the commit.
                const auto hits = reader->get("hits");
                const auto mine = reader->get(key);
                {
                  std::lock_guard lock(mutex);
                  if (error || mine != "written") ++errors;
                  counts.insert(*count);
                  seen_by_reader.push_back(hits.value_or("none"));
                }
                acknowledged.count_down();
              });
        }
      });
    }
    for (auto& writer : writers) writer.join();
    EXPECT_EQ(store->commits(), 0u) << "committed while the gate was held";
    gate.release();
    acknowledged.wait();
  }
  // The gate's batch, then one batch of every write (increment + set each).
  EXPECT_EQ(store->batches(), (std::vector<std::size_t>{0, 2 * kWrites}));
  EXPECT_EQ(errors, 0);
  ASSERT_EQ(counts.size(), static_cast<std::size_t>(kWrites));
  EXPECT_EQ(*counts.begin(), 1);
  EXPECT_EQ(*counts.rbegin(), kWrites);
  // Acknowledged after the whole batch committed: even the first write of
  // the batch was acknowledged when the last one was already durable.
  ASSERT_EQ(seen_by_reader.size(), static_cast<std::size_t>(kWrites));
  for (const std::string& hits : seen_by_reader) EXPECT_EQ(hits, std::to_string(kWrites));
  EXPECT_EQ(reader->get("hits"), std::to_string(kWrites));
}

TEST(GroupCommitter, BatchesAreCappedAtMaxBatchInSubmissionOrder) {
  auto store = std::make_shared<CountingKVStore>(make_memory_kvstore());
  std::vector<int> order;
  {
    GroupCommitter committer(store, /*max_batch=*/16);
    Gate gate(committer);
    for (int i = 0; i < 40; ++i) {
      committer.submit(
          [&store, &order, i] {
            order.push_back(i);  // writer thread only
            store->increment("n", 1);
          },
          nullptr);
    }
    gate.release();
  }  // the destructor runs what is queued
  EXPECT_EQ(store->batches(), (std::vector<std::size_t>{0, 16, 16, 8}));
  std::vector<int> expected(40);
  std::iota(expected.begin(), expected.end(), 0);
  EXPECT_EQ(order, expected);
  EXPECT_EQ(store->get("n"), "40");
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

// Fails the commit of its second transaction only.
class SecondCommitFails : public ::llama_stack::testing::StubKVStore {
 public:
  void transaction(const std::function<void()>& body) override {
    body();
    if (++transactions == 2) throw StorageError("disk full");
  }
  std::atomic<int> transactions{0};
};

TEST(GroupCommitter, AFailedCommitFailsItsWholeBatchAndTheNextBatchCommits) {
  auto store = std::make_shared<SecondCommitFails>();
  std::mutex mutex;
  std::vector<std::string> outcomes(5);
  std::latch reported(5);
  GroupCommitter committer(store);
  {
    Gate gate(committer);
    for (int i = 0; i < 5; ++i) {
      committer.submit([] {},
                       [&, i](std::exception_ptr error) {
                         std::lock_guard lock(mutex);
                         outcomes[static_cast<std::size_t>(i)] =
                             error ? error_message(error) : "ok";
                         reported.count_down();
                       });
    }
  }  // released: the five run as the second batch, whose commit fails
  reported.wait();
  EXPECT_EQ(outcomes, std::vector<std::string>(5, "disk full"));

  std::promise<std::string> later;
  committer.submit(
      [] {},
      [&](std::exception_ptr error) { later.set_value(error ? error_message(error) : "ok"); });
  EXPECT_EQ(later.get_future().get(), "ok");
  EXPECT_EQ(store->transactions.load(), 3);
}

// A store that says when it goes (with the committer's writer state).
class SignallingStore : public ::llama_stack::testing::StubKVStore {
 public:
  explicit SignallingStore(std::promise<void>& gone) : gone_(gone) {}
  ~SignallingStore() override { gone_.set_value(); }

 private:
  std::promise<void>& gone_;
};

// The last owner of a shared committer may go inside a Done callback, on the
// writer thread itself (the rate-limit filter's committer is owned by every
// pending request's settle_tokens, and a request can die there): the
// committer still runs what is queued, then stops, without joining itself.
TEST(GroupCommitter, ItsLastOwnerMayReleaseItOnTheWriterThread) {
  std::promise<void> store_gone;
  auto committer = std::make_shared<GroupCommitter>(std::make_shared<SignallingStore>(store_gone));
  Gate gate(*committer);  // so that the callback below holds the last reference
  std::promise<std::thread::id> second_ran;
  std::thread::id writer_thread;
  committer->submit(
      [] {},
      [&, owner = committer](std::exception_ptr) mutable {
        writer_thread = std::this_thread::get_id();
        owner->submit(
            [] {}, [&](std::exception_ptr) { second_ran.set_value(std::this_thread::get_id()); });
        owner.reset();  // the last owner: the committer goes here, on its writer thread
      });
  committer.reset();
  gate.release();
  auto ran = second_ran.get_future();
  ASSERT_EQ(ran.wait_for(std::chrono::seconds(30)), std::future_status::ready);
  EXPECT_EQ(ran.get(), writer_thread);
  auto gone = store_gone.get_future();
  ASSERT_EQ(gone.wait_for(std::chrono::seconds(30)), std::future_status::ready);
}

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
