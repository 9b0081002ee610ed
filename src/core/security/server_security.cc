#include "core/security/server_security.h"

namespace llama_stack::security {

QuotaConfig parse_quota_config(const config::ConfigNode& node, config::Diagnostics& diagnostics) {
  QuotaConfig q;
  config::MapReader r(node, diagnostics);
  const config::ConfigNode* kv = r.node("kvstore");
  if (kv == nullptr || kv->is_null()) {
    diagnostics.error(node.location, node.path + ".kvstore", "required key is missing");
  } else {
    q.kvstore =
        config::parse_kvstore_config(*kv, diagnostics, config::config_dir() + "/runtime/quotas.db");
  }
  q.anonymous_max_requests = r.integer("anonymous_max_requests", 0, INT64_C(1) << 40).value_or(100);
  q.authenticated_max_requests =
      r.integer("authenticated_max_requests", 0, INT64_C(1) << 40).value_or(1000);
  const std::string period = r.string_or("period", "day");
  if (period != "day") {
    const config::ConfigNode* at = node.find("period");
    diagnostics.error(at != nullptr ? *at : node,
                      "period must be 'day' (the only period Llama Stack defines)");
  }
  q.trusted_proxies = r.string_list("trusted_proxies");
  r.finish();
  return q;
}

std::optional<auth::AuthConfig> effective_auth(const config::StackRunConfig& config,
                                               const security::OAuthSettings& oauth,
                                               config::Diagnostics& diagnostics) {
  if (config.server.auth) return auth::parse_auth_config(*config.server.auth, diagnostics);
  if (!oauth.enable_auth) return std::nullopt;
  if (!oauth.auth_server_uri) {
    diagnostics.error(
        config.server.oauth ? *config.server.oauth : config.root,
        "authentication is enabled (enable_auth / LLAMA_STACK_OAUTH_ENABLE_AUTH) but no "
        "auth_server_uri (or LLAMA_STACK_OAUTH_AUTH_SERVER_URI) and no server.auth are set");
    return std::nullopt;
  }
  if (oauth.token_validation_method == "introspection") {
    diagnostics.error(
        config.server.oauth ? *config.server.oauth : config.root,
        "token_validation_method: introspection needs server.auth.config.introspection "
        "(client credentials); configure server.auth");
    return std::nullopt;
  }
  // As the recommendation describes: keys at <auth server>/.well-known/jwks.json,
  // issuer = the auth server, audience = the stack's own URI.
  auth::AuthConfig auth;
  auth.type = "oauth2_token";
  std::string base = *oauth.auth_server_uri;
  while (!base.empty() && base.back() == '/') base.pop_back();
  auth::JwksConfig jwks;
  jwks.uri = base + "/.well-known/jwks.json";
  jwks.key_recheck_period = std::chrono::seconds(oauth.jwks_cache_ttl);
  auth.oauth2.jwks = jwks;
  auth.oauth2.issuer = *oauth.auth_server_uri;
  auth.oauth2.audience = oauth.stack_uri.value_or("llama-stack");
  auth.oauth2.claims_mapping = auth::default_claims_mapping();
  return auth;
}

ServerSecurity parse_server_security(const config::StackRunConfig& config,
                                     const std::string& distro_dir,
                                     config::Diagnostics& diagnostics) {
  ServerSecurity security;
  security.oauth = parse_oauth_settings(config.server.oauth ? &*config.server.oauth : nullptr,
                                        diagnostics, config::process_env(), distro_dir);
  security.auth = effective_auth(config, security.oauth, diagnostics);
  if (security.auth) {
    security.access_policy =
        security.auth->access_policy
            ? auth::AccessPolicy::parse(*security.auth->access_policy, diagnostics)
            : auth::AccessPolicy::default_policy();
  }
  if (config.server.quota) security.quota = parse_quota_config(*config.server.quota, diagnostics);
  ContentSafetySettings& safety = security.oauth.content_safety;
  if (safety.enforce && safety.shields.empty()) {
    for (const auto& shield : config.shields) {
      if (!shield.disabled()) safety.shields.push_back(shield.shield_id);
    }
    if (safety.shields.empty()) {
      diagnostics.error(*config.server.oauth,
                        "enforce_content_safety needs a shield: list content_safety_shields, or "
                        "register one under shields:");
    }
  }
  return security;
}

}  // namespace llama_stack::security
