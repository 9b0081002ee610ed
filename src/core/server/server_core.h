// The transport-independent request pipeline:
//   route lookup → filter chain (request id, auth, quota, rate limit, ...) → handler.
// The transport hands every parsed request to dispatch(); nothing here knows
// about sockets.
#pragma once

#include <memory>
#include <string_view>
#include <vector>

#include "core/server/exchange.h"
#include "core/server/route_table.h"
#include "llama_stack/async/executor.h"

namespace llama_stack::server {

// What a filter decided about a request.
enum class FilterStatus {
  // Go on with the next filter (or the handler).
  kContinue,
  // The filter has answered (e.g. 401, 429); stop here.
  kStop,
  // The filter answers or resumes later (it awaits I/O); it must eventually
  // call ServerCore::resume(exchange) or answer the exchange itself.
  kPending,
};

class Filter {
 public:
  virtual ~Filter() = default;
  virtual std::string_view name() const = 0;
  // Called once per request, with the route already matched (context().route).
  virtual FilterStatus on_request(const std::shared_ptr<Exchange>& exchange) = 0;
  // Called once when the exchange is over — answered by the handler or by a
  // filter, streamed, aborted, or abandoned by the client (status 499) — for
  // every filter whose on_request ran, in reverse order, on the thread that
  // ended the exchange. Must not throw or block (telemetry, metrics, audit).
  virtual void on_response(const Exchange& /*exchange*/, const ResponseSummary& /*summary*/) {}
  // Called instead, for every filter, when no route matched (404, 405): the
  // chain did not run (metrics count these as route "unmatched").
  virtual void on_unrouted(const Exchange& /*exchange*/, const ResponseSummary& /*summary*/) {}
};

class ServerCore {
 public:
  ServerCore(RouteTable routes, std::vector<std::unique_ptr<Filter>> filters);

  // Entry point from the transport. Never throws.
  void dispatch(const std::shared_ptr<Exchange>& exchange) const;
  // Continues the chain after a kPending filter.
  void resume(const std::shared_ptr<Exchange>& exchange) const;

  const RouteTable& routes() const { return routes_; }

  // Where blocking routes run (Route::blocking); null → where they are
  // dispatched. Set before serving; must outlive the server.
  void set_blocking_executor(async::Executor* executor) { blocking_ = executor; }

 private:
  void run_chain(const std::shared_ptr<Exchange>& exchange) const;
  void run_handler(const std::shared_ptr<Exchange>& exchange) const;

  RouteTable routes_;
  std::vector<std::unique_ptr<Filter>> filters_;
  async::Executor* blocking_ = nullptr;
};

// Fills trace_id/span_id from a valid W3C `traceparent`, or makes new ones.
void assign_trace_ids(RequestContext& context);

}  // namespace llama_stack::server
