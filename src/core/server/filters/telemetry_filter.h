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

}  // namespace llama_stack::server
