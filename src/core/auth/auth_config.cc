#include "core/auth/auth_config.h"

#include "core/util/url.h"

namespace llama_stack::auth {
namespace {

using config::ConfigNode;
using config::Diagnostics;
using config::MapReader;

bool is_attribute(std::string_view name) {
  return name == "roles" || name == "teams" || name == "projects" || name == "namespaces";
}

void check_url(const ConfigNode& parent, MapReader& reader, std::string_view key,
               const std::string& value, Diagnostics& diagnostics) {
  if (auto error = check_http_url(value)) {
    const ConfigNode* at = parent.find(key);
    diagnostics.error(at != nullptr ? *at : parent, *error);
  }
  (void)reader;
}

OAuth2Config parse_oauth2(const ConfigNode& node, MapReader& r, Diagnostics& diagnostics) {
  OAuth2Config c;
  c.claims_mapping = default_claims_mapping();
  if (const ConfigNode* jwks = r.node("jwks"); jwks != nullptr && !jwks->is_null()) {
    MapReader j(*jwks, diagnostics);
    JwksConfig jc;
    jc.uri = j.string("uri", true).value_or("");
    if (!jc.uri.empty()) check_url(*jwks, j, "uri", jc.uri, diagnostics);
    jc.token = j.string("token");
    jc.token_file = j.path("token_file");
    jc.key_recheck_period =
        std::chrono::seconds(j.integer("key_recheck_period", 1, 86400 * 30).value_or(3600));
    j.finish();
    c.jwks = jc;
  }
  if (const ConfigNode* in = r.node("introspection"); in != nullptr && !in->is_null()) {
    MapReader i(*in, diagnostics);
    IntrospectionConfig ic;
    ic.url = i.string("url", true).value_or("");
    if (!ic.url.empty()) check_url(*in, i, "url", ic.url, diagnostics);
    ic.client_id = i.string("client_id", true).value_or("");
    ic.client_secret = i.string("client_secret", true).value_or("");
    ic.send_secret_in_body = i.boolean("send_secret_in_body").value_or(false);
    i.finish();
    c.introspection = ic;
  }
  if (!c.jwks && !c.introspection) {
    diagnostics.error(node, "oauth2_token needs `jwks` or `introspection`");
  } else if (c.jwks && c.introspection) {
    diagnostics.error(node, "oauth2_token takes one of `jwks` or `introspection`, not both");
  }
  c.issuer = r.string("issuer");
  c.audience = r.string_or("audience", c.audience);
  c.tls_cafile = r.path("tls_cafile");
  c.verify_tls = r.boolean("verify_tls").value_or(true);
  if (const ConfigNode* m = r.node("claims_mapping"); m != nullptr && !m->is_null()) {
    if (!m->is_map()) {
      diagnostics.error(
          *m, "claims_mapping must map claim names to roles, teams, projects or namespaces");
    } else {
      c.claims_mapping.clear();
      for (const auto& [claim, attribute] : m->entries) {
        if (!attribute.is_scalar() || !is_attribute(attribute.scalar)) {
          diagnostics.error(attribute, "must be one of roles, teams, projects, namespaces");
          continue;
        }
        c.claims_mapping.emplace_back(claim, attribute.scalar);
      }
    }
  }
  c.leeway = std::chrono::seconds(r.integer("leeway_seconds", 0, 3600).value_or(30));
  c.timeout = std::chrono::seconds(r.integer("timeout_seconds", 1, 600).value_or(10));
  c.cache_size = static_cast<std::size_t>(r.integer("cache_size", 0, 10'000'000).value_or(10'000));
  return c;
}

CustomAuthConfig parse_custom(const ConfigNode& node, MapReader& r, Diagnostics& diagnostics) {
  CustomAuthConfig c;
  c.endpoint = r.string("endpoint", true).value_or("");
  if (!c.endpoint.empty()) check_url(node, r, "endpoint", c.endpoint, diagnostics);
  c.timeout = std::chrono::seconds(r.integer("timeout_seconds", 1, 600).value_or(10));
  c.cache_ttl = std::chrono::seconds(r.integer("cache_ttl_seconds", 0, 86400).value_or(0));
  c.tls_cafile = r.path("tls_cafile");
  c.verify_tls = r.boolean("verify_tls").value_or(true);
  return c;
}

}  // namespace

std::vector<std::pair<std::string, std::string>> default_claims_mapping() {
  return {{"sub", "roles"},           {"username", "roles"},   {"groups", "teams"},
          {"team", "teams"},          {"project", "projects"}, {"tenant", "namespaces"},
          {"namespace", "namespaces"}};
}

AuthConfig parse_auth_config(const ConfigNode& node, Diagnostics& diagnostics) {
  AuthConfig auth;
  MapReader reader(node, diagnostics);
  if (const ConfigNode* policy = reader.node("access_policy");
      policy != nullptr && !policy->is_null()) {
    auth.access_policy = *policy;
  }
  auth.max_token_bytes =
      static_cast<std::size_t>(reader.integer("max_token_bytes", 256, 1 << 20).value_or(8192));
  const ConfigNode* provider_config = reader.node("provider_config");
  if (provider_config != nullptr && !provider_config->is_null()) {
    // The later form: provider_config: {type: ..., <provider keys>}
    MapReader pc(*provider_config, diagnostics);
    auth.type = pc.string("type", true).value_or("");
    if (auth.type == "oauth2_token") {
      auth.oauth2 = parse_oauth2(*provider_config, pc, diagnostics);
    } else if (auth.type == "custom") {
      auth.custom = parse_custom(*provider_config, pc, diagnostics);
    } else if (!auth.type.empty()) {
      const ConfigNode* at = provider_config->find("type");
      diagnostics.error(
          at != nullptr ? *at : *provider_config,
          auth.type == "github_token"
              ? "auth type 'github_token' is a known Llama Stack type, not available in this build "
                "(supported: oauth2_token, custom)"
              : "unknown auth type '" + auth.type + "' (supported: oauth2_token, custom)");
    }
    pc.finish();
    if (reader.has("provider_type")) {
      diagnostics.error(node, "use either provider_type/config or provider_config, not both");
    }
    reader.accept({"provider_type", "config"});
  } else {
    auth.type = reader.string("provider_type", true).value_or("");
    const ConfigNode* cfg = reader.node("config");
    ConfigNode empty;
    empty.path = node.path + ".config";
    empty.location = node.location;
    const ConfigNode& c = cfg != nullptr ? *cfg : empty;
    MapReader cr(c, diagnostics);
    if (auth.type == "oauth2_token") {
      auth.oauth2 = parse_oauth2(c, cr, diagnostics);
    } else if (auth.type == "custom") {
      auth.custom = parse_custom(c, cr, diagnostics);
    } else if (!auth.type.empty()) {
      const ConfigNode* at = node.find("provider_type");
      diagnostics.error(at != nullptr ? *at : node, "unknown auth provider_type '" + auth.type +
                                                        "' (supported: oauth2_token, custom)");
    }
    cr.finish();
  }
  reader.finish();
  return auth;
}

}  // namespace llama_stack::auth
