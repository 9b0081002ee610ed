// The security sections of run.yaml — server.auth, server.oauth (with its
// LLAMA_STACK_OAUTH_* environment overrides), the access policy and
// server.quota — parsed once, at load, into typed structs. Validation and
// startup use the same result: nothing is parsed a second time with its
// diagnostics ignored.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/auth/access_policy.h"
#include "core/auth/auth_config.h"
#include "core/config/stack_config.h"
#include "core/security/security_config.h"

namespace llama_stack::security {

struct QuotaConfig {
  config::KVStoreConfig kvstore;
  std::int64_t anonymous_max_requests = 100;
  std::int64_t authenticated_max_requests = 1000;
  std::int64_t period_seconds = 86400;       // "day"
  std::vector<std::string> trusted_proxies;  // ours: whose X-Forwarded-For is believed
};

// server.quota.
QuotaConfig parse_quota_config(const config::ConfigNode& node, config::Diagnostics& diagnostics);

struct ServerSecurity {
  OAuthSettings oauth;
  // The effective server.auth: the configured one, or one built from
  // server.oauth.auth_server_uri when enable_auth is on. Unset = no auth.
  std::optional<auth::AuthConfig> auth;
  // Set exactly when `auth` is: server.auth.access_policy, or Llama Stack's
  // default policy.
  std::optional<auth::AccessPolicy> access_policy;
  std::optional<QuotaConfig> quota;
};

// Parses (and validates, reporting with paths) the security sections.
// `distro_dir` is where default stores go (audit log, rate-limit store).
ServerSecurity parse_server_security(const config::StackRunConfig& config,
                                     const std::string& distro_dir,
                                     config::Diagnostics& diagnostics);

// The effective server.auth (see ServerSecurity::auth).
std::optional<auth::AuthConfig> effective_auth(const config::StackRunConfig& config,
                                               const OAuthSettings& oauth,
                                               config::Diagnostics& diagnostics);

}  // namespace llama_stack::security
