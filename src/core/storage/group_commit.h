// GroupCommitter: runs a store's writes on one writer thread, many per
// transaction (group commit). A burst of N concurrent requests costs one
// commit instead of N, and no I/O thread ever waits on the disk: callers
// get their result in a callback.
//
// Each operation still runs on its own, in submission order, so what it
// computes (a counter's new value, a rate-limit decision) is exactly what it
// would be without batching — across processes too, since a batch is one
// SQLite write transaction.
//
// Thread-safety: submit() from any thread. Callbacks run on a writer thread.
// The committer may be destroyed on its own writer thread (its last
// shared_ptr released by a Done callback or what it captured): it then lets
// the thread run what is queued and stop on its own instead of joining it.
#pragma once

#include <condition_variable>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "llama_stack/storage/kvstore.h"

namespace llama_stack::storage {

// The message of an error handed to a Done callback ("unknown error" when it
// is not a std::exception).
std::string error_message(const std::exception_ptr& error);

class GroupCommitter {
 public:
  // `done` gets null on success, or the operation's exception, or — when the
  // batch could not be committed — the commit's.
  using Done = std::function<void(std::exception_ptr error)>;

  // With a store whose concurrency() is above 1 (PostgreSQL, Redis), that
  // many writer threads each run one operation at a time instead: there is
  // no transaction to share, and round trips overlap.
  explicit GroupCommitter(std::shared_ptr<KVStore> store, std::size_t max_batch = 512);
  // Runs what is queued, then stops (joins the writer thread, unless called
  // on it).
  ~GroupCommitter();
  GroupCommitter(const GroupCommitter&) = delete;
  GroupCommitter& operator=(const GroupCommitter&) = delete;

  // `op` runs on the writer thread inside the batch's transaction; it uses
  // the store given at construction. `done` runs after the commit.
  void submit(std::function<void()> op, Done done);

  KVStore& store() { return *state_->store; }

 private:
  struct Work {
    std::function<void()> op;
    Done done;
    std::exception_ptr error;
  };
  // What the writer thread uses, owned by it too, so that it can finish
  // after the committer is gone.
  struct State {
    State(std::shared_ptr<KVStore> store, std::size_t max_batch)
        : store(std::move(store)), max_batch(max_batch) {}
    const std::shared_ptr<KVStore> store;
    const std::size_t max_batch;
    std::mutex mutex;
    std::condition_variable wake;
    std::deque<Work> queue;  // guarded by mutex
    bool stopping = false;   // guarded by mutex
  };
  static void run(const std::shared_ptr<State>& state);

  std::shared_ptr<State> state_;
  std::vector<std::thread> writers_;
};

}  // namespace llama_stack::storage
