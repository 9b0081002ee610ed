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
// Thread-safety: submit() from any thread. Callbacks run on the writer thread.
#pragma once

#include <condition_variable>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

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

  explicit GroupCommitter(std::shared_ptr<KVStore> store, std::size_t max_batch = 512);
  // Runs what is queued, then stops.
  ~GroupCommitter();
  GroupCommitter(const GroupCommitter&) = delete;
  GroupCommitter& operator=(const GroupCommitter&) = delete;

  // `op` runs on the writer thread inside the batch's transaction; it uses
  // the store given at construction. `done` runs after the commit.
  void submit(std::function<void()> op, Done done);

  KVStore& store() { return *store_; }

 private:
  struct Work {
    std::function<void()> op;
    Done done;
    std::exception_ptr error;
  };
  void run();

  std::shared_ptr<KVStore> store_;
  const std::size_t max_batch_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Work> queue_;  // guarded by mutex_
  bool stopping_ = false;   // guarded by mutex_
  std::thread writer_;
};

}  // namespace llama_stack::storage
