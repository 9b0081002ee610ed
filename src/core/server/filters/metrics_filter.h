// MetricsFilter: request counts, durations and in-flight requests by route
// template (never the raw path: unmatched requests count as "unmatched"),
// method and status. First in the chain, so refused requests count too.
#pragma once

#include "core/server/server_core.h"

namespace llama_stack::server {

class MetricsFilter final : public Filter {
 public:
  std::string_view name() const override { return "metrics"; }
  FilterStatus on_request(const std::shared_ptr<Exchange>& exchange) override;
  void on_response(const Exchange& exchange, const ResponseSummary& summary) override;
  void on_unrouted(const Exchange& exchange, const ResponseSummary& summary) override;

 private:
  static void count(const Exchange& exchange, const ResponseSummary& summary);
};

}  // namespace llama_stack::server
