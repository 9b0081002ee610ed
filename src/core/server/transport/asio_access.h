// Private to the transport TUs: the io_context behind an IoRuntime.
#pragma once

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include <optional>
#include <thread>
#include <vector>

#include "core/runtime/io_runtime.h"

namespace llama_stack {

struct IoRuntime::Impl {
  boost::asio::io_context ioc;
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> guard;
  std::vector<std::thread> threads;
  int thread_count = 1;
};

inline boost::asio::io_context& io_context_of(IoRuntime& runtime) {
  return runtime.impl().ioc;
}

}  // namespace llama_stack
