// start(): run a Task now, in the background, and await its result later.
// What lets a shield check run alongside the generation it guards, or an
// agent start several tool calls and collect them one by one:
//
//   auto check = async::start(check_input(...), context.executor);
//   auto answer = async::start(generate(...), context.executor);
//   Verdict verdict = co_await check.join();   // generation keeps going
//
// The task runs on the calling thread up to its first suspension. join()
// resumes the awaiter when it has finished — on `executor` when one is given
// (posted unless already there), else on the finishing thread. join() has
// one awaiter and may be called once. A Started that is never joined still
// runs to the end (it is detached); whatever its task references must then
// outlive it, so join every Started you create.
#pragma once

#include <atomic>
#include <coroutine>
#include <exception>
#include <memory>
#include <optional>
#include <type_traits>

#include "llama_stack/async/executor.h"
#include "llama_stack/async/spawn.h"
#include "llama_stack/async/task.h"

namespace llama_stack::async {

namespace detail {

template <class T>
struct StartedState {
  using Value = std::conditional_t<std::is_void_v<T>, char, T>;
  std::optional<Value> value;
  std::exception_ptr error;
  // Set by whichever comes second — the task finishing or the joiner
  // suspending — and that one resumes the joiner.
  std::atomic<bool> arrived{false};
  std::atomic<bool> finished{false};
  std::coroutine_handle<> waiter;
  Executor* executor = nullptr;

  void arrive() {
    if (!arrived.exchange(true, std::memory_order_acq_rel)) return;
    if (executor != nullptr && !executor->running_here()) {
      executor->post([h = waiter] { h.resume(); });
    } else {
      waiter.resume();
    }
  }
};

}  // namespace detail

template <class T>
class Started {
 public:
  explicit Started(std::shared_ptr<detail::StartedState<T>> state) : state_(std::move(state)) {}

  // True once the task has finished (value or exception).
  bool finished() const { return state_->finished.load(std::memory_order_acquire); }

  class Join {
   public:
    explicit Join(std::shared_ptr<detail::StartedState<T>> state) : state_(std::move(state)) {}
    bool await_ready() const noexcept { return false; }
    bool await_suspend(std::coroutine_handle<> awaiting) noexcept {
      state_->waiter = awaiting;
      return !state_->arrived.exchange(true, std::memory_order_acq_rel);
    }
    T await_resume() {
      if (state_->error) std::rethrow_exception(state_->error);
      if constexpr (!std::is_void_v<T>) return std::move(*state_->value);
    }

   private:
    std::shared_ptr<detail::StartedState<T>> state_;
  };

  // The awaitable result (name it: `auto j = s.join(); co_await j;`).
  Join join() { return Join(state_); }

 private:
  std::shared_ptr<detail::StartedState<T>> state_;
};

template <class T>
Started<T> start(Task<T> task, Executor* executor = nullptr) {
  auto state = std::make_shared<detail::StartedState<T>>();
  state->executor = executor;
  if constexpr (std::is_void_v<T>) {
    detail::run_detached(std::move(task), [state](std::exception_ptr error) {
      state->error = error;
      state->finished.store(true, std::memory_order_release);
      state->arrive();
    });
  } else {
    detail::run_detached(std::move(task), [state](T* value, std::exception_ptr error) {
      if (error) {
        state->error = error;
      } else {
        state->value.emplace(std::move(*value));
      }
      state->finished.store(true, std::memory_order_release);
      state->arrive();
    });
  }
  return Started<T>(std::move(state));
}

}  // namespace llama_stack::async
