// An HttpClient that reaches nothing: it records every request and holds it
// until the test answers it (respond / fail), on the test's thread. Like the
// real client it never calls back from inside send(). Requests still pending
// when it is destroyed are dropped without a callback.
//
// Thread-safety: send() and the accessors may be called from any thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/http/http_client.h"

namespace llama_stack::testing {

class FakeHttpClient final : public http::HttpClient {
 public:
  std::shared_ptr<http::RequestHandle> send(http::ClientRequest request,
                                            http::ClientCallbacks callbacks) override {
    {
      std::lock_guard lock(mutex_);
      requests_.push_back(request);
      pending_.push_back(Pending{std::move(request), std::move(callbacks)});
    }
    changed_.notify_all();
    return std::make_shared<NullHandle>();
  }

  // How many requests were sent, answered or not.
  std::size_t sent() const {
    std::lock_guard lock(mutex_);
    return requests_.size();
  }
  // How many wait for an answer.
  std::size_t pending() const {
    std::lock_guard lock(mutex_);
    return pending_.size();
  }
  // The i-th request sent (a copy).
  http::ClientRequest request(std::size_t i) const {
    std::lock_guard lock(mutex_);
    return requests_.at(i);
  }
  // Waits until at least `count` requests are pending; false after a
  // generous hang guard (a failing test, not a measured duration).
  bool wait_pending(std::size_t count) const {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, std::chrono::seconds(30),
                             [&] { return pending_.size() >= count; });
  }

  // Answers the oldest pending request with `status` and `body`. Returns
  // false when none is pending.
  bool respond(int status, std::string body) {
    auto call = take();
    if (!call) return false;
    http::ClientResponseHead head;
    head.status = status;
    head.headers.set("content-type", "application/json");
    if (call->callbacks.on_head) call->callbacks.on_head(head);
    if (call->callbacks.on_data && !body.empty()) call->callbacks.on_data(body);
    if (call->callbacks.on_complete) call->callbacks.on_complete(std::nullopt);
    return true;
  }

  // Fails the oldest pending request (connection refused, timeout, ...).
  bool fail(http::ClientErrorKind kind = http::ClientErrorKind::kConnect,
            std::string message = "connection refused") {
    auto call = take();
    if (!call) return false;
    if (call->callbacks.on_complete) {
      call->callbacks.on_complete(http::ClientError{kind, std::move(message)});
    }
    return true;
  }

 private:
  struct Pending {
    http::ClientRequest request;
    http::ClientCallbacks callbacks;
  };
  class NullHandle final : public http::RequestHandle {
   public:
    void cancel() override {}
  };

  std::optional<Pending> take() {
    std::lock_guard lock(mutex_);
    if (pending_.empty()) return std::nullopt;
    Pending call = std::move(pending_.front());
    pending_.pop_front();
    return call;
  }

  mutable std::mutex mutex_;
  mutable std::condition_variable changed_;
  std::vector<http::ClientRequest> requests_;
  std::deque<Pending> pending_;
};

}  // namespace llama_stack::testing
