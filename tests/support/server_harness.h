// Driving ServerCore in tests: TestSink, a ResponseSink that records the
// response and queues what filters post() to "the connection's thread" until
// the test runs it (run_posted), so a test can see the chain stop at a
// filter's hop and resume on the thread that runs the posted task; requests;
// and HeaderUserFilter, which authenticates from test headers.
//
// Thread-safety: every TestSink member may be called from any thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <utility>

#include "core/server/exchange.h"
#include "core/server/http_types.h"
#include "core/server/server_core.h"

namespace llama_stack::testing {

class TestSink final : public server::ResponseSink {
 public:
  void send(server::HttpResponse response) override {
    {
      std::lock_guard lock(mutex_);
      response_ = std::move(response);
      ++responses_;
    }
    changed_.notify_all();
  }
  void start_stream(int status, server::Headers headers, std::string) override {
    {
      std::lock_guard lock(mutex_);
      response_.status = status;
      response_.headers = std::move(headers);
      ++responses_;
    }
    changed_.notify_all();
  }
  void write_chunk(std::string data) override {
    std::lock_guard lock(mutex_);
    response_.body += data;
  }
  void end_stream() override {}
  void abort() override {}
  bool cancelled() const override { return false; }
  void on_cancel(std::function<void()>) override {}

  void post(std::function<void()> task) override {
    {
      std::lock_guard lock(mutex_);
      posted_.push_back(std::move(task));
      ++posts_;
    }
    changed_.notify_all();
  }

  // Responses sent (send or start_stream); more than one is a bug.
  int responses() const {
    std::lock_guard lock(mutex_);
    return responses_;
  }
  server::HttpResponse response() const {
    std::lock_guard lock(mutex_);
    return response_;
  }
  // Tasks posted so far, run or not.
  int posts() const {
    std::lock_guard lock(mutex_);
    return posts_;
  }
  std::size_t queued() const {
    std::lock_guard lock(mutex_);
    return posted_.size();
  }

  // Waits until a task is queued or a response was sent; false after a
  // generous hang guard (a failing test, not a measured duration).
  bool wait_for_post_or_response() const {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, std::chrono::seconds(30),
                             [&] { return !posted_.empty() || responses_ > 0; });
  }

  // Runs the queued tasks (and those they queue) on the calling thread.
  int run_posted() {
    int ran = 0;
    for (;;) {
      std::function<void()> task;
      {
        std::lock_guard lock(mutex_);
        if (posted_.empty()) return ran;
        task = std::move(posted_.front());
        posted_.pop_front();
      }
      task();
      ++ran;
    }
  }

  // Plays the connection's thread until the exchange has its response: runs
  // posted tasks as they arrive. False if nothing happens for a long while.
  bool finish() {
    for (;;) {
      if (responses() > 0 && queued() == 0) return true;
      if (!wait_for_post_or_response()) return false;
      run_posted();
    }
  }

 private:
  mutable std::mutex mutex_;
  mutable std::condition_variable changed_;
  server::HttpResponse response_;
  int responses_ = 0;
  int posts_ = 0;
  std::deque<std::function<void()>> posted_;
};

// A request as the transport would hand it to ServerCore::dispatch.
inline server::HttpRequest make_request(std::string method, std::string path,
                                        server::Headers headers = {}, std::string body = {},
                                        std::string remote_address = "10.0.0.1") {
  server::HttpRequest request;
  request.method = std::move(method);
  request.path = path;
  request.target = std::move(path);
  request.headers = std::move(headers);
  request.body = std::move(body);
  request.remote_address = std::move(remote_address);
  return request;
}

// Dispatches `request` on `core` with a fresh TestSink; returns the sink.
inline std::shared_ptr<TestSink> dispatch(const server::ServerCore& core,
                                          server::HttpRequest request) {
  auto sink = std::make_shared<TestSink>();
  core.dispatch(std::make_shared<server::Exchange>(std::move(request), sink));
  return sink;
}

// Stands in for the auth filter: `x-test-user` becomes the caller's
// principal and `x-test-scopes` (space-separated) its scopes; no header, no
// user (anonymous).
class HeaderUserFilter final : public server::Filter {
 public:
  std::string_view name() const override { return "header_user"; }
  server::FilterStatus on_request(const std::shared_ptr<server::Exchange>& exchange) override {
    server::RequestContext& context = exchange->context();
    if (auto user = context.request.headers.get("x-test-user")) {
      context.user = apis::Owner{std::string(*user), {}};
      if (auto scopes = context.request.headers.get("x-test-scopes")) {
        std::string_view rest = *scopes;
        while (!rest.empty()) {
          const std::size_t space = rest.find(' ');
          if (space != 0) context.scopes.emplace_back(rest.substr(0, space));
          if (space == std::string_view::npos) break;
          rest.remove_prefix(space + 1);
        }
      }
    }
    return server::FilterStatus::kContinue;
  }
};

}  // namespace llama_stack::testing
