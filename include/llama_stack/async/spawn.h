// Starting a Task from code that is not a coroutine (a route handler, a
// callback): spawn() runs it and reports how it ended, exactly once.
#pragma once

#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <type_traits>

#include "llama_stack/async/executor.h"
#include "llama_stack/async/task.h"

namespace llama_stack::async {

namespace detail {

// A coroutine that starts at once and frees itself when it finishes.
struct Detached {
  struct promise_type {
    Detached get_return_object() noexcept { return {}; }
    std::suspend_never initial_suspend() noexcept { return {}; }
    std::suspend_never final_suspend() noexcept { return {}; }
    void return_void() noexcept {}
    void unhandled_exception() noexcept { std::terminate(); }
  };
};

// `done(error)` for Task<void>, `done(value_or_null, error)` otherwise.
template <class T, class Done>
Detached run_detached(Task<T> task, Done done) {
  std::exception_ptr error;
  if constexpr (std::is_void_v<T>) {
    try {
      co_await std::move(task);
    } catch (...) {
      error = std::current_exception();
    }
    done(error);
  } else {
    std::optional<T> value;
    try {
      value.emplace(co_await std::move(task));
    } catch (...) {
      error = std::current_exception();
    }
    done(value ? &*value : nullptr, error);
  }
}

}  // namespace detail

// Runs `task` now, on the calling thread, up to its first suspension; `done`
// gets nullptr or the exception it ended with (on the thread that finished
// it). `done` must not throw.
inline void spawn(Task<void> task, std::function<void(std::exception_ptr)> done = {}) {
  detail::run_detached(std::move(task), [done = std::move(done)](std::exception_ptr error) {
    if (done) done(error);
  });
}

// Same, but starts on `executor` (posted unless already running there).
inline void spawn(Executor& executor, Task<void> task,
                  std::function<void(std::exception_ptr)> done = {}) {
  auto holder = std::make_shared<Task<void>>(std::move(task));
  executor.dispatch(
      [holder, done = std::move(done)]() mutable { spawn(std::move(*holder), std::move(done)); });
}

}  // namespace llama_stack::async
