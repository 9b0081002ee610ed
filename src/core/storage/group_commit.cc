#include "core/storage/group_commit.h"

#include <vector>

#include "core/log/log.h"

namespace llama_stack::storage {

std::string error_message(const std::exception_ptr& error) {
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& e) {
    return e.what();
  } catch (...) {
    return "unknown error";
  }
}

GroupCommitter::GroupCommitter(std::shared_ptr<KVStore> store, std::size_t max_batch)
    : store_(std::move(store)), max_batch_(std::max<std::size_t>(max_batch, 1)) {
  writer_ = std::thread([this] { run(); });
}

GroupCommitter::~GroupCommitter() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  writer_.join();
}

void GroupCommitter::submit(std::function<void()> op, Done done) {
  {
    std::lock_guard lock(mutex_);
    queue_.push_back(Work{std::move(op), std::move(done), nullptr});
  }
  wake_.notify_one();
}

void GroupCommitter::run() {
  std::vector<Work> batch;
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, and nothing left
      while (!queue_.empty() && batch.size() < max_batch_) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    try {
      store_->transaction([&] {
        for (Work& work : batch) {
          try {
            work.op();
          } catch (...) {
            work.error = std::current_exception();
          }
        }
      });
    } catch (...) {
      // Nothing of the batch is stored: every operation failed.
      const std::exception_ptr error = std::current_exception();
      for (Work& work : batch) work.error = error;
    }
    for (Work& work : batch) {
      if (!work.done) continue;
      try {
        work.done(work.error);
      } catch (const std::exception& e) {
        LS_ERROR(kCore, "group commit callback threw: {}", e.what());
      }
    }
    batch.clear();
  }
}

}  // namespace llama_stack::storage
