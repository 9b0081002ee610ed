// `server.oauth`: the OAuth 2.1 resource-server extensions (model access by
// scope, tiered rate limits, audit log, protected-resource metadata). Every
// feature is off unless configured, so configs without this section behave
// as before. Option names follow the security recommendation
// (auth_server_uri, stack_uri, enforce_model_permissions, ...); see
// docs/configuration.md for the full mapping.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/config/config_node.h"
#include "core/config/stack_config.h"
#include "core/security/content_safety_config.h"

namespace llama_stack::security {

struct TierLimits {
  std::int64_t requests_per_minute = 0;
  std::int64_t tokens_per_minute = 0;
};

struct AuditSettings {
  bool enabled = false;
  std::string level = "info";
  std::string sink = "stdout";  // stdout | file
  std::string path;
  std::int64_t max_bytes = 10 * 1024 * 1024;
  std::int64_t max_files = 5;
  bool include_content = false;
  bool strict = false;
};

struct OAuthSettings {
  bool configured = false;  // the section (or an env var) is present
  std::optional<std::string> auth_server_uri;
  std::optional<std::string> stack_uri;
  std::string token_validation_method = "jwt_asymmetric";  // or "introspection"
  std::int64_t jwks_cache_ttl = 300;
  bool enable_auth = false;  // build server.auth from auth_server_uri when it is absent

  bool enforce_model_permissions = false;
  bool deny_unmapped_models = true;  // "deny by default"
  std::map<std::string, std::string> model_scope_overrides;
  // Shields and vector DBs can require a scope too (these maps, or a shield's
  // params.required_scope); those without one stay open.
  std::map<std::string, std::string> shield_scope_overrides;
  std::map<std::string, std::string> vector_db_scope_overrides;

  bool enable_rate_limiting = false;
  std::string default_user_tier = "free";
  std::map<std::string, TierLimits> tiers;                       // name → limits
  std::vector<std::pair<std::string, std::string>> tier_scopes;  // scope → tier, by priority
  config::KVStoreConfig rate_limit_store;

  AuditSettings audit;

  // Scope-based content-safety levels around inference.
  ContentSafetySettings content_safety = default_content_safety();
};

// Parses `server.oauth` (node may be null) and applies the environment
// variables LLAMA_STACK_OAUTH_AUTH_SERVER_URI, LLAMA_STACK_OAUTH_STACK_URI,
// LLAMA_STACK_OAUTH_ENABLE_AUTH, LLAMA_STACK_OAUTH_ENABLE_RATE_LIMITING.
OAuthSettings parse_oauth_settings(const config::ConfigNode* node, config::Diagnostics& diagnostics,
                                   const config::EnvLookup& env,
                                   const std::string& default_store_dir);

// The tier for a token's scopes: the first scope→tier match, else the default tier.
std::string tier_for_scopes(const OAuthSettings& settings, const std::vector<std::string>& scopes);

// The scope a model requires: model_scope_overrides, then metadata.required_scope.
std::optional<std::string> required_scope(const OAuthSettings& settings,
                                          const std::string& model_id,
                                          const json::object& metadata);

}  // namespace llama_stack::security
