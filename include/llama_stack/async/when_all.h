// when_all: fan-out and fan-in. Starts every task at once (each runs on the
// awaiting thread up to its first suspension), resumes the awaiter when the
// last one finishes — on the thread that finished it — with the results in
// the order of the tasks. If any task threw, the first exception (in task
// order) is rethrown after all have finished: nothing is left running.
#pragma once

#include <atomic>
#include <exception>
#include <memory>
#include <optional>
#include <vector>

#include "llama_stack/async/spawn.h"
#include "llama_stack/async/task.h"

namespace llama_stack::async {

namespace detail {

template <class T>
struct WhenAllState {
  explicit WhenAllState(std::size_t n) : remaining(n + 1), values(n), errors(n) {}
  std::atomic<std::size_t> remaining;  // tasks + the awaiter's own arrival
  std::vector<std::optional<T>> values;
  std::vector<std::exception_ptr> errors;
  std::coroutine_handle<> awaiter;

  void arrive() {
    if (remaining.fetch_sub(1, std::memory_order_acq_rel) == 1) awaiter.resume();
  }
};

}  // namespace detail

template <class T>
Task<std::vector<T>> when_all(std::vector<Task<T>> tasks) {
  using State = detail::WhenAllState<T>;
  auto state = std::make_shared<State>(tasks.size());
  struct Awaiter {
    std::shared_ptr<State> state;
    std::vector<Task<T>>* tasks;
    bool await_ready() const noexcept { return false; }
    bool await_suspend(std::coroutine_handle<> awaiting) {
      state->awaiter = awaiting;
      for (std::size_t i = 0; i < tasks->size(); ++i) {
        auto s = state;
        detail::run_detached(std::move((*tasks)[i]), [s, i](T* value, std::exception_ptr error) {
          if (error) {
            s->errors[i] = error;
          } else {
            s->values[i].emplace(std::move(*value));
          }
          s->arrive();
        });
      }
      // Our own arrival: suspend unless every task already finished.
      return state->remaining.fetch_sub(1, std::memory_order_acq_rel) != 1;
    }
    void await_resume() const noexcept {}
  };
  // A named awaiter: GCC 12 mishandles temporaries with destructors in a
  // co_await expression.
  Awaiter awaiter{state, &tasks};
  co_await awaiter;
  for (auto& error : state->errors) {
    if (error) std::rethrow_exception(error);
  }
  std::vector<T> results;
  results.reserve(state->values.size());
  for (auto& value : state->values) results.push_back(std::move(*value));
  co_return results;
}

// The same for tasks without a result.
inline Task<void> when_all(std::vector<Task<void>> tasks) {
  struct State {
    explicit State(std::size_t n) : remaining(n + 1), errors(n) {}
    std::atomic<std::size_t> remaining;
    std::vector<std::exception_ptr> errors;
    std::coroutine_handle<> awaiter;
  };
  auto state = std::make_shared<State>(tasks.size());
  struct Awaiter {
    std::shared_ptr<State> state;
    std::vector<Task<void>>* tasks;
    bool await_ready() const noexcept { return false; }
    bool await_suspend(std::coroutine_handle<> awaiting) {
      state->awaiter = awaiting;
      for (std::size_t i = 0; i < tasks->size(); ++i) {
        auto s = state;
        detail::run_detached(std::move((*tasks)[i]), [s, i](std::exception_ptr error) {
          s->errors[i] = error;
          if (s->remaining.fetch_sub(1, std::memory_order_acq_rel) == 1) s->awaiter.resume();
        });
      }
      return state->remaining.fetch_sub(1, std::memory_order_acq_rel) != 1;
    }
    void await_resume() const noexcept {}
  };
  // A named awaiter: GCC 12 mishandles temporaries with destructors in a
  // co_await expression.
  Awaiter awaiter{state, &tasks};
  co_await awaiter;
  for (auto& error : state->errors) {
    if (error) std::rethrow_exception(error);
  }
}

}  // namespace llama_stack::async
