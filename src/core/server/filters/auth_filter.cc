#include "core/server/filters/auth_filter.h"

#include "core/log/log.h"
#include "core/server/filters/rate_limit_filter.h"
#include "core/util/metrics.h"

namespace llama_stack::server {
namespace {

// error_description must be a quoted-string: drop quotes and backslashes.
std::string quoted_safe(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '"' || c == '\\' || static_cast<unsigned char>(c) < 0x20) continue;
    out.push_back(c);
  }
  return out;
}

}  // namespace

AuthFilter::AuthFilter(std::unique_ptr<auth::Authenticator> authenticator,
                       std::size_t max_token_bytes,
                       std::optional<std::string> resource_metadata_url)
    : authenticator_(std::move(authenticator)),
      max_token_bytes_(max_token_bytes),
      resource_metadata_url_(std::move(resource_metadata_url)) {}

bool AuthFilter::is_public(const RequestContext& context) {
  if (context.route != nullptr && context.route->is_public) return true;
  return context.request.path.starts_with("/.well-known/");
}

void AuthFilter::reject(const std::shared_ptr<Exchange>& exchange, int status,
                        const std::string& error_code, const std::string& reason,
                        const std::string& message) const {
  const auto& r = exchange->request();
  LS_INFO(kAuth, "{} {} from {} rejected ({}): {}", r.method, r.path, r.remote_address, reason,
          message);
  if (metrics::enabled()) metrics::catalog().auth_failures.with({reason}).inc();
  const bool token_problem = status == 401 && reason != "missing_token" && reason != "not_bearer";
  audit_event(audit_, token_problem ? "invalid_token" : "auth_failure",
              status == 503 ? security::AuditLevel::kError : security::AuditLevel::kWarning,
              exchange->context(), json::object{{"reason", reason}, {"status", status}});
  ApiError error(status, message);
  if (status == 401) {
    std::string challenge = "Bearer realm=\"llama-stack\", error=\"" + error_code +
                            "\", error_description=\"" + quoted_safe(message) + "\"";
    if (resource_metadata_url_)
      challenge += ", resource_metadata=\"" + *resource_metadata_url_ + "\"";
    error.with_header("www-authenticate", challenge);
  } else if (status == 503) {
    error.with_header("retry-after", "5");
  }
  exchange->send_error(error);
}

FilterStatus AuthFilter::on_request(const std::shared_ptr<Exchange>& exchange) {
  RequestContext& context = exchange->context();
  if (is_public(context)) return FilterStatus::kContinue;
  auto header = context.request.headers.get("authorization");
  if (!header || header->empty()) {
    reject(exchange, 401, "invalid_token", "missing_token",
           "Missing or invalid Authorization header");
    return FilterStatus::kStop;
  }
  std::string_view value = *header;
  if (value.size() < 7 || !(value.substr(0, 7) == "Bearer " || value.substr(0, 7) == "bearer ")) {
    reject(exchange, 401, "invalid_token", "not_bearer", "Missing or invalid Authorization header");
    return FilterStatus::kStop;
  }
  std::string_view token = value.substr(7);
  while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
  while (!token.empty() && token.back() == ' ') token.remove_suffix(1);
  if (token.empty()) {
    reject(exchange, 401, "invalid_token", "missing_token",
           "Missing or invalid Authorization header");
    return FilterStatus::kStop;
  }
  if (token.size() > max_token_bytes_) {
    reject(exchange, 401, "invalid_token", "too_large",
           "Token exceeds " + std::to_string(max_token_bytes_) + " bytes");
    return FilterStatus::kStop;
  }
  authenticator_->authenticate(
      std::string(token), context.request, [this, exchange](auth::AuthResult result) {
        switch (result.status) {
          case auth::AuthResult::Status::kOk: {
            RequestContext& ctx = exchange->context();
            ctx.user = std::move(result.user);
            ctx.scopes = std::move(result.scopes);
            ctx.token_issuer = std::move(result.issuer);
            exchange->resume();
            return;
          }
          case auth::AuthResult::Status::kUnauthorized:
            reject(exchange, 401, "invalid_token", result.reason, result.message);
            return;
          case auth::AuthResult::Status::kUnavailable:
            reject(exchange, 503, "temporarily_unavailable", result.reason, result.message);
            return;
        }
      });
  return FilterStatus::kPending;
}

}  // namespace llama_stack::server
