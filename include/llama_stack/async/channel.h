// Channel<T>: values pushed from any thread (a provider's stream callbacks),
// taken one by one by a coroutine:
//
//   auto channel = std::make_shared<async::Channel<json::object>>(executor);
//   sink = [channel](json::object chunk) { channel->push(std::move(chunk)); };
//   ...
//   json::object chunk;
//   while (true) {
//     auto next = channel->pop(chunk);
//     if (!co_await next) break;  // closed and drained
//     ... use chunk ...
//   }
//
// Unbounded (the producer is never blocked; what it sends is bounded by the
// upstream answer). One consumer. The consumer resumes on `executor` —
// always posted, never inline inside push(), so a producer's callback never
// runs the consumer's code. Without an executor it resumes inside push() or
// close(), on the producer's thread.
//
// pop() moves the next value into a variable of the consumer's (reused from
// one value to the next) and its co_await yields whether there was one.
#pragma once

#include <coroutine>
#include <deque>
#include <mutex>
#include <utility>

#include "llama_stack/async/executor.h"

namespace llama_stack::async {

template <class T>
class Channel {
 public:
  explicit Channel(Executor* executor = nullptr) : executor_(executor) {}
  Channel(const Channel&) = delete;
  Channel& operator=(const Channel&) = delete;

  void push(T value) {
    std::coroutine_handle<> waiter;
    {
      std::lock_guard lock(mutex_);
      if (closed_) return;  // late values after close are dropped
      queue_.push_back(std::move(value));
      waiter = std::exchange(waiter_, {});
    }
    wake(waiter);
  }

  // No more values: pop() returns nullopt once the queue is drained.
  void close() {
    std::coroutine_handle<> waiter;
    {
      std::lock_guard lock(mutex_);
      closed_ = true;
      waiter = std::exchange(waiter_, {});
    }
    wake(waiter);
  }

  class Pop {
   public:
    Pop(Channel& channel, T& out) : channel_(channel), out_(out) {}
    bool await_ready() {
      ready_ = channel_.try_take(out_, got_);
      return ready_;
    }
    bool await_suspend(std::coroutine_handle<> awaiting) {
      std::lock_guard lock(channel_.mutex_);
      if (!channel_.queue_.empty() || channel_.closed_) return false;  // arrived meanwhile
      channel_.waiter_ = awaiting;
      return true;
    }
    // True: the next value is in `out`; false: closed and drained.
    bool await_resume() {
      if (!ready_) channel_.try_take(out_, got_);
      return got_;
    }

   private:
    Channel& channel_;
    T& out_;
    bool ready_ = false;
    bool got_ = false;
  };

  // Awaits the next value into `out` (see the file comment).
  Pop pop(T& out) { return Pop(*this, out); }

 private:
  // True when the awaiter may resume: a value (got = true) or the end.
  bool try_take(T& out, bool& got) {
    std::lock_guard lock(mutex_);
    if (!queue_.empty()) {
      out = std::move(queue_.front());
      queue_.pop_front();
      got = true;
      return true;
    }
    got = false;
    return closed_;
  }
  void wake(std::coroutine_handle<> waiter) {
    if (!waiter) return;
    if (executor_ != nullptr) {
      executor_->post([waiter] { waiter.resume(); });
    } else {
      waiter.resume();
    }
  }

  Executor* executor_;
  std::mutex mutex_;
  std::deque<T> queue_;
  bool closed_ = false;
  std::coroutine_handle<> waiter_;
};

}  // namespace llama_stack::async
