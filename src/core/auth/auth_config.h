// `server.auth` as configured in run.yaml, in both forms Llama Stack accepts:
//   auth: {provider_type: oauth2_token | custom, config: {...}, access_policy: [...]}
//   auth: {provider_config: {type: oauth2_token | custom, ...}, access_policy: [...]}
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/config/config_node.h"

namespace llama_stack::auth {

struct JwksConfig {
  std::string uri;
  std::optional<std::string> token;  // sent as Bearer on the JWKS GET (Kubernetes)
  std::chrono::seconds key_recheck_period{3600};
  // Or read from this file at every fetch: a projected service account token,
  // which the kubelet rotates. Wins over `token`.
  std::optional<std::string> token_file;
};

struct IntrospectionConfig {
  std::string url;
  std::string client_id;
  std::string client_secret;
  bool send_secret_in_body = false;
};

struct OAuth2Config {
  std::optional<JwksConfig> jwks;
  std::optional<IntrospectionConfig> introspection;
  std::optional<std::string> issuer;
  std::string audience = "llama-stack";
  std::optional<std::string> tls_cafile;
  bool verify_tls = true;
  // claim → attribute (roles | teams | projects | namespaces)
  std::vector<std::pair<std::string, std::string>> claims_mapping;
  // Ours:
  std::chrono::seconds leeway{30};
  std::chrono::seconds timeout{10};
  std::size_t cache_size = 10'000;
};

struct CustomAuthConfig {
  std::string endpoint;
  // Ours:
  std::chrono::seconds timeout{10};
  std::chrono::seconds cache_ttl{0};  // 0 = every request asks the endpoint
  std::optional<std::string> tls_cafile;
  bool verify_tls = true;
};

struct AuthConfig {
  std::string type;  // "oauth2_token" | "custom"
  OAuth2Config oauth2;
  CustomAuthConfig custom;
  std::optional<config::ConfigNode> access_policy;
  std::size_t max_token_bytes = 8192;  // ours: longer tokens are refused unparsed
};

// Parses `server.auth`; problems go to diagnostics with key paths.
AuthConfig parse_auth_config(const config::ConfigNode& node, config::Diagnostics& diagnostics);

// Llama Stack's default claims mapping.
std::vector<std::pair<std::string, std::string>> default_claims_mapping();

}  // namespace llama_stack::auth
