// SseWriter: server-sent events on an exchange (inference streams, agent
// turns), `data: <json>\n\n` each.
#pragma once

#include <memory>
#include <mutex>
#include <string_view>

#include "core/server/exchange.h"

namespace llama_stack::server::routes {

// Writes SSE events; starts the response lazily. Callbacks for one request
// are serialized by the provider, but cancellation may race: a mutex keeps
// the exchange consistent.
class SseWriter {
 public:
  explicit SseWriter(std::shared_ptr<Exchange> exchange) : exchange_(std::move(exchange)) {}

  void event(const json::value& value) {
    std::lock_guard lock(mutex_);
    start_locked();
    exchange_->write_chunk("data: " + to_json(value) + "\n\n");
  }
  void raw(std::string_view data) {
    std::lock_guard lock(mutex_);
    start_locked();
    exchange_->write_chunk(std::string(data));
  }
  bool started() {
    std::lock_guard lock(mutex_);
    return started_;
  }
  void end() {
    std::lock_guard lock(mutex_);
    start_locked();
    exchange_->end_stream();
  }
  const std::shared_ptr<Exchange>& exchange() const { return exchange_; }

 private:
  void start_locked() {
    if (started_) return;
    started_ = true;
    Headers headers;
    headers.set("x-accel-buffering", "no");
    exchange_->start_stream(200, "text/event-stream", std::move(headers));
  }

  std::shared_ptr<Exchange> exchange_;
  std::mutex mutex_;
  bool started_ = false;
};

}  // namespace llama_stack::server::routes
