#include "core/runtime/io_runtime.h"

#include "core/server/transport/asio_access.h"

namespace llama_stack {

IoRuntime::IoRuntime(int threads) : impl_(std::make_unique<Impl>()) {
  if (threads <= 0) threads = static_cast<int>(std::thread::hardware_concurrency());
  impl_->thread_count = std::max(threads, 1);
}

IoRuntime::~IoRuntime() {
  stop();
}

void IoRuntime::start() {
  if (!impl_->threads.empty()) return;
  impl_->guard.emplace(impl_->ioc.get_executor());
  for (int i = 0; i < impl_->thread_count; ++i) {
    impl_->threads.emplace_back([this] { impl_->ioc.run(); });
  }
}

void IoRuntime::stop() {
  impl_->guard.reset();
  impl_->ioc.stop();
  for (auto& t : impl_->threads) {
    if (t.joinable()) t.join();
  }
  impl_->threads.clear();
}

int IoRuntime::thread_count() const {
  return impl_->thread_count;
}

}  // namespace llama_stack
