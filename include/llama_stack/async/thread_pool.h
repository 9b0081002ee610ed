// ThreadPool: an Executor with its own worker threads, for CPU-heavy or
// blocking work (vector search, index builds, SQLite reads of a provider)
// that must not run on an I/O thread. offload() runs a function there and
// resumes the awaiting coroutine on its own executor:
//
//   auto search = async::offload<Result>(*context.executor_or_null, pool,
//                                        [&] { return index.search(q); });
//   Result r = co_await search;
#pragma once

#include <condition_variable>
#include <deque>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <type_traits>
#include <vector>

#include "llama_stack/async/bridge.h"
#include "llama_stack/async/executor.h"

namespace llama_stack::async {

class ThreadPool final : public Executor {
 public:
  explicit ThreadPool(std::size_t threads) {
    if (threads == 0) threads = 1;
    for (std::size_t i = 0; i < threads; ++i) {
      threads_.emplace_back([this] { run(); });
    }
  }
  ~ThreadPool() override {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    ready_.notify_all();
    for (auto& t : threads_) t.join();
  }
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  void post(std::function<void()> work) override {
    {
      std::lock_guard lock(mutex_);
      queue_.push_back(std::move(work));
    }
    ready_.notify_one();
  }
  bool running_here() const override {
    for (const auto& t : threads_) {
      if (t.get_id() == std::this_thread::get_id()) return true;
    }
    return false;
  }
  std::size_t size() const { return threads_.size(); }

 private:
  void run() {
    while (true) {
      std::function<void()> work;
      {
        std::unique_lock lock(mutex_);
        ready_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
        if (queue_.empty()) return;  // stopping, and the queue is drained
        work = std::move(queue_.front());
        queue_.pop_front();
      }
      work();
    }
  }

  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<std::function<void()>> queue_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

// Runs `fn` on `pool` and yields its result (or rethrows what it threw),
// resuming on `resume_on` (null: on the pool thread). Name the awaiter.
template <class T, class Fn>
auto offload(Executor* resume_on, Executor& pool, Fn fn) {
  auto start = [&pool, fn = std::move(fn)](Resolver<T> resolve) mutable -> CancelFn {
    pool.post([resolve, fn = std::move(fn)]() mutable {
      try {
        if constexpr (std::is_void_v<T>) {
          fn();
          resolve.done();
        } else {
          resolve.value(fn());
        }
      } catch (...) {
        resolve.error(std::current_exception());
      }
    });
    return {};
  };
  return from_callback<T>(resume_on, {}, std::move(start));
}

}  // namespace llama_stack::async
