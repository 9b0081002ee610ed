// An executor a test drives by hand: post() queues (from any thread),
// drain() runs the queue on the calling thread; running_here() is true only
// on that thread while it drains.
#pragma once

#include <atomic>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

#include "llama_stack/async/executor.h"

namespace llama_stack::testing {

class ManualExecutor final : public async::Executor {
 public:
  void post(std::function<void()> work) override {
    std::lock_guard lock(mutex_);
    queue_.push_back(std::move(work));
  }
  bool running_here() const override { return runner_.load() == std::this_thread::get_id(); }
  // Runs queued work until none is left; returns how many ran.
  int drain() {
    int ran = 0;
    runner_.store(std::this_thread::get_id());
    while (true) {
      std::function<void()> work;
      {
        std::lock_guard lock(mutex_);
        if (queue_.empty()) break;
        work = std::move(queue_.front());
        queue_.pop_front();
      }
      work();
      ++ran;
    }
    runner_.store(std::thread::id());
    return ran;
  }
  std::size_t pending() const {
    std::lock_guard lock(mutex_);
    return queue_.size();
  }

 private:
  mutable std::mutex mutex_;
  std::deque<std::function<void()>> queue_;
  std::atomic<std::thread::id> runner_{};
};

}  // namespace llama_stack::testing
