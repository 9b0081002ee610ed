#include "core/runtime/io_runtime.h"

#include "core/server/transport/asio_access.h"

namespace llama_stack {

IoRuntime::IoRuntime(int threads) : impl_(std::make_unique<Impl>()) {
  if (threads <= 0) threads = static_cast<int>(std::thread::hardware_concurrency());
  threads = std::max(threads, 1);
  for (int i = 0; i < threads; ++i) {
    // Concurrency hint 1: each context is run by exactly one thread.
    impl_->contexts.push_back(std::make_unique<boost::asio::io_context>(1));
  }
}

IoRuntime::~IoRuntime() {
  stop();
}

void IoRuntime::start() {
  if (!impl_->threads.empty()) return;
  for (auto& context : impl_->contexts) {
    impl_->guards.emplace_back(context->get_executor());
    impl_->threads.emplace_back([context = context.get()] {
      Impl::current() = context;
      context->run();
    });
  }
}

void IoRuntime::stop() {
  impl_->guards.clear();
  for (auto& context : impl_->contexts) context->stop();
  for (auto& t : impl_->threads) {
    if (t.joinable()) t.join();
  }
  impl_->threads.clear();
}

int IoRuntime::thread_count() const {
  return static_cast<int>(impl_->contexts.size());
}

}  // namespace llama_stack
