// The process's I/O event loops, one per thread, shared by the HTTP server
// and the upstream HTTP clients. A connection is served on one loop, and the
// upstream calls its requests make run on that same loop. Asio stays behind
// this interface; transport translation units reach the io_contexts through
// transport/asio_access.h.
//
// Thread-safety: start()/stop() from one thread; everything else is safe.
#pragma once

#include <memory>

namespace llama_stack {

class IoRuntime {
 public:
  // threads <= 0 → one per core.
  explicit IoRuntime(int threads = 0);
  ~IoRuntime();  // stops and joins
  IoRuntime(const IoRuntime&) = delete;
  IoRuntime& operator=(const IoRuntime&) = delete;

  // Starts the threads; work posted before start() waits for it.
  void start();
  // Stops the loops and joins the threads. Idempotent.
  void stop();
  int thread_count() const;

  struct Impl;
  Impl& impl() { return *impl_; }

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace llama_stack
