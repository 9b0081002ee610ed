// AuthFilter: every request needs `Authorization: Bearer <token>`, except
// routes marked public (GET /v1/health, /v1/version) and /.well-known/.
// Missing/invalid → 401 with an RFC 6750 WWW-Authenticate header; identity
// provider unreachable (and nothing cached decides) → 503; never "allow"
// on failure. On success the user (principal, attributes) and scopes are
// put in the request context for the filters and handlers after it.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "core/auth/authenticator.h"
#include "core/security/audit_log.h"
#include "core/server/server_core.h"

namespace llama_stack::server {

class AuthFilter final : public Filter {
 public:
  AuthFilter(std::unique_ptr<auth::Authenticator> authenticator, std::size_t max_token_bytes,
             std::optional<std::string> resource_metadata_url = std::nullopt);

  std::string_view name() const override { return "auth"; }
  FilterStatus on_request(const std::shared_ptr<Exchange>& exchange) override;
  void set_audit(security::AuditLog* audit) { audit_ = audit; }

  // Public: no credentials needed.
  static bool is_public(const RequestContext& context);

 private:
  void reject(const std::shared_ptr<Exchange>& exchange, int status, const std::string& error_code,
              const std::string& reason, const std::string& message) const;

  std::unique_ptr<auth::Authenticator> authenticator_;
  std::size_t max_token_bytes_;
  std::optional<std::string> resource_metadata_url_;
  security::AuditLog* audit_ = nullptr;
};

}  // namespace llama_stack::server
