// Private to the transport TUs: the io_contexts behind an IoRuntime.
//
// One io_context per thread, like nginx's worker processes: a connection, the
// upstream requests its handler makes and the replies all run on the thread
// that accepted it, so a request never pays for a cross-thread wake-up.
#pragma once

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include <atomic>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

#include "core/runtime/io_runtime.h"

namespace llama_stack {

struct IoRuntime::Impl {
  using Guard = boost::asio::executor_work_guard<boost::asio::io_context::executor_type>;
  std::vector<std::unique_ptr<boost::asio::io_context>> contexts;
  std::vector<Guard> guards;
  std::vector<std::thread> threads;
  std::atomic<unsigned> next{0};

  // The io_context the calling thread runs, or null off the runtime's threads.
  static boost::asio::io_context*& current() {
    thread_local boost::asio::io_context* context = nullptr;
    return context;
  }
  // Round robin: where a new connection goes.
  boost::asio::io_context& pick() {
    return *contexts[next.fetch_add(1, std::memory_order_relaxed) % contexts.size()];
  }
  // Work started from a runtime thread stays on that thread.
  boost::asio::io_context& local() {
    if (auto* c = current()) {
      for (const auto& own : contexts) {
        if (own.get() == c) return *c;
      }
    }
    return pick();
  }
};

// The first io_context: acceptors, signals and shutdown timers live there.
inline boost::asio::io_context& primary_context_of(IoRuntime& runtime) {
  return *runtime.impl().contexts.front();
}

}  // namespace llama_stack
