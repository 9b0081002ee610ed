#include "core/config/stack_config.h"

#include <gtest/gtest.h>

#include "core/registry/provider_registry.h"
#include "core/stack.h"

namespace llama_stack::config {
namespace {

struct Parsed {
  StackRunConfig config;
  Diagnostics diagnostics;
};

Parsed parse(const std::string& yaml, bool validate = true) {
  Parsed p;
  EnvLookup env = [](const std::string& name) -> std::optional<std::string> {
    if (name == "OLLAMA_URL") return "http://ollama:11434";
    return std::nullopt;
  };
  ConfigNode root = load_yaml(yaml, "run.yaml", env, p.diagnostics);
  p.config = parse_stack_config(root, p.diagnostics);
  if (validate)
    validate_stack_config(p.config, registry::ProviderRegistry::builtin(), p.diagnostics);
  return p;
}

bool has_error(const Diagnostics& d, std::string_view path, std::string_view text) {
  for (const auto& e : d.errors()) {
    if (e.path == path && e.message.find(text) != std::string::npos) return true;
  }
  return false;
}

std::string report(const Diagnostics& d) {
  std::string out;
  for (const auto& x : d.all()) out += x.format() + "\n";
  return out;
}

constexpr const char* kSeedOllama = R"(
version: 2
image_name: ollama
apis: [inference, vector_io, safety]
providers:
  inference:
  - provider_id: ollama
    provider_type: remote::ollama
    config:
      url: ${env.OLLAMA_URL:http://localhost:11434}
  - provider_id: ${env.ENABLE_VLLM+vllm}
    provider_type: remote::vllm
    config: {}
  - provider_id: __disabled__
    provider_type: remote::does-not-exist
    config: {}
  vector_io:
  - provider_id: faiss
    provider_type: inline::faiss
    config:
      kvstore:
        type: sqlite
        namespace: null
        db_path: /tmp/faiss_store.db
  safety:
  - provider_id: llama-guard
    provider_type: inline::llama-guard
    config: {}
metadata_store:
  namespace: null
  type: sqlite
  db_path: ~/registry.db
models:
- metadata: {}
  model_id: llama3.2:3b
  provider_id: ollama
  provider_model_id: null
- model_id: all-minilm
  model_type: embedding
  provider_id: ollama
  metadata: {embedding_dimension: 384}
shields:
- shield_id: meta-llama/Llama-Guard-3-8B
vector_dbs:
- vector_db_id: docs
  embedding_model: all-minilm
  embedding_dimension: 384
server:
  port: 8321
  host: 127.0.0.1
logging:
  category_levels: {server: debug}
)";

TEST(StackConfig, ParsesTheSeedShape) {
  Parsed p = parse(kSeedOllama);
  EXPECT_FALSE(p.diagnostics.has_errors()) << report(p.diagnostics);
  const StackRunConfig& c = p.config;
  EXPECT_EQ(c.image_name, "ollama");
  EXPECT_EQ(c.apis.size(), 3u);
  ASSERT_EQ(c.providers.size(), 3u);
  EXPECT_EQ(c.providers[0].provider_type, "remote::ollama");
  EXPECT_EQ(c.providers[0].config.find("url")->scalar, "http://ollama:11434");
  EXPECT_EQ(c.disabled_providers.size(), 2u);  // empty id and __disabled__ are skipped
  ASSERT_TRUE(c.metadata_store.has_value());
  EXPECT_TRUE(c.metadata_store->db_path.ends_with("/registry.db"));
  EXPECT_EQ(c.metadata_store->db_path.front(), '/');  // ~ expanded
  ASSERT_EQ(c.models.size(), 2u);
  EXPECT_FALSE(c.models[0].provider_model_id.has_value());
  EXPECT_EQ(c.models[1].model_type, "embedding");
  EXPECT_EQ(c.shields[0].shield_id, "meta-llama/Llama-Guard-3-8B");
  EXPECT_EQ(c.vector_dbs[0].embedding_dimension, 384);
  EXPECT_EQ(c.server.port, 8321);
  EXPECT_EQ(c.server.host, "127.0.0.1");
  ASSERT_EQ(c.logging_levels.size(), 1u);
  EXPECT_EQ(c.logging_levels[0].first, "server");
}

TEST(StackConfig, AcceptsCondaEnvForImageName) {
  Parsed p = parse("version: 2\nconda_env: old\nproviders: {}\n");
  EXPECT_FALSE(p.diagnostics.has_errors()) << report(p.diagnostics);
  EXPECT_EQ(p.config.image_name, "old");
}

TEST(StackConfig, UnknownProviderTypeListsSupportedOnes) {
  Parsed p = parse(R"(
version: 2
image_name: x
providers:
  inference:
  - provider_id: a
    provider_type: remote::ollama
    config: {}
  - provider_id: b
    provider_type: remote::nope
    config: {}
)");
  ASSERT_TRUE(p.diagnostics.has_errors());
  const auto errors = p.diagnostics.errors();
  ASSERT_EQ(errors.size(), 1u) << report(p.diagnostics);
  EXPECT_EQ(errors[0].path, "providers.inference[1].provider_type");
  EXPECT_EQ(errors[0].location.line, 10);  // the raw string starts with a newline
  EXPECT_NE(errors[0].message.find("unknown provider_type 'remote::nope'"), std::string::npos);
  EXPECT_NE(errors[0].message.find("remote::ollama, remote::vllm, remote::openai"),
            std::string::npos)
      << errors[0].message;
}

TEST(StackConfig, KnownButUnavailableProviderTypeIsRejectedClearly) {
  Parsed p = parse(R"(
version: 2
image_name: x
providers:
  inference:
  - provider_id: tgi
    provider_type: remote::tgi
    config: {url: http://x}
)");
  ASSERT_TRUE(p.diagnostics.has_errors());
  EXPECT_TRUE(has_error(p.diagnostics, "providers.inference[0].provider_type",
                        "known Llama Stack provider type, not available in this build"))
      << report(p.diagnostics);
}

TEST(StackConfig, ProviderConfigErrorsHaveKeyPaths) {
  Parsed p = parse(R"(
version: 2
image_name: x
providers:
  inference:
  - provider_id: o
    provider_type: remote::ollama
    config:
      url: not a url
      surprise: 1
)");
  EXPECT_TRUE(has_error(p.diagnostics, "providers.inference[0].config.url", "not a valid"))
      << report(p.diagnostics);
  bool warned = false;
  for (const auto& w : p.diagnostics.warnings()) {
    warned |= w.path == "providers.inference[0].config.surprise";
  }
  EXPECT_TRUE(warned) << report(p.diagnostics);
}

TEST(StackConfig, RoutingTableApisCannotHaveProviders) {
  Parsed p = parse("version: 2\nimage_name: x\nproviders:\n  models: []\n  nonsense: []\n");
  EXPECT_TRUE(has_error(p.diagnostics, "providers.models", "automatically provided"));
  EXPECT_TRUE(has_error(p.diagnostics, "providers.nonsense", "unknown api"));
}

TEST(StackConfig, MissingDependencyIsReported) {
  Parsed p = parse(R"(
version: 2
image_name: x
providers:
  safety:
  - provider_id: lg
    provider_type: inline::llama-guard
    config: {}
)");
  EXPECT_TRUE(
      has_error(p.diagnostics, "providers.safety[0]", "needs a provider for api 'inference'"))
      << report(p.diagnostics);
}

TEST(StackConfig, ResourcesMustReferenceConfiguredProviders) {
  Parsed p = parse(R"(
version: 2
image_name: x
providers:
  inference:
  - {provider_id: a, provider_type: remote::ollama, config: {}}
  - {provider_id: b, provider_type: remote::ollama, config: {}}
models:
- {model_id: m1, provider_id: zzz}
- {model_id: m2}
)");
  EXPECT_TRUE(has_error(p.diagnostics, "models[0].provider_id",
                        "no inference provider with provider_id 'zzz'"))
      << report(p.diagnostics);
  EXPECT_TRUE(has_error(p.diagnostics, "models[1]", "provider_id is required"))
      << report(p.diagnostics);
}

TEST(StackConfig, ServerTypesAndTlsPairsAreChecked) {
  Parsed p = parse(R"(
version: 2
image_name: x
providers: {}
server:
  port: eighty
  tls_certfile: /c.pem
)");
  EXPECT_TRUE(has_error(p.diagnostics, "server.port", "expected an integer"));
  EXPECT_TRUE(
      has_error(p.diagnostics, "server", "tls_certfile and tls_keyfile must be set together"));
}

TEST(StackConfig, AuthAndQuotaConfigsAreValidated) {
  Parsed ok = parse(R"(
version: 2
image_name: x
providers: {}
server:
  auth:
    provider_type: custom
    config: {endpoint: http://auth.example/validate}
  quota:
    kvstore: {type: sqlite, db_path: /tmp/q.db}
    anonymous_max_requests: 5
    period: day
)");
  EXPECT_FALSE(ok.diagnostics.has_errors()) << report(ok.diagnostics);
  Parsed bad = parse(R"(
version: 2
image_name: x
providers: {}
server:
  auth:
    provider_type: oauth2_token
    config: {audience: x}
  quota:
    anonymous_max_requests: 5
    period: week
)");
  EXPECT_TRUE(has_error(bad.diagnostics, "server.auth.config", "needs `jwks` or `introspection`"))
      << report(bad.diagnostics);
  EXPECT_TRUE(has_error(bad.diagnostics, "server.quota.kvstore", "required key is missing"));
  EXPECT_TRUE(has_error(bad.diagnostics, "server.quota.period", "must be 'day'"));
  Parsed later = parse(R"(
version: 2
image_name: x
providers: {}
server:
  auth:
    provider_config: {type: oauth2_token, jwks: {uri: "https://idp.example/jwks"}, issuer: https://idp.example}
)");
  EXPECT_FALSE(later.diagnostics.has_errors()) << report(later.diagnostics);
}

TEST(StackConfig, UnsupportedVersionAndKvstoreTypes) {
  Parsed p = parse(R"(
version: 3
image_name: x
providers: {}
metadata_store: {type: mongodb, host: h}
)");
  EXPECT_TRUE(has_error(p.diagnostics, "version", "unsupported config version"));
  EXPECT_TRUE(has_error(p.diagnostics, "metadata_store", "not available in this build"));
}

TEST(StackConfig, PostgresAndRedisStores) {
  Parsed p = parse(R"(
version: 2
image_name: x
providers: {}
metadata_store: {type: postgres, host: db.internal, port: "6543", db: ls, user: u, password: p,
                 table_name: registry_kv, ssl_mode: verify-full, ca_cert_path: /etc/ca.pem,
                 pool_size: 8, namespace: reg}
inference_store: {type: postgres, host: db.internal, user: u, password: p}
)");
  ASSERT_FALSE(p.diagnostics.has_errors()) << report(p.diagnostics);
  const auto& kv = *p.config.metadata_store;
  EXPECT_EQ(kv.type, "postgres");
  EXPECT_EQ(kv.postgres.host, "db.internal");
  EXPECT_EQ(kv.postgres.port, 6543);
  EXPECT_EQ(kv.postgres.db, "ls");
  EXPECT_EQ(kv.postgres.table_name, "registry_kv");
  EXPECT_EQ(kv.postgres.ssl_mode, "verify-full");
  EXPECT_EQ(kv.postgres.ca_cert_path, "/etc/ca.pem");
  EXPECT_EQ(kv.postgres.pool_size, 8);
  EXPECT_EQ(kv.namespace_, "reg");
  EXPECT_EQ(kv.describe(), "postgres://u@db.internal:6543/ls (table registry_kv)");
  EXPECT_EQ(p.config.inference_store->type, "postgres");
  EXPECT_EQ(p.config.inference_store->postgres.port, 5432);

  Parsed r = parse(R"(
version: 2
image_name: x
providers: {}
metadata_store: {type: redis, url: "redis://user:pw@cache:6380/2"}
)");
  ASSERT_FALSE(r.diagnostics.has_errors()) << report(r.diagnostics);
  const auto& redis = r.config.metadata_store->redis;
  EXPECT_EQ(redis.host, "cache");
  EXPECT_EQ(redis.port, 6380);
  EXPECT_EQ(redis.database, 2);
  EXPECT_EQ(redis.username, "user");
  EXPECT_EQ(redis.password, "pw");
  EXPECT_EQ(r.config.metadata_store->describe(), "redis://cache:6380/2");
}

TEST(StackConfig, BadSharedStoreSettingsAreErrors) {
  Parsed p = parse(R"(
version: 2
image_name: x
providers: {}
metadata_store: {type: postgres, table_name: "kv; DROP TABLE x", ssl_mode: sometimes, port: 70000}
inference_store: {type: redis}
)");
  EXPECT_TRUE(has_error(p.diagnostics, "metadata_store.table_name", "SQL identifier"));
  EXPECT_TRUE(has_error(p.diagnostics, "metadata_store.ssl_mode", "ssl_mode must be one of"));
  EXPECT_TRUE(has_error(p.diagnostics, "metadata_store.port", "out of range"));
  EXPECT_TRUE(has_error(p.diagnostics, "inference_store", "unknown sql store type 'redis'"));
  Parsed t = parse(R"(
version: 2
image_name: x
providers: {}
metadata_store: {type: redis, url: "rediss://cache:6380"}
)");
  EXPECT_TRUE(has_error(t.diagnostics, "metadata_store.url", "TLS"));
}

TEST(StackConfig, NonMappingDocumentIsAnError) {
  Parsed p = parse("- just\n- a list\n");
  EXPECT_TRUE(p.diagnostics.has_errors());
}

TEST(ResolveProviderOrder, DependenciesComeFirst) {
  Parsed p = parse(R"(
version: 2
image_name: x
providers:
  safety:
  - {provider_id: lg, provider_type: inline::llama-guard, config: {}}
  vector_io:
  - {provider_id: f, provider_type: inline::faiss, config: {kvstore: {type: sqlite, db_path: /tmp/x.db}}}
  inference:
  - {provider_id: o, provider_type: remote::ollama, config: {}}
)");
  ASSERT_FALSE(p.diagnostics.has_errors()) << report(p.diagnostics);
  auto order = resolve_provider_order(p.config, registry::ProviderRegistry::builtin());
  ASSERT_EQ(order.size(), 3u);
  EXPECT_EQ(p.config.providers[order[0]].provider_id, "o");
}

}  // namespace
}  // namespace llama_stack::config
