// TelemetryRouter: the telemetry query API over the telemetry provider, with
// access by trace owner — each root span records its caller, and a caller
// reads only the traces (and token metrics) the access policy lets them read
// as the resource type "trace" (by default: their own). Without
// authentication every trace is readable.
#pragma once

#include "core/routing/resource_access.h"
#include "llama_stack/apis/telemetry.h"

namespace llama_stack::routing {

class TelemetryRouter {
 public:
  // Both must outlive the router.
  TelemetryRouter(apis::TelemetryApi& telemetry, const ResourceAccess& access)
      : telemetry_(telemetry), access_(access) {}

  async::Task<void> log_event(const apis::CallContext& context, json::object event);
  async::Task<json::array> query_traces(const apis::CallContext& context, apis::TraceQuery query);
  async::Task<json::object> get_trace(const apis::CallContext& context, std::string trace_id);
  async::Task<json::object> get_span(const apis::CallContext& context, std::string trace_id,
                                     std::string span_id);
  async::Task<json::object> get_span_tree(const apis::CallContext& context, std::string span_id,
                                          std::vector<std::string> attributes_to_return,
                                          std::optional<std::int64_t> max_depth);
  async::Task<json::array> query_spans(const apis::CallContext& context,
                                       std::vector<apis::QueryCondition> attribute_filters,
                                       std::vector<std::string> attributes_to_return,
                                       std::optional<std::int64_t> max_depth);
  async::Task<json::object> query_metrics(const apis::CallContext& context,
                                          apis::MetricQuery query);

 private:
  // Empty (all readable) for an unauthenticated caller.
  apis::TraceReadable readable_for(const apis::CallContext& context) const;

  apis::TelemetryApi& telemetry_;
  const ResourceAccess& access_;
};

}  // namespace llama_stack::routing
