// The one bridge from callback APIs (providers, HttpClient, GroupCommitter)
// to Tasks:
//
//   json::object response = co_await async::from_callback<json::object>(
//       executor, stop, [&](async::Resolver<json::object> resolve) -> async::CancelFn {
//         return provider.call(..., [resolve](auto r) { resolve.value(std::move(r)); });
//       });
//
// `start` begins the operation and returns a cancel function (or {}). The
// operation resolves once (value or error; later resolutions are ignored).
// The awaiting coroutine resumes on `executor` (inline when the resolution
// happens on it already; with no executor, on the resolving thread). When
// `stop` is requested while the operation runs, the cancel function is
// called (once, on the requesting thread); the operation is still expected
// to resolve (typically with a cancellation error).
#pragma once

#include <atomic>
#include <coroutine>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <stop_token>
#include <type_traits>
#include <utility>

#include "llama_stack/async/executor.h"

namespace llama_stack::async {

using CancelFn = std::function<void()>;

namespace detail {

struct Nothing {};

template <class T>
struct BridgeState {
  using Value = std::conditional_t<std::is_void_v<T>, Nothing, T>;
  std::optional<Value> value;
  std::exception_ptr error;
  std::atomic<bool> resolved{false};
  // Set by whichever comes second — the resolution or the suspension — and
  // that one resumes the coroutine.
  std::atomic<bool> arrived{false};
  std::coroutine_handle<> waiter;
  Executor* executor = nullptr;

  std::mutex cancel_mutex;
  CancelFn cancel;
  bool cancel_requested = false;

  void arrive() {
    if (!arrived.exchange(true, std::memory_order_acq_rel)) return;
    if (executor != nullptr && !executor->running_here()) {
      executor->post([h = waiter] { h.resume(); });
    } else {
      waiter.resume();
    }
  }
  void request_cancel() {
    CancelFn fn;
    {
      std::lock_guard lock(cancel_mutex);
      if (cancel_requested) return;
      cancel_requested = true;
      fn = cancel;
    }
    if (fn) fn();
  }
  void set_cancel(CancelFn fn) {
    bool call_now;
    {
      std::lock_guard lock(cancel_mutex);
      cancel = fn;
      call_now = cancel_requested;
    }
    if (call_now && fn) fn();
  }
};

}  // namespace detail

// The completion side handed to the operation. Copyable; thread-safe.
template <class T>
class Resolver {
 public:
  explicit Resolver(std::shared_ptr<detail::BridgeState<T>> state) : state_(std::move(state)) {}

  template <class U = T, class = std::enable_if_t<!std::is_void_v<U>>>
  void value(U result) const {
    if (state_->resolved.exchange(true)) return;
    state_->value.emplace(std::move(result));
    state_->arrive();
  }
  template <class U = T, class = std::enable_if_t<std::is_void_v<U>>>
  void done() const {
    if (state_->resolved.exchange(true)) return;
    state_->value.emplace();
    state_->arrive();
  }
  void error(std::exception_ptr error) const {
    if (state_->resolved.exchange(true)) return;
    state_->error = std::move(error);
    state_->arrive();
  }
  template <class E>
  void fail(E error) const {
    this->error(std::make_exception_ptr(std::move(error)));
  }

 private:
  std::shared_ptr<detail::BridgeState<T>> state_;
};

template <class T, class Start>
class CallbackAwaiter {
 public:
  CallbackAwaiter(Executor* executor, std::stop_token stop, Start start)
      : state_(std::make_shared<detail::BridgeState<T>>()),
        stop_(std::move(stop)),
        start_(std::move(start)) {
    state_->executor = executor;
  }

  bool await_ready() const noexcept { return false; }
  bool await_suspend(std::coroutine_handle<> awaiting) {
    state_->waiter = awaiting;
    if (stop_.stop_possible()) on_stop_.emplace(stop_, OnStop{state_});
    try {
      state_->set_cancel(start_(Resolver<T>(state_)));
    } catch (...) {
      if (!state_->resolved.exchange(true)) {
        // The throw is the result; a resolution arriving later does nothing.
        state_->error = std::current_exception();
        state_->arrived.store(true);
        return false;
      }
      // The operation resolved before `start` threw: that result stands.
    }
    return !state_->arrived.exchange(true, std::memory_order_acq_rel);
  }
  T await_resume() {
    on_stop_.reset();
    if (state_->error) std::rethrow_exception(state_->error);
    if constexpr (!std::is_void_v<T>) return std::move(*state_->value);
  }

 private:
  struct OnStop {
    std::shared_ptr<detail::BridgeState<T>> state;
    void operator()() const { state->request_cancel(); }
  };
  std::shared_ptr<detail::BridgeState<T>> state_;
  std::stop_token stop_;
  Start start_;
  std::optional<std::stop_callback<OnStop>> on_stop_;
};

// Awaitable over a callback operation; see the file comment.
template <class T, class Start>
CallbackAwaiter<T, Start> from_callback(Executor* executor, std::stop_token stop, Start start) {
  return CallbackAwaiter<T, Start>(executor, std::move(stop), std::move(start));
}

}  // namespace llama_stack::async
