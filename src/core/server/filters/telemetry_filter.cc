#include "core/server/filters/telemetry_filter.h"

#include "core/server/exchange.h"
#include "core/server/route_table.h"
#include "core/util/ids.h"

namespace llama_stack::server {

void TelemetryFilter::on_response(const Exchange& exchange, const ResponseSummary& summary) {
  const RequestContext& context = exchange.context();
  if (!telemetry_.sampled(context.trace_id)) return;
  apis::SpanRecord span;
  span.trace_id = context.trace_id;
  span.span_id = context.span_id;
  const std::string route = context.route != nullptr ? context.route->path : context.request.path;
  span.name = route;
  span.end_us = std::chrono::duration_cast<std::chrono::microseconds>(
                    std::chrono::system_clock::now().time_since_epoch())
                    .count();
  span.start_us =
      span.end_us - std::chrono::duration_cast<std::chrono::microseconds>(summary.duration).count();
  span.attributes = json::object{{"__root__", true},
                                 {"__root_span__", true},
                                 {"http.method", context.request.method},
                                 {"http.route", route},
                                 {"raw_path", context.request.path},
                                 {"http.status_code", summary.status},
                                 {"streamed", summary.streamed}};
  if (context.user) {
    span.attributes["principal"] = context.user->principal;
    span.attributes["__owner__"] = context.user->to_json();  // who may read the trace
  }
  span.status = summary.status >= 500 || !summary.completed ? "error" : "ok";
  telemetry_.record(std::move(span));
}

std::int64_t unix_micros_now() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void record_filter_span(apis::TelemetryApi* telemetry, const RequestContext& context,
                        std::string name, std::int64_t start_us, json::object attributes,
                        bool failed) {
  if (telemetry == nullptr || context.trace_id.empty() || !telemetry->sampled(context.trace_id)) {
    return;
  }
  apis::SpanRecord span;
  span.trace_id = context.trace_id;
  span.parent_span_id = context.span_id;
  span.span_id = random_hex(16);
  span.name = std::move(name);
  span.start_us = start_us;
  span.end_us = unix_micros_now();
  span.attributes = std::move(attributes);
  span.status = failed ? "error" : "ok";
  telemetry->record(std::move(span));
}

}  // namespace llama_stack::server
