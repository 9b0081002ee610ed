// The process's I/O event loop and its threads, shared by the HTTP server
// and the upstream HTTP client. Asio stays behind this interface; transport
// translation units reach the io_context through transport/asio_access.h.
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
  // Lets queued work finish briefly, then stops and joins the threads. Idempotent.
  void stop();
  int thread_count() const;

  struct Impl;
  Impl& impl() { return *impl_; }

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace llama_stack
