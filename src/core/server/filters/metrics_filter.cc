#include "core/server/filters/metrics_filter.h"

#include <charconv>

#include "core/server/exchange.h"
#include "core/server/route_table.h"
#include "core/util/metrics.h"

namespace llama_stack::server {
namespace {

// The gauge has no labels: its one series is looked up once.
metrics::Gauge& in_flight() {
  static metrics::Gauge& gauge = metrics::catalog().http_in_flight.with({});
  return gauge;
}

}  // namespace

FilterStatus MetricsFilter::on_request(const std::shared_ptr<Exchange>&) {
  in_flight().add(1);
  return FilterStatus::kContinue;
}

void MetricsFilter::on_response(const Exchange& exchange, const ResponseSummary& summary) {
  in_flight().add(-1);
  count(exchange, summary);
}

void MetricsFilter::on_unrouted(const Exchange& exchange, const ResponseSummary& summary) {
  count(exchange, summary);
}

void MetricsFilter::count(const Exchange& exchange, const ResponseSummary& summary) {
  const metrics::Catalog& c = metrics::catalog();
  const RequestContext& context = exchange.context();
  const std::string_view route =
      context.route != nullptr ? std::string_view(context.route->path) : "unmatched";
  const std::string_view method = context.request.method;
  char status[8];
  const auto [end, ec] = std::to_chars(status, status + sizeof status, summary.status);
  c.http_requests.with({route, method, std::string_view(status, end - status)}).inc();
  c.http_request_duration.with({route, method})
      .observe(std::chrono::duration<double>(summary.duration).count());
}

}  // namespace llama_stack::server
