// Task<T>: a lazy C++20 coroutine that produces one T (or throws), the one
// async composition layer of the server. Orchestration that waits on model
// servers, stores and tools (inference calls, shields, RAG, agent turns) is
// written as Tasks that co_await each other and read top to bottom.
//
// Rules (docs/architecture.md, "Async layer"):
//  - A Task does nothing until it is awaited or spawned (async/spawn.h), and
//    it has exactly one awaiter. Destroying a Task that never ran is fine.
//  - Awaiting a Task runs it on the awaiting thread up to its first real
//    suspension; when it finishes, its awaiter resumes on the thread that
//    finished it (symmetric transfer, no stack growth). Operations bridged
//    from callback APIs (async/bridge.h) resume on the CallContext's
//    Executor.
//  - Exceptions propagate: an exception thrown in a Task is rethrown by the
//    co_await that awaits it.
//  - Never write `cond ? co_await a : co_await b`: GCC 12 miscompiles
//    co_await inside the conditional operator (scripts/check-layers.sh
//    refuses it). Use if/else.
//  - co_await a named Task, not a call expression: `auto t = f(x, [..]{..});
//    co_await std::move(t);`. GCC 12 destroys the temporaries of a co_await
//    full-expression twice (a std::function made from a lambda argument, a
//    default argument), which corrupts the heap. scripts/check-layers.sh
//    checks src/ and include/.
//
// No Asio here: this header is included by routers and providers alike.
#pragma once

#include <coroutine>
#include <exception>
#include <optional>
#include <utility>

namespace llama_stack::async {

template <class T = void>
class Task;

namespace detail {

struct PromiseBase {
  std::coroutine_handle<> continuation = std::noop_coroutine();
  std::exception_ptr error;

  std::suspend_always initial_suspend() noexcept { return {}; }
  struct FinalAwaiter {
    bool await_ready() noexcept { return false; }
    template <class Promise>
    std::coroutine_handle<> await_suspend(std::coroutine_handle<Promise> self) noexcept {
      return self.promise().continuation;
    }
    void await_resume() noexcept {}
  };
  FinalAwaiter final_suspend() noexcept { return {}; }
  void unhandled_exception() noexcept { error = std::current_exception(); }
};

template <class T>
struct Promise : PromiseBase {
  std::optional<T> value;
  Task<T> get_return_object() noexcept;
  template <class U>
  void return_value(U&& result) {
    value.emplace(std::forward<U>(result));
  }
  T take() {
    if (error) std::rethrow_exception(error);
    return std::move(*value);
  }
};

template <>
struct Promise<void> : PromiseBase {
  Task<void> get_return_object() noexcept;
  void return_void() noexcept {}
  void take() {
    if (error) std::rethrow_exception(error);
  }
};

}  // namespace detail

template <class T>
class [[nodiscard]] Task {
 public:
  using promise_type = detail::Promise<T>;
  using Handle = std::coroutine_handle<promise_type>;
  using value_type = T;

  Task() = default;
  explicit Task(Handle handle) noexcept : handle_(handle) {}
  Task(Task&& other) noexcept : handle_(std::exchange(other.handle_, {})) {}
  Task& operator=(Task&& other) noexcept {
    if (this != &other) {
      if (handle_) handle_.destroy();
      handle_ = std::exchange(other.handle_, {});
    }
    return *this;
  }
  Task(const Task&) = delete;
  Task& operator=(const Task&) = delete;
  ~Task() {
    if (handle_) handle_.destroy();
  }

  bool valid() const noexcept { return static_cast<bool>(handle_); }

  // Awaiting starts the task; the awaiter resumes when it completes.
  bool await_ready() const noexcept { return false; }
  std::coroutine_handle<> await_suspend(std::coroutine_handle<> awaiting) noexcept {
    handle_.promise().continuation = awaiting;
    return handle_;
  }
  T await_resume() { return handle_.promise().take(); }

 private:
  Handle handle_;
};

namespace detail {
template <class T>
Task<T> Promise<T>::get_return_object() noexcept {
  return Task<T>(std::coroutine_handle<Promise<T>>::from_promise(*this));
}
inline Task<void> Promise<void>::get_return_object() noexcept {
  return Task<void>(std::coroutine_handle<Promise<void>>::from_promise(*this));
}
}  // namespace detail

}  // namespace llama_stack::async
