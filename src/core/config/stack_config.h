// The run.yaml model (Llama Stack config `version: 2`) and its parser.
// Parsing validates types and ranges and reports every problem with
// file:line:column and key path; provider-specific `config` maps are
// validated later by the provider registry (they depend on provider_type).
#pragma once

#include "core/config/config_node.h"

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "llama_stack/storage/kvstore.h"

namespace llama_stack::config {

struct ProviderEntry {
  std::string api;  // the providers.<api> key, e.g. "inference"
  std::string provider_id;
  std::string provider_type;
  ConfigNode config;  // provider-specific; validated by the provider's parser
  ConfigNode node;    // the whole entry, for error locations
};

// Key-value store config (metadata_store, quota.kvstore, provider kvstores).
struct KVStoreConfig {
  std::string type = "sqlite";  // sqlite | postgres | redis
  std::optional<std::string> namespace_;
  std::string db_path;                // sqlite
  storage::PostgresOptions postgres;  // postgres
  storage::RedisOptions redis;        // redis
  // Registry only: how often a replica looks for changes others made (ms; 0 = never).
  std::int64_t refresh_interval_ms = 1000;
  // "sqlite:<path>", "postgres://user@host:port/db" or "redis://host:port/db".
  std::string describe() const;
  static KVStoreConfig sqlite(std::string db_path) {
    KVStoreConfig c;
    c.db_path = std::move(db_path);
    return c;
  }
};

// SQL store config (inference_store, files metadata_store).
struct SqlStoreConfig {
  std::string type = "sqlite";  // sqlite | postgres
  std::string db_path;
  storage::PostgresOptions postgres;
  std::string describe() const;
};

struct ModelInput {
  std::string model_id;
  std::optional<std::string> provider_id;
  std::optional<std::string> provider_model_id;
  std::string model_type = "llm";
  json::object metadata;
  ConfigNode node;
};

struct ShieldInput {
  std::string shield_id;
  std::optional<std::string> provider_id;
  std::optional<std::string> provider_shield_id;
  json::object params;
  ConfigNode node;
  // An id containing "__disabled__" (e.g. ${env.SAFETY_MODEL:=__disabled__})
  // skips the entry, as for models.
  bool disabled() const {
    return shield_id.find("__disabled__") != std::string::npos ||
           (provider_shield_id && provider_shield_id->find("__disabled__") != std::string::npos);
  }
};

struct VectorDBInput {
  std::string vector_db_id;
  std::string embedding_model;
  std::optional<std::int64_t> embedding_dimension;
  std::optional<std::string> provider_id;
  std::optional<std::string> provider_vector_db_id;
  std::optional<std::string> vector_db_name;
  ConfigNode node;
};

struct ToolGroupInput {
  std::string toolgroup_id;
  std::string provider_id;
  json::value args;
  std::optional<std::string> mcp_endpoint;
  ConfigNode node;
};

// `server.metrics:` (ours): the Prometheus endpoint.
struct MetricsSettings {
  bool enabled = true;  // record metrics and serve GET /metrics
  // Set: /metrics is served on this port only (plain HTTP), not the API port.
  std::optional<std::int64_t> port;
  std::optional<std::string> host;  // of the metrics port; unset → server.host
  // Set: a scrape must send `Authorization: Bearer <token>` (instead of the
  // server's authentication).
  std::optional<std::string> bearer_token;
  // On the API port with server.auth configured and no bearer_token,
  // /metrics needs an authenticated caller unless this is false.
  bool require_auth = true;
  bool principal_labels = false;  // token counters labelled by principal
};

struct ServerConfig {
  std::int64_t port = 8321;
  bool port_from_config = false;
  std::optional<std::string> host;  // unset → all interfaces, IPv4 and IPv6
  std::optional<std::string> tls_certfile;
  std::optional<std::string> tls_keyfile;
  std::optional<std::string> tls_cafile;
  // Extensions of ours (not in the Python server); see docs/configuration.md.
  std::int64_t max_request_body_bytes = 16 * 1024 * 1024;
  // Uploads (the Files API) are written to disk as they arrive, up to this.
  std::int64_t max_upload_bytes = std::int64_t{1} << 30;
  std::int64_t max_header_bytes = 16 * 1024;
  std::int64_t idle_timeout_seconds = 60;
  std::int64_t request_timeout_seconds = 60;
  std::int64_t shutdown_timeout_seconds = 10;
  std::int64_t workers = 0;  // I/O threads; 0 → number of cores
  // Present when configured; implemented by the security issues.
  std::optional<ConfigNode> auth;
  std::optional<ConfigNode> quota;
  std::optional<ConfigNode> oauth;  // OAuth 2.1 resource-server extensions (ours)
  MetricsSettings metrics;
};

// `safety:` (ours): defaults of the Safety API.
struct SafetySettings {
  // The shield OpenAI moderations use when the request names no `model`.
  std::optional<std::string> default_shield_id;
  // Longest text (characters, all messages together) a shield is asked to
  // judge: run-shield, moderations and content-safety enforcement answer
  // 413 above it.
  std::int64_t max_input_chars = 256 * 1024;
};

// `vector_stores:` (Llama Stack's): defaults of the vector stores API.
struct VectorStoresSettings {
  // The embedding model of a store created without one ("<provider>/<model>"
  // or a registered model id); unset: the first embedding model registered.
  std::optional<std::string> default_embedding_model;
  // The vector_io provider of a store created without provider_id when
  // several are configured.
  std::optional<std::string> default_provider_id;
  // rewrite_query: the chat model asked to rewrite a search query (unset:
  // rewrite_query is a 400), with this prompt ({query} is replaced).
  std::optional<std::string> rewrite_query_model;
  std::string rewrite_query_prompt =
      "Expand this query with relevant synonyms and related terms. Return only the improved "
      "query, no explanations:\n\n{query}\n\nImproved query:";
  std::int64_t rewrite_query_max_tokens = 100;
  double rewrite_query_temperature = 0.3;
  // How many files of a file batch are indexed at once.
  std::int64_t max_concurrent_files_per_batch = 3;
};

struct StackRunConfig {
  std::string source_file;
  std::string version = "2";
  std::string image_name;
  std::vector<std::string> apis;
  std::vector<ProviderEntry> providers;  // file order, disabled entries removed
  std::vector<ProviderEntry> disabled_providers;
  std::optional<KVStoreConfig> metadata_store;
  std::optional<SqlStoreConfig> inference_store;
  std::vector<ModelInput> models;
  std::vector<ShieldInput> shields;
  SafetySettings safety;
  VectorStoresSettings vector_stores;
  std::vector<VectorDBInput> vector_dbs;
  std::vector<ToolGroupInput> tool_groups;
  std::vector<std::pair<std::string, std::string>> logging_levels;
  ServerConfig server;
  std::optional<std::string> external_providers_dir;
  ConfigNode root;  // the substituted document, for /v1/providers and diagnostics
};

// Parses a KVStore config map at `node`.
// Parses a SQL store config map at `node` (sqlite, postgres).
SqlStoreConfig parse_sql_store_config(const ConfigNode& node, Diagnostics& diagnostics,
                                      const std::string& default_db_path);
KVStoreConfig parse_kvstore_config(const ConfigNode& node, Diagnostics& diagnostics,
                                   const std::string& default_db_path);

// Parses the document. Returns a config even with errors (check
// diagnostics.has_errors()), so that all problems are reported together.
StackRunConfig parse_stack_config(const ConfigNode& root, Diagnostics& diagnostics);

// $LLAMA_STACK_CONFIG_DIR or ~/.llama
std::string config_dir();

}  // namespace llama_stack::config
