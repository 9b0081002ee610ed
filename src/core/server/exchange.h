// One request/response exchange as the filter chain and handlers see it:
// the request, per-request state filled by filters (trace id, principal),
// and the response sink. Adds the headers every response carries
// (x-trace-id, filter headers) and writes the access-log line.
#pragma once

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <vector>

#include "core/server/http_types.h"
#include "core/server/route_table.h"
#include "core/util/json.h"
#include "llama_stack/apis/call_context.h"
#include "llama_stack/apis/resources.h"
#include "llama_stack/async/executor.h"
#include "llama_stack/async/task.h"
#include "llama_stack/common/errors.h"

namespace llama_stack::server {

struct RequestContext {
  HttpRequest request;
  std::string trace_id;  // 32 lower-case hex digits
  std::string span_id;   // 16 lower-case hex digits
  std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now();
  const Route* route = nullptr;
  // Every route served (for /v1/inspect/routes).
  const std::vector<Route>* route_table = nullptr;
  std::map<std::string, std::string> path_params;
  // The authenticated caller (set by the auth filter); unset = anonymous.
  std::optional<apis::Owner> user;
  std::vector<std::string> scopes;  // OAuth scopes of the token
  std::string token_issuer;
  // Set by the rate-limit filter: settles the token reservation with the
  // real usage (once; later calls are ignored).
  std::function<void(std::int64_t actual_tokens)> settle_tokens;
  // Headers added to whatever response this exchange ends with.
  Headers response_headers;

  const std::string& param(const std::string& name) const;
  // The body as a JSON object; 400 on malformed JSON or a non-object.
  json::value json_body() const;
};

// How an exchange ended, for filters' on_response (telemetry, metrics, audit).
struct ResponseSummary {
  int status = 0;         // what the client got; 499 when it went away first
  std::size_t bytes = 0;  // body bytes sent
  std::chrono::steady_clock::duration duration{};  // since the request arrived
  bool streamed = false;
  // False when the response did not finish: aborted, or the client went away.
  bool completed = true;
};

// Runs continuations on the exchange's connection thread (ResponseSink::post).
class SinkExecutor final : public async::Executor {
 public:
  explicit SinkExecutor(ResponseSink& sink) : sink_(sink) {}
  void post(std::function<void()> work) override { sink_.post(std::move(work)); }
  bool running_here() const override { return sink_.running_here(); }

 private:
  ResponseSink& sink_;
};

class Exchange : public std::enable_shared_from_this<Exchange> {
 public:
  Exchange(HttpRequest request, std::shared_ptr<ResponseSink> sink);
  // An exchange that never answered (the client went away) completes as 499.
  ~Exchange();

  RequestContext& context() { return context_; }
  const RequestContext& context() const { return context_; }
  const HttpRequest& request() const { return context_.request; }

  void send(HttpResponse response);
  void send_json(int status, const json::value& body);
  void send_error(const ApiError& error);
  // Maps any exception to a response (the one place that does). Sends
  // nothing for 499 (the client is gone).
  void send_exception(std::exception_ptr error);
  // Runs a handler coroutine (on this thread, up to its first suspension);
  // whatever it throws becomes the error response, unless it answered.
  void serve(async::Task<void> handler);

  void start_stream(int status, std::string content_type, Headers headers = {});
  void write_chunk(std::string data);
  void end_stream();
  void abort();

  bool cancelled() const { return sink_->cancelled(); }
  // Stopped when the client goes away (any number of observers).
  std::stop_token stop_token() const { return stop_.get_token(); }
  // Calls `callback` once when the client goes away (at once if it already
  // has); any number of callbacks. Router calls use stop_token() instead.
  void on_cancel(std::function<void()> callback);
  // The connection thread, as an executor for the call's continuations.
  async::Executor& executor() { return executor_; }
  bool responded() const { return responded_.load(); }

  // The context of the API call this request makes: the caller (from the
  // auth filter), its origin, trace ids, provider data (400 when the
  // X-LlamaStack-Provider-Data header is not a JSON object), the
  // connection's executor, the client's cancellation and the token
  // settlement of the rate-limit filter.
  // Without `with_provider_data` the header is not read (routes that call
  // no provider).
  apis::CallContext call_context(bool with_provider_data = true);

  // Filter-chain bookkeeping (see ServerCore): the next filter to run, and
  // how a filter that returned kPending continues the chain.
  std::size_t next_filter = 0;
  std::function<void(const std::shared_ptr<Exchange>&)> resume_chain;
  // Called once when the exchange is over (the response sent or the stream
  // ended, aborted, or abandoned), on whichever thread ended it. Set by
  // ServerCore to run the filters' on_response hooks.
  std::function<void(const Exchange&, const ResponseSummary&)> on_complete;
  void resume() {
    if (resume_chain) resume_chain(shared_from_this());
  }
  // Runs `task` on the connection's thread (see ResponseSink::post), e.g. to
  // resume the chain after a filter's work finished on another thread.
  void post(std::function<void()> task) { sink_->post(std::move(task)); }

 private:
  void decorate(Headers& headers) const;
  // The access-log line and on_complete, once.
  void complete(int status, std::size_t bytes, bool streamed, bool completed);

  RequestContext context_;
  std::shared_ptr<ResponseSink> sink_;
  SinkExecutor executor_;
  std::stop_source stop_;
  std::mutex cancel_mutex_;
  std::vector<std::unique_ptr<std::stop_callback<std::function<void()>>>> cancel_callbacks_;
  std::atomic<bool> responded_{false};
  std::atomic<bool> completed_{false};
  int stream_status_ = 0;
  std::size_t stream_bytes_ = 0;
};

// Builds the error body {"detail", "error": {"message", "type", "code"}}.
HttpResponse make_error_response(const ApiError& error);

}  // namespace llama_stack::server
