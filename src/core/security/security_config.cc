#include "core/security/security_config.h"

#include <algorithm>

#include "core/util/url.h"

namespace llama_stack::security {
namespace {

bool truthy(const std::string& v) {
  std::string s = v;
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s == "1" || s == "true" || s == "yes" || s == "on";
}

}  // namespace

OAuthSettings parse_oauth_settings(const config::ConfigNode* node, config::Diagnostics& diagnostics,
                                   const config::EnvLookup& env,
                                   const std::string& default_store_dir) {
  OAuthSettings s;
  s.tiers = {{"free", {10, 1'000}},
             {"basic", {50, 10'000}},
             {"premium", {200, 50'000}},
             {"enterprise", {1'000, 500'000}}};
  s.tier_scopes = {{"enterprise_access", "enterprise"},
                   {"premium_access", "premium"},
                   {"basic_access", "basic"}};
  s.rate_limit_store = config::KVStoreConfig::sqlite(default_store_dir + "/rate_limits.db");
  if (node != nullptr && !node->is_null()) {
    s.configured = true;
    config::MapReader r(*node, diagnostics);
    s.auth_server_uri = r.string("auth_server_uri");
    if (s.auth_server_uri) {
      if (auto e = check_http_url(*s.auth_server_uri))
        diagnostics.error(*node->find("auth_server_uri"), *e);
    }
    s.stack_uri = r.string("stack_uri");
    if (s.stack_uri) {
      if (auto e = check_http_url(*s.stack_uri)) diagnostics.error(*node->find("stack_uri"), *e);
    }
    s.token_validation_method = r.string_or("token_validation_method", s.token_validation_method);
    if (s.token_validation_method != "jwt_asymmetric" &&
        s.token_validation_method != "introspection") {
      diagnostics.error(*node->find("token_validation_method"),
                        "must be jwt_asymmetric or introspection");
    }
    s.jwks_cache_ttl = r.integer("jwks_cache_ttl", 1, 86400 * 30).value_or(s.jwks_cache_ttl);
    s.enable_auth = r.boolean("enable_auth").value_or(false);
    s.enforce_model_permissions = r.boolean("enforce_model_permissions").value_or(false);
    const std::string unmapped = r.string_or("default_model_access", "deny");
    if (unmapped != "deny" && unmapped != "allow") {
      diagnostics.error(*node->find("default_model_access"), "must be deny or allow");
    }
    s.deny_unmapped_models = unmapped == "deny";
    if (const auto* m = r.node("model_scope_overrides"); m != nullptr && !m->is_null()) {
      if (!m->is_map()) {
        diagnostics.error(*m, "expected a mapping of model id to scope");
      } else {
        for (const auto& [model, scope] : m->entries) {
          if (!scope.is_scalar() || scope.scalar.empty()) {
            diagnostics.error(scope, "expected a scope name");
            continue;
          }
          s.model_scope_overrides[model] = scope.scalar;
        }
      }
    }
    for (auto [key, target] :
         {std::pair{"shield_scope_overrides", &s.shield_scope_overrides},
          std::pair{"vector_db_scope_overrides", &s.vector_db_scope_overrides}}) {
      const auto* m = r.node(key);
      if (m == nullptr || m->is_null()) continue;
      if (!m->is_map()) {
        diagnostics.error(*m, "expected a mapping of resource id to scope");
        continue;
      }
      for (const auto& entry : m->entries) {
        if (!entry.second.is_scalar() || entry.second.scalar.empty()) {
          diagnostics.error(entry.second, "expected a scope name");
          continue;
        }
        (*target)[entry.first] = entry.second.scalar;
      }
    }
    s.enable_rate_limiting = r.boolean("enable_rate_limiting").value_or(false);
    s.default_user_tier = r.string_or("default_user_tier", s.default_user_tier);
    if (const auto* t = r.node("rate_limit_tiers"); t != nullptr && !t->is_null()) {
      if (!t->is_map()) {
        diagnostics.error(
            *t, "expected a mapping of tier name to {requests_per_minute, tokens_per_minute}");
      } else {
        for (const auto& [name, limits] : t->entries) {
          config::MapReader lr(limits, diagnostics);
          TierLimits l;
          l.requests_per_minute =
              lr.integer("requests_per_minute", 0, INT64_C(1) << 40, true).value_or(0);
          l.tokens_per_minute =
              lr.integer("tokens_per_minute", 0, INT64_C(1) << 40, true).value_or(0);
          lr.finish();
          s.tiers[name] = l;
        }
      }
    }
    if (const auto* ts = r.node("tier_scopes"); ts != nullptr && !ts->is_null()) {
      if (!ts->is_map()) {
        diagnostics.error(*ts, "expected a mapping of scope to tier (first match wins)");
      } else {
        s.tier_scopes.clear();
        for (const auto& [scope, tier] : ts->entries)
          s.tier_scopes.emplace_back(scope, tier.scalar);
      }
    }
    for (const auto& [scope, tier] : s.tier_scopes) {
      if (!s.tiers.count(tier)) {
        diagnostics.error(*node, "tier_scopes maps '" + scope + "' to unknown tier '" + tier + "'");
      }
    }
    if (const auto* store = r.node("rate_limit_store"); store != nullptr && !store->is_null()) {
      s.rate_limit_store =
          config::parse_kvstore_config(*store, diagnostics, default_store_dir + "/rate_limits.db");
    }
    s.audit.enabled = r.boolean("enable_audit_logging").value_or(false);
    std::string level = r.string_or("audit_log_level", "INFO");
    std::transform(level.begin(), level.end(), level.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (level == "warn") level = "warning";
    if (level != "debug" && level != "info" && level != "warning" && level != "error") {
      diagnostics.error(*node->find("audit_log_level"), "must be DEBUG, INFO, WARNING or ERROR");
    }
    s.audit.level = level;
    if (const auto* a = r.node("audit_log"); a != nullptr && !a->is_null()) {
      config::MapReader ar(*a, diagnostics);
      s.audit.sink = ar.string_or("sink", "stdout");
      if (s.audit.sink != "stdout" && s.audit.sink != "file")
        diagnostics.error(*a, "audit_log.sink must be stdout or file");
      s.audit.path = ar.path("path").value_or("");
      if (s.audit.sink == "file" && s.audit.path.empty())
        diagnostics.error(*a, "audit_log.path is required for sink: file");
      s.audit.max_bytes =
          ar.integer("max_bytes", 4096, INT64_C(1) << 40).value_or(s.audit.max_bytes);
      s.audit.max_files = ar.integer("max_files", 1, 1000).value_or(s.audit.max_files);
      s.audit.include_content = ar.boolean("include_content").value_or(false);
      s.audit.strict = ar.boolean("strict").value_or(false);
      ar.finish();
    }
    parse_content_safety(r, *node, s.content_safety, diagnostics);
    r.finish();
  }
  // Environment variables of the recommendation; they fill in, config wins.
  if (auto v = env("LLAMA_STACK_OAUTH_AUTH_SERVER_URI"); v && !v->empty()) {
    s.configured = true;
    if (!s.auth_server_uri) s.auth_server_uri = *v;
  }
  if (auto v = env("LLAMA_STACK_OAUTH_STACK_URI"); v && !v->empty()) {
    s.configured = true;
    if (!s.stack_uri) s.stack_uri = *v;
  }
  if (auto v = env("LLAMA_STACK_OAUTH_ENABLE_AUTH"); v && !v->empty()) {
    s.configured = true;
    s.enable_auth = truthy(*v);
  }
  if (auto v = env("LLAMA_STACK_OAUTH_ENABLE_RATE_LIMITING"); v && !v->empty()) {
    s.configured = true;
    s.enable_rate_limiting = truthy(*v);
  }
  if (!s.tiers.count(s.default_user_tier)) {
    diagnostics.error(node != nullptr ? *node : config::ConfigNode{},
                      "default_user_tier '" + s.default_user_tier + "' is not a defined tier");
  }
  return s;
}

std::string tier_for_scopes(const OAuthSettings& settings, const std::vector<std::string>& scopes) {
  for (const auto& [scope, tier] : settings.tier_scopes) {
    if (std::find(scopes.begin(), scopes.end(), scope) != scopes.end()) return tier;
  }
  return settings.default_user_tier;
}

std::optional<std::string> required_scope(const OAuthSettings& settings,
                                          const std::string& model_id,
                                          const json::object& metadata) {
  if (auto it = settings.model_scope_overrides.find(model_id);
      it != settings.model_scope_overrides.end()) {
    return it->second;
  }
  if (auto it = metadata.find("required_scope"); it != metadata.end() && it->value().is_string()) {
    return std::string(it->value().get_string());
  }
  return std::nullopt;
}

}  // namespace llama_stack::security
