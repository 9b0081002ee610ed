#include "core/server/filters/rate_limit_filter.h"

#include <chrono>
#include <cmath>

#include "core/log/log.h"
#include "core/server/filters/quota_filter.h"
#include "core/server/filters/telemetry_filter.h"
#include "core/util/metrics.h"

namespace llama_stack::server {
namespace {

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string seconds_text(double seconds) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.3gs", std::max(0.0, seconds));
  return buffer;
}

void set_headers(Headers& headers, const security::RateDecision& d) {
  if (d.limit_requests > 0) {
    headers.set("x-ratelimit-limit-requests", std::to_string(d.limit_requests));
    headers.set("x-ratelimit-remaining-requests", std::to_string(d.remaining_requests));
    headers.set("x-ratelimit-reset-requests", seconds_text(d.reset_requests_seconds));
  }
  if (d.limit_tokens > 0) {
    headers.set("x-ratelimit-limit-tokens", std::to_string(d.limit_tokens));
    headers.set("x-ratelimit-remaining-tokens", std::to_string(d.remaining_tokens));
    headers.set("x-ratelimit-reset-tokens", seconds_text(d.reset_tokens_seconds));
  }
}

bool rate_limited_route(const RequestContext& context) {
  return context.route != nullptr && context.route->api == "inference" &&
         context.request.method == "POST";
}

}  // namespace

void audit_event(security::AuditLog* audit, std::string type, security::AuditLevel level,
                 const RequestContext& context, json::object fields) {
  if (audit == nullptr) return;
  if (context.user) fields["principal"] = context.user->principal;
  fields["client_ip"] = context.request.remote_address;
  fields["request_id"] = context.trace_id;
  fields["method"] = context.request.method;
  fields["path"] = context.request.path;
  audit->record(security::AuditEvent{std::move(type), level, std::move(fields)});
}

FilterStatus StrictAuditFilter::on_request(const std::shared_ptr<Exchange>& exchange) {
  if (audit_->writable() || exchange->context().route == nullptr ||
      exchange->context().route->is_public) {
    return FilterStatus::kContinue;
  }
  // Record an event anyway: once the sink works again the writer writes it and
  // writable() turns true, so strict mode recovers without a restart.
  audit_->record({"audit_unavailable", security::AuditLevel::kError,
                  json::object{{"request_id", exchange->context().trace_id}}});
  ApiError error = ApiError::unavailable(
      "Auditing is unavailable; requests are refused until the audit log can be written (strict "
      "mode)");
  error.with_header("retry-after", "5");
  exchange->send_error(error);
  return FilterStatus::kStop;
}

RateLimitFilter::RateLimitFilter(const security::OAuthSettings& settings,
                                 std::shared_ptr<security::RateLimiter> limiter,
                                 std::vector<std::string> trusted_proxies,
                                 security::AuditLog* audit)
    : settings_(settings),
      limiter_(std::move(limiter)),
      trusted_proxies_(std::move(trusted_proxies)),
      audit_(audit),
      committer_(std::make_shared<storage::GroupCommitter>(limiter_->store())) {}

security::RateTier RateLimitFilter::tier_for(const RequestContext& context) const {
  std::string name;
  if (context.user) {
    name = security::tier_for_scopes(settings_, context.scopes);
  } else {
    // Anonymous: the lowest tier.
    std::int64_t lowest = INT64_MAX;
    for (const auto& [tier, limits] : settings_.tiers) {
      if (limits.requests_per_minute > 0 && limits.requests_per_minute < lowest) {
        lowest = limits.requests_per_minute;
        name = tier;
      }
    }
    if (name.empty()) name = settings_.default_user_tier;
  }
  const auto& limits = settings_.tiers.at(name);
  return security::RateTier{name, limits.requests_per_minute, limits.tokens_per_minute};
}

std::int64_t RateLimitFilter::estimate_tokens(const HttpRequest& request) {
  std::int64_t estimate = static_cast<std::int64_t>(request.body.size() / 4) + 1;
  std::int64_t max_tokens = 256;  // when the request sets none
  try {
    json::value body = parse_json(request.body);
    if (body.is_object()) {
      const auto& o = body.get_object();
      for (const char* key : {"max_tokens", "max_completion_tokens"}) {
        if (auto it = o.find(key); it != o.end() && it->value().is_int64())
          max_tokens = it->value().get_int64();
      }
      if (auto sp = o.find("sampling_params"); sp != o.end() && sp->value().is_object()) {
        if (auto mt = sp->value().get_object().find("max_tokens");
            mt != sp->value().get_object().end() && mt->value().is_int64() &&
            mt->value().get_int64() > 0) {
          max_tokens = mt->value().get_int64();
        }
      }
      if (auto in = o.find("input"); in != o.end()) max_tokens = 0;  // embeddings produce no tokens
      if (auto in = o.find("contents"); in != o.end()) max_tokens = 0;
    }
  } catch (const std::exception&) {
  }
  return estimate + std::max<std::int64_t>(0, max_tokens);
}

FilterStatus RateLimitFilter::on_request(const std::shared_ptr<Exchange>& exchange) {
  RequestContext& context = exchange->context();
  if (!rate_limited_route(context)) return FilterStatus::kContinue;
  const security::RateTier tier = tier_for(context);
  const std::string subject = context.user
                                  ? "user:" + context.user->principal
                                  : "ip:" + client_address(context.request, trusted_proxies_);
  const std::int64_t estimate = estimate_tokens(context.request);
  auto decision = std::make_shared<security::RateDecision>();
  committer_->submit([limiter = limiter_, decision, subject, tier, estimate,
                      now = now_ms()] { *decision = limiter->admit(subject, tier, estimate, now); },
                     [this, exchange, decision, subject, tier, estimate,
                      start_us = unix_micros_now()](std::exception_ptr error) {
                       record_filter_span(telemetry_, exchange->context(), "rate_limit.check",
                                          start_us,
                                          json::object{{"tier", tier.name},
                                                       {"allowed", !error && decision->allowed},
                                                       {"estimated_tokens", estimate}},
                                          error != nullptr);
                       exchange->post([this, exchange, decision, subject, tier, estimate, error] {
                         decide(exchange, *decision, subject, tier, estimate, error);
                       });
                     });
  return FilterStatus::kPending;
}

void RateLimitFilter::decide(const std::shared_ptr<Exchange>& exchange,
                             const security::RateDecision& decision, const std::string& subject,
                             const security::RateTier& tier, std::int64_t estimate,
                             std::exception_ptr error) {
  RequestContext& context = exchange->context();
  if (error) {
    LS_ERROR(kQuota, "rate limit store failed ({}); refusing the request",
             storage::error_message(error));
    ApiError api_error =
        ApiError::unavailable("Rate limit service error: the rate limit store is unavailable");
    api_error.with_header("retry-after", "5");
    exchange->send_error(api_error);
    return;
  }
  set_headers(context.response_headers, decision);
  if (!decision.allowed) {
    if (metrics::enabled()) metrics::catalog().rate_limit_rejections.with({tier.name}).inc();
    const bool by_tokens = decision.limited_by == "tokens";
    const std::string message =
        by_tokens ? "Rate limit exceeded: " + std::to_string(tier.tokens_per_minute) +
                        " tokens/minute for tier '" + tier.name + "' (this request needs about " +
                        std::to_string(estimate) + ")"
                  : "Rate limit exceeded: " + std::to_string(tier.requests_per_minute) +
                        " requests/minute for tier '" + tier.name + "'";
    audit_event(audit_, "rate_limited", security::AuditLevel::kWarning, context,
                json::object{{"tier", tier.name},
                             {"limited_by", decision.limited_by},
                             {"estimated_tokens", estimate}});
    ApiError api_error = ApiError::too_many_requests(message);
    api_error.with_header(
        "retry-after",
        std::to_string(static_cast<std::int64_t>(std::ceil(decision.retry_after_seconds))));
    exchange->send_error(api_error);
    return;
  }
  // Settlement is queued behind this admission on the same writer, so the
  // next request of this caller sees it.
  auto settled = std::make_shared<std::atomic<bool>>(false);
  context.settle_tokens = [committer = committer_, limiter = limiter_, subject, tier, estimate,
                           settled](std::int64_t actual) {
    if (settled->exchange(true)) return;
    committer->submit([limiter, subject, tier, estimate, actual,
                       now = now_ms()] { limiter->settle(subject, tier, estimate, actual, now); },
                      [](std::exception_ptr error) {
                        if (error) {
                          LS_ERROR(kQuota, "rate limit settlement failed: {}",
                                   storage::error_message(error));
                        }
                      });
  };
  exchange->resume();
}

}  // namespace llama_stack::server
