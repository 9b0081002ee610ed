// GET /metrics: the Prometheus text exposition of every metric the server
// records (core/util/metrics.h), with the process metrics read at scrape time.
#include <openssl/crypto.h>

#include "core/config/stack_config.h"
#include "core/server/exchange.h"
#include "core/server/routes/routes.h"
#include "core/util/metrics.h"

namespace llama_stack::server::routes {

void add_metrics_route(RouteTable& table, const config::MetricsSettings& settings,
                       bool server_auth) {
  std::optional<std::string> token = settings.bearer_token;
  const bool is_public = token.has_value() || !server_auth || !settings.require_auth;
  table.add({"GET", "/metrics",
             [token](const std::shared_ptr<Exchange>& ex) {
               if (token) {
                 const std::string expected = "Bearer " + *token;
                 const auto got = ex->request().headers.get("authorization");
                 if (!got || got->size() != expected.size() ||
                     CRYPTO_memcmp(got->data(), expected.data(), expected.size()) != 0) {
                   HttpResponse refused;
                   refused.status = 401;
                   refused.headers.set("www-authenticate", "Bearer realm=\"metrics\"");
                   refused.body =
                       R"({"detail":"Authentication required: the metrics bearer token"})";
                   ex->send(std::move(refused));
                   return;
                 }
               }
               HttpResponse response;
               response.content_type = "text/plain; version=0.0.4; charset=utf-8";
               response.body = metrics::to_prometheus_text(metrics::Registry::global().snapshot());
               ex->send(std::move(response));
             },
             "metrics", is_public});
}

}  // namespace llama_stack::server::routes
