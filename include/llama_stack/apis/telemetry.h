// Telemetry (Llama Stack 0.2.x): spans recorded as requests are served, and
// the query API over them (/v1/telemetry/…). The server records a root span
// per request (the telemetry filter); the telemetry provider
// (inline::meta-reference) writes spans to its sinks (console, sqlite) off
// the request path and answers the queries from its SQLite store.
#pragma once

#include <boost/json.hpp>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "llama_stack/apis/call_context.h"
#include "llama_stack/apis/resources.h"
#include "llama_stack/async/task.h"

namespace llama_stack::apis {

struct SpanRecord {
  std::string trace_id;        // 32 hex digits
  std::string span_id;         // 16 hex digits
  std::string parent_span_id;  // empty for a root span
  std::string name;
  std::int64_t start_us = 0;  // Unix microseconds
  std::int64_t end_us = 0;
  json::object attributes;
  std::string status = "ok";  // ok | error
};

// {key, op: eq|ne|gt|lt, value} (Python's QueryCondition).
struct QueryCondition {
  std::string key;
  std::string op;
  json::value value;
};

// Whether the caller may read a trace, given the owner recorded on its root
// span (nullopt: the request was anonymous). Empty: everything is readable.
using TraceReadable = std::function<bool(const std::optional<Owner>& owner)>;

struct TraceQuery {
  std::vector<QueryCondition> attribute_filters;
  std::int64_t limit = 100;
  std::int64_t offset = 0;
  std::vector<std::string> order_by;  // e.g. ["-start_time"]
  TraceReadable readable;
};

// POST /v1/telemetry/metrics/{metric_name}: the recorded token metrics
// (prompt_tokens, completion_tokens, total_tokens; labels model_id,
// provider_id) between start and end (Unix seconds).
struct MetricLabelMatcher {
  std::string name, op, value;  // op: = != =~ !~
};

struct MetricQuery {
  std::string metric;
  std::int64_t start_time = 0;
  std::optional<std::int64_t> end_time;             // unset → now
  std::optional<std::int64_t> granularity_seconds;  // range: bucket width; unset → each point
  bool instant = false;                             // one value per series (the sum over the range)
  std::vector<MetricLabelMatcher> label_matchers;
  TraceReadable readable;
};

class TelemetryApi {
 public:
  virtual ~TelemetryApi() = default;
  // Queues a finished span for the sinks; never blocks (a full queue drops
  // it, counted).
  virtual void record(SpanRecord span) = 0;
  // Whether spans of this trace are recorded (the sampler): callers skip
  // building spans that record() would drop.
  virtual bool sampled(const std::string& /*trace_id*/) const { return true; }
  // POST /v1/telemetry/events: unstructured logs and metrics become span
  // events of their span; a structured span_start/span_end is recorded as a span.
  virtual async::Task<void> log_event(const CallContext& context, json::object event) = 0;
  // Traces (root spans matching the filters): [{trace_id, root_span_id, start_time, end_time}].
  virtual async::Task<json::array> query_traces(const CallContext& context, TraceQuery query) = 0;
  // A trace, span or tree the caller may not read is not found (404).
  virtual async::Task<json::object> get_trace(const CallContext& context, std::string trace_id,
                                              TraceReadable readable) = 0;
  virtual async::Task<json::object> get_span(const CallContext& context, std::string trace_id,
                                             std::string span_id, TraceReadable readable) = 0;
  // {span_id: span with status}, the span and its descendants up to max_depth.
  virtual async::Task<json::object> get_span_tree(const CallContext& context, std::string span_id,
                                                  std::vector<std::string> attributes_to_return,
                                                  std::optional<std::int64_t> max_depth,
                                                  TraceReadable readable) = 0;
  // {data: [{metric, labels: [{name, value}], values: [{timestamp, value, unit}]}]}
  virtual async::Task<json::object> query_metrics(const CallContext& context,
                                                  MetricQuery query) = 0;
  // The spans under the matching root spans.
  virtual async::Task<json::array> query_spans(const CallContext& context,
                                               std::vector<QueryCondition> attribute_filters,
                                               std::vector<std::string> attributes_to_return,
                                               std::optional<std::int64_t> max_depth,
                                               TraceReadable readable) = 0;
};

}  // namespace llama_stack::apis
