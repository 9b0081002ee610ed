// RateLimitFilter: server.oauth tiered rate limits (requests and tokens per
// minute) on the inference routes. The tier comes from the token's scopes;
// anonymous callers are limited per client IP at the lowest tier. Tokens are
// reserved before the call (prompt estimate + max tokens) and settled with
// the real usage afterwards (RequestContext::settle_tokens). Over a limit →
// 429 with Retry-After; x-ratelimit-* headers on every rate-limited response.
// A store failure → 503 (fail closed).
#pragma once

#include <memory>

#include "core/security/audit_log.h"
#include "core/security/rate_limiter.h"
#include "core/security/security_config.h"
#include "core/server/server_core.h"
#include "core/storage/group_commit.h"
#include "llama_stack/apis/telemetry.h"

namespace llama_stack::server {

class RateLimitFilter final : public Filter {
 public:
  RateLimitFilter(const security::OAuthSettings& settings,
                  std::shared_ptr<security::RateLimiter> limiter,
                  std::vector<std::string> trusted_proxies, security::AuditLog* audit);
  std::string_view name() const override { return "rate_limit"; }
  FilterStatus on_request(const std::shared_ptr<Exchange>& exchange) override;

  // Tokens a request may use: ~4 bytes per prompt token, plus its max tokens.
  static std::int64_t estimate_tokens(const HttpRequest& request);

 private:
  security::RateTier tier_for(const RequestContext& context) const;

 public:
  // Rate-limit decisions become spans ("rate_limit.check") of the request.
  void set_telemetry(apis::TelemetryApi* telemetry) { telemetry_ = telemetry; }

 private:
  // On the connection's thread, once admit() has run: 503, 429 or resume.
  void decide(const std::shared_ptr<Exchange>& exchange, const security::RateDecision& decision,
              const std::string& subject, const security::RateTier& tier, std::int64_t estimate,
              std::exception_ptr error);

  const security::OAuthSettings& settings_;
  std::shared_ptr<security::RateLimiter> limiter_;
  std::vector<std::string> trusted_proxies_;
  security::AuditLog* audit_;
  apis::TelemetryApi* telemetry_ = nullptr;
  // admit() and settle() run there, many per transaction. Shared: a pending
  // settlement may outlive the filter.
  std::shared_ptr<storage::GroupCommitter> committer_;
};

// Strict audit mode: refuses requests (503) while the audit log cannot write.
class StrictAuditFilter final : public Filter {
 public:
  explicit StrictAuditFilter(security::AuditLog* audit) : audit_(audit) {}
  std::string_view name() const override { return "strict_audit"; }
  FilterStatus on_request(const std::shared_ptr<Exchange>& exchange) override;

 private:
  security::AuditLog* audit_;
};

// Records an audit event when `audit` is set (a no-op otherwise).
void audit_event(security::AuditLog* audit, std::string type, security::AuditLevel level,
                 const RequestContext& context, json::object fields);

}  // namespace llama_stack::server
