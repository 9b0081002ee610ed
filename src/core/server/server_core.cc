#include "core/server/server_core.h"

#include <chrono>
#include <cstdio>

#include "core/log/log.h"
#include "core/util/ids.h"

namespace llama_stack::server {
namespace {

bool is_lower_hex(std::string_view s) {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

bool all_zero(std::string_view s) {
  return s.find_first_not_of('0') == std::string_view::npos;
}

}  // namespace

void assign_trace_ids(RequestContext& context) {
  // traceparent: version(2)-trace-id(32)-parent-id(16)-flags(2)
  if (auto header = context.request.headers.get("traceparent")) {
    std::string_view tp = *header;
    if (tp.size() >= 55 && tp[2] == '-' && tp[35] == '-' && tp[52] == '-' &&
        tp.substr(0, 2) != "ff") {
      std::string_view trace = tp.substr(3, 32);
      if (is_lower_hex(trace) && !all_zero(trace) && is_lower_hex(tp.substr(36, 16))) {
        context.trace_id = std::string(trace);
      }
    }
  }
  if (context.trace_id.empty()) {
    // Our own trace ids start with the Unix time in seconds (8 hex digits,
    // as AWS X-Ray's do; the 96 bits after it are random, so ratio sampling
    // on the low 64 bits is unaffected): trace stores index them in time
    // order instead of at random places all over their B-trees.
    char seconds[9];
    std::snprintf(
        seconds, sizeof seconds, "%08llx",
        static_cast<unsigned long long>(std::chrono::duration_cast<std::chrono::seconds>(
                                            std::chrono::system_clock::now().time_since_epoch())
                                            .count() &
                                        0xffffffffULL));
    context.trace_id = std::string(seconds, 8) + random_hex(24);
  }
  context.span_id = random_hex(16);
}

ServerCore::ServerCore(RouteTable routes, std::vector<std::unique_ptr<Filter>> filters)
    : routes_(std::move(routes)), filters_(std::move(filters)) {}

void ServerCore::dispatch(const std::shared_ptr<Exchange>& exchange) const {
  try {
    RequestContext& context = exchange->context();
    assign_trace_ids(context);
    RouteMatch match = routes_.match(context.request.method, context.request.path);
    if (match.kind != RouteMatch::Kind::kFound) {
      exchange->on_complete = [this](const Exchange& ex, const ResponseSummary& summary) {
        for (const auto& filter : filters_) filter->on_unrouted(ex, summary);
      };
    }
    if (match.kind == RouteMatch::Kind::kNotFound) {
      exchange->send_error(ApiError::not_found("Not Found: no route for " + context.request.method +
                                               " " + context.request.path));
      return;
    }
    if (match.kind == RouteMatch::Kind::kMethodNotAllowed) {
      std::string allow;
      for (const auto& m : match.allowed_methods) allow += (allow.empty() ? "" : ", ") + m;
      ApiError error(405, "Method Not Allowed: " + context.request.method + " " +
                              context.request.path + " (allowed: " + allow + ")");
      error.with_header("allow", allow);
      exchange->send_error(error);
      return;
    }
    context.route = match.route;
    context.route_table = &routes_.routes();
    context.path_params = std::move(match.params);
    exchange->next_filter = 0;
    exchange->on_complete = [this](const Exchange& ex, const ResponseSummary& summary) {
      for (std::size_t i = std::min(ex.next_filter, filters_.size()); i-- > 0;) {
        filters_[i]->on_response(ex, summary);
      }
    };
    exchange->resume_chain = [this](const std::shared_ptr<Exchange>& ex) { resume(ex); };
    run_chain(exchange);
  } catch (...) {
    if (!exchange->responded()) exchange->send_exception(std::current_exception());
  }
}

void ServerCore::resume(const std::shared_ptr<Exchange>& exchange) const {
  try {
    run_chain(exchange);
  } catch (...) {
    if (!exchange->responded()) exchange->send_exception(std::current_exception());
  }
}

void ServerCore::run_chain(const std::shared_ptr<Exchange>& exchange) const {
  while (exchange->next_filter < filters_.size()) {
    Filter& filter = *filters_[exchange->next_filter++];
    switch (filter.on_request(exchange)) {
      case FilterStatus::kContinue:
        continue;
      case FilterStatus::kStop:
      case FilterStatus::kPending:
        return;
    }
  }
  if (exchange->context().route->blocking && blocking_ != nullptr && !blocking_->running_here()) {
    blocking_->post([this, exchange] { run_handler(exchange); });
    return;
  }
  run_handler(exchange);
}

void ServerCore::run_handler(const std::shared_ptr<Exchange>& exchange) const {
  try {
    exchange->context().route->handler(exchange);
  } catch (...) {
    if (!exchange->responded()) {
      exchange->send_exception(std::current_exception());
    } else {
      LS_ERROR(kServer, "handler threw after responding to {} {}", exchange->request().method,
               exchange->request().target);
    }
  }
}

}  // namespace llama_stack::server
