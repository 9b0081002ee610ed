#include "core/server/filters/quota_filter.h"

#include <chrono>

#include "core/log/log.h"
#include "core/server/filters/auth_filter.h"
#include "core/server/filters/rate_limit_filter.h"
#include "core/server/filters/telemetry_filter.h"
#include "core/util/metrics.h"

namespace llama_stack::server {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return s;
}

bool trusted(const std::vector<std::string>& proxies, std::string_view address) {
  return std::find(proxies.begin(), proxies.end(), address) != proxies.end();
}

}  // namespace

std::string client_address(const HttpRequest& request,
                           const std::vector<std::string>& trusted_proxies) {
  if (!trusted(trusted_proxies, request.remote_address)) return request.remote_address;
  auto forwarded = request.headers.get("x-forwarded-for");
  if (!forwarded) return request.remote_address;
  std::string_view chain = *forwarded;
  std::string candidate = request.remote_address;
  while (!chain.empty()) {
    const auto comma = chain.rfind(',');
    std::string_view hop = trim(comma == std::string_view::npos ? chain : chain.substr(comma + 1));
    chain = comma == std::string_view::npos ? std::string_view() : chain.substr(0, comma);
    if (hop.empty()) continue;
    candidate = std::string(hop);
    if (!trusted(trusted_proxies, hop)) break;
  }
  return candidate;
}

QuotaFilter::QuotaFilter(QuotaConfig config, std::shared_ptr<storage::KVStore> store,
                         bool auth_enabled)
    : config_(std::move(config)),
      store_(std::move(store)),
      auth_enabled_(auth_enabled),
      committer_(store_) {
  if (!auth_enabled_ && config_.authenticated_max_requests != config_.anonymous_max_requests) {
    LS_WARN(kQuota,
            "quota: authenticated_max_requests is set but no authentication is configured; every "
            "client gets anonymous_max_requests ({})",
            config_.anonymous_max_requests);
  }
}

FilterStatus QuotaFilter::on_request(const std::shared_ptr<Exchange>& exchange) {
  RequestContext& context = exchange->context();
  if (AuthFilter::is_public(context)) return FilterStatus::kContinue;
  const bool authenticated = auth_enabled_ && context.user.has_value();
  const std::string client = authenticated
                                 ? "user:" + context.user->principal
                                 : "ip:" + client_address(context.request, config_.trusted_proxies);
  const std::int64_t limit =
      authenticated ? config_.authenticated_max_requests : config_.anonymous_max_requests;
  const std::int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                               std::chrono::system_clock::now().time_since_epoch())
                               .count();
  const std::int64_t window = now / config_.period_seconds;
  const std::int64_t window_end = (window + 1) * config_.period_seconds;
  const std::string key = "quota:" + client + ":" + std::to_string(window);
  // Kept one extra period so a late request in the window still finds it; then purged.
  const storage::Clock::time_point expiry(
      std::chrono::seconds(window_end + config_.period_seconds));
  auto count = std::make_shared<std::int64_t>(0);
  committer_.submit(
      [this, key, expiry, count] {
        *count = store_->increment(key, 1, expiry);
        if (++counted_ % 1000 == 0) store_->purge_expired();
      },
      [this, exchange, client, limit, now, window_end, count,
       start_us = unix_micros_now()](std::exception_ptr error) {
        record_filter_span(telemetry_, exchange->context(), "quota.check", start_us,
                           json::object{{"limit", limit}, {"count", error ? -1 : *count}},
                           error != nullptr);
        exchange->post([this, exchange, client, limit, now, window_end, count, error] {
          decide(exchange, client, limit, now, window_end, error ? -1 : *count, error);
        });
      });
  return FilterStatus::kPending;
}

void QuotaFilter::decide(const std::shared_ptr<Exchange>& exchange, const std::string& client,
                         std::int64_t limit, std::int64_t now, std::int64_t window_end,
                         std::int64_t count, std::exception_ptr error) {
  if (error) {
    LS_ERROR(kQuota, "quota store failed ({}); refusing the request",
             storage::error_message(error));
    ApiError api_error =
        ApiError::unavailable("Quota service error: the quota store is unavailable");
    api_error.with_header("retry-after", "5");
    exchange->send_error(api_error);
    return;
  }
  if (count > limit) {
    LS_INFO(kQuota, "quota exceeded for {} ({} > {})", client, count, limit);
    if (metrics::enabled()) metrics::catalog().quota_rejections.with({}).inc();
    audit_event(audit_, "quota_exceeded", security::AuditLevel::kWarning, exchange->context(),
                json::object{{"limit", limit}, {"period_seconds", config_.period_seconds}});
    ApiError api_error = ApiError::too_many_requests("Quota exceeded");
    api_error.with_header("retry-after", std::to_string(window_end - now));
    // Waiting out a daily quota is not a retry: tell Stainless clients not to.
    api_error.with_header("x-should-retry", "false");
    exchange->send_error(api_error);
    return;
  }
  exchange->resume();
}

}  // namespace llama_stack::server
