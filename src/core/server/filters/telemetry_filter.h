// TelemetryFilter: one root span per request for the telemetry provider —
// named after the route template, with the method, route, raw path, status
// and (when authenticated) the principal; the trace and span ids are the
// request's own (x-trace-id). Recorded when the exchange ends, without
// blocking (the provider queues it).
#pragma once

#include "core/server/server_core.h"
#include "llama_stack/apis/telemetry.h"

namespace llama_stack::server {

class TelemetryFilter final : public Filter {
 public:
  explicit TelemetryFilter(apis::TelemetryApi& telemetry) : telemetry_(telemetry) {}
  std::string_view name() const override { return "telemetry"; }
  FilterStatus on_request(const std::shared_ptr<Exchange>&) override {
    return FilterStatus::kContinue;
  }
  void on_response(const Exchange& exchange, const ResponseSummary& summary) override;

 private:
  apis::TelemetryApi& telemetry_;
};

// A filter's step (the quota check, the rate-limit decision) as a child span
// of the request's root span; nothing when `telemetry` is null. Any thread.
void record_filter_span(apis::TelemetryApi* telemetry, const RequestContext& context,
                        std::string name, std::int64_t start_us, json::object attributes,
                        bool failed);
std::int64_t unix_micros_now();

}  // namespace llama_stack::server
