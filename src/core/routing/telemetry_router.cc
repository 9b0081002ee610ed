#include "core/routing/telemetry_router.h"

namespace llama_stack::routing {

apis::TraceReadable TelemetryRouter::readable_for(const apis::CallContext& context) const {
  if (!context.user) return {};
  return [&access = access_, caller = context](const std::optional<apis::Owner>& owner) {
    return access.readable_by(caller, "trace", "", owner);
  };
}

async::Task<void> TelemetryRouter::log_event(const apis::CallContext& context, json::object event) {
  auto logged = telemetry_.log_event(context, std::move(event));
  co_await std::move(logged);
}

async::Task<json::array> TelemetryRouter::query_traces(const apis::CallContext& context,
                                                       apis::TraceQuery query) {
  query.readable = readable_for(context);
  auto found = telemetry_.query_traces(context, std::move(query));
  co_return co_await std::move(found);
}

async::Task<json::object> TelemetryRouter::get_trace(const apis::CallContext& context,
                                                     std::string trace_id) {
  auto found = telemetry_.get_trace(context, std::move(trace_id), readable_for(context));
  co_return co_await std::move(found);
}

async::Task<json::object> TelemetryRouter::get_span(const apis::CallContext& context,
                                                    std::string trace_id, std::string span_id) {
  auto found =
      telemetry_.get_span(context, std::move(trace_id), std::move(span_id), readable_for(context));
  co_return co_await std::move(found);
}

async::Task<json::object> TelemetryRouter::get_span_tree(
    const apis::CallContext& context, std::string span_id,
    std::vector<std::string> attributes_to_return, std::optional<std::int64_t> max_depth) {
  auto found =
      telemetry_.get_span_tree(context, std::move(span_id), std::move(attributes_to_return),
                               max_depth, readable_for(context));
  co_return co_await std::move(found);
}

async::Task<json::array> TelemetryRouter::query_spans(
    const apis::CallContext& context, std::vector<apis::QueryCondition> attribute_filters,
    std::vector<std::string> attributes_to_return, std::optional<std::int64_t> max_depth) {
  auto found =
      telemetry_.query_spans(context, std::move(attribute_filters), std::move(attributes_to_return),
                             max_depth, readable_for(context));
  co_return co_await std::move(found);
}

async::Task<json::object> TelemetryRouter::query_metrics(const apis::CallContext& context,
                                                         apis::MetricQuery query) {
  query.readable = readable_for(context);
  auto found = telemetry_.query_metrics(context, std::move(query));
  co_return co_await std::move(found);
}

}  // namespace llama_stack::routing
