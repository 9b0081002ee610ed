// Executor: where a continuation runs. The HTTP layer gives each call the
// executor of its connection's I/O thread (so a call's upstream requests and
// its response stay on one thread); background work uses a worker pool.
//
// Thread-safety: post() and running_here() may be called from any thread.
#pragma once

#include <functional>

namespace llama_stack::async {

class Executor {
 public:
  virtual ~Executor() = default;
  // Runs `work` on this executor's thread(s). Executors that own threads
  // queue it and return; InlineExecutor runs it at once.
  virtual void post(std::function<void()> work) = 0;
  // True when the calling thread is one of this executor's: a continuation
  // may then run inline instead of being posted.
  virtual bool running_here() const = 0;

  // Runs `work` now when on this executor, else posts it.
  void dispatch(std::function<void()> work) {
    if (running_here()) {
      work();
    } else {
      post(std::move(work));
    }
  }
};

// Runs everything inline, on the calling thread (tests, startup code).
class InlineExecutor final : public Executor {
 public:
  void post(std::function<void()> work) override { work(); }
  bool running_here() const override { return true; }
};

}  // namespace llama_stack::async
