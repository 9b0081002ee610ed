#include "core/config/stack_config.h"

#include <algorithm>
#include <charconv>
#include <cstdlib>

#include "core/registry/apis.h"

namespace llama_stack::config {
namespace {

std::string join(const std::vector<std::string>& items, std::string_view separator) {
  std::string out;
  for (const auto& item : items) {
    if (!out.empty()) out += separator;
    out += item;
  }
  return out;
}

json::object object_or_empty(MapReader& reader, std::string_view key, Diagnostics& diagnostics) {
  const ConfigNode* n = reader.node(key);
  if (n == nullptr || n->is_null()) return {};
  if (!n->is_map()) {
    diagnostics.error(*n, "expected a mapping");
    return {};
  }
  return n->to_json().as_object();
}

void parse_providers(const ConfigNode* node, StackRunConfig& config, Diagnostics& diagnostics) {
  if (node == nullptr || node->is_null()) {
    diagnostics.error(config.root.location, "providers", "required key is missing");
    return;
  }
  if (!node->is_map()) {
    diagnostics.error(*node, "expected a mapping of api name to a list of providers");
    return;
  }
  for (const auto& [api, list] : node->entries) {
    if (registry::is_routing_table_api(api)) {
      diagnostics.error(
          list, "provider for '" + api + "' is automatically provided and cannot be overridden");
      continue;
    }
    if (!registry::is_providable_api(api)) {
      diagnostics.error(list, "unknown api '" + api + "' (known: " +
                                  join(registry::providable_api_names(), ", ") + ")");
      continue;
    }
    if (list.is_null()) continue;
    if (!list.is_sequence()) {
      diagnostics.error(list, "expected a list of providers");
      continue;
    }
    for (const auto& item : list.items) {
      MapReader reader(item, diagnostics);
      ProviderEntry entry;
      entry.api = api;
      entry.node = item;
      auto id = reader.string("provider_id");
      auto type = reader.string("provider_type", /*required=*/true);
      if (const ConfigNode* cfg = reader.node("config")) entry.config = *cfg;
      entry.config.path = item.path + ".config";
      if (entry.config.location.line == 0) entry.config.location = item.location;
      reader.finish();
      entry.provider_type = type.value_or("");
      entry.provider_id = id.value_or("");
      if (entry.provider_id.empty() || entry.provider_id == "__disabled__") {
        config.disabled_providers.push_back(std::move(entry));
        continue;
      }
      if (!entry.config.is_null() && !entry.config.is_map()) {
        diagnostics.error(entry.config, "provider config must be a mapping");
      }
      for (const auto& other : config.providers) {
        if (other.provider_id == entry.provider_id && other.api == entry.api) {
          diagnostics.error(
              item, "duplicate provider_id '" + entry.provider_id + "' for api '" + api + "'");
        }
      }
      config.providers.push_back(std::move(entry));
    }
  }
}

template <typename T, typename Fn>
std::vector<T> parse_list(MapReader& reader, std::string_view key, Diagnostics& diagnostics,
                          Fn parse_item) {
  std::vector<T> out;
  const ConfigNode* node = reader.node(key);
  if (node == nullptr || node->is_null()) return out;
  if (!node->is_sequence()) {
    diagnostics.error(*node, "expected a list");
    return out;
  }
  for (const auto& item : node->items) {
    MapReader item_reader(item, diagnostics);
    T value = parse_item(item_reader);
    value.node = item;
    item_reader.finish();
    out.push_back(std::move(value));
  }
  return out;
}

ServerConfig parse_server(const ConfigNode* node, Diagnostics& diagnostics) {
  ServerConfig server;
  if (node == nullptr) return server;
  MapReader reader(*node, diagnostics);
  if (auto port = reader.integer("port", 0, 65535)) {
    server.port = *port;
    server.port_from_config = true;
  }
  server.host = reader.string("host");
  server.tls_certfile = reader.path("tls_certfile");
  server.tls_keyfile = reader.path("tls_keyfile");
  server.tls_cafile = reader.path("tls_cafile");
  if (server.tls_certfile.has_value() != server.tls_keyfile.has_value()) {
    diagnostics.error(*node, "tls_certfile and tls_keyfile must be set together");
  }
  if (server.tls_cafile && !server.tls_certfile) {
    diagnostics.error(*node, "tls_cafile (mutual TLS) needs tls_certfile and tls_keyfile");
  }
  server.max_request_body_bytes = reader.integer("max_request_body_bytes", 1024, INT64_C(1) << 34)
                                      .value_or(server.max_request_body_bytes);
  server.max_upload_bytes =
      reader.integer("max_upload_bytes", 1024, INT64_C(1) << 40).value_or(server.max_upload_bytes);
  server.max_header_bytes =
      reader.integer("max_header_bytes", 1024, 1 << 20).value_or(server.max_header_bytes);
  server.idle_timeout_seconds =
      reader.integer("idle_timeout_seconds", 1, 86400).value_or(server.idle_timeout_seconds);
  server.request_timeout_seconds =
      reader.integer("request_timeout_seconds", 1, 86400).value_or(server.request_timeout_seconds);
  server.shutdown_timeout_seconds =
      reader.integer("shutdown_timeout_seconds", 0, 3600).value_or(server.shutdown_timeout_seconds);
  server.workers = reader.integer("workers", 0, 1024).value_or(0);
  if (const ConfigNode* auth = reader.node("auth"); auth != nullptr && !auth->is_null()) {
    server.auth = *auth;
  }
  if (const ConfigNode* quota = reader.node("quota"); quota != nullptr && !quota->is_null()) {
    server.quota = *quota;
  }
  if (const ConfigNode* oauth = reader.node("oauth"); oauth != nullptr && !oauth->is_null()) {
    server.oauth = *oauth;
  }
  if (const ConfigNode* m = reader.node("metrics"); m != nullptr && !m->is_null()) {
    MapReader mr(*m, diagnostics);
    MetricsSettings& metrics = server.metrics;
    metrics.enabled = mr.boolean("enabled").value_or(true);
    metrics.port = mr.integer("port", 1, 65535);
    metrics.host = mr.string("host");
    metrics.bearer_token = mr.string("bearer_token");
    if (metrics.bearer_token && metrics.bearer_token->empty()) metrics.bearer_token.reset();
    metrics.require_auth = mr.boolean("require_auth").value_or(true);
    metrics.principal_labels = mr.boolean("principal_labels").value_or(false);
    mr.finish();
  }
  reader.finish();
  return server;
}

// A model named as "<provider>/<model>", a model id, or {provider_id, model_id}.
std::optional<std::string> model_reference(MapReader& reader, std::string_view key,
                                           Diagnostics& diagnostics) {
  const ConfigNode* n = reader.node(key);
  if (n == nullptr || n->is_null()) return std::nullopt;
  if (n->is_scalar()) return n->scalar;
  MapReader m(*n, diagnostics);
  const std::optional<std::string> provider = m.string("provider_id");
  const std::optional<std::string> model = m.string("model_id", true);
  m.finish();
  if (!model) return std::nullopt;
  return provider ? *provider + "/" + *model : *model;
}

void parse_vector_stores(const ConfigNode& node, VectorStoresSettings& out,
                         Diagnostics& diagnostics) {
  MapReader r(node, diagnostics);
  out.default_embedding_model = model_reference(r, "default_embedding_model", diagnostics);
  out.default_provider_id = r.string("default_provider_id");
  if (const ConfigNode* q = r.node("rewrite_query_params"); q != nullptr && !q->is_null()) {
    MapReader rq(*q, diagnostics);
    out.rewrite_query_model = model_reference(rq, "model", diagnostics);
    out.rewrite_query_prompt = rq.string_or("prompt", out.rewrite_query_prompt);
    if (out.rewrite_query_prompt.find("{query}") == std::string::npos) {
      diagnostics.error(*q->find("prompt"), "the prompt must contain {query}");
    }
    out.rewrite_query_max_tokens =
        rq.integer("max_tokens", 1, 1 << 20).value_or(out.rewrite_query_max_tokens);
    out.rewrite_query_temperature =
        rq.number("temperature").value_or(out.rewrite_query_temperature);
    rq.finish();
  }
  out.max_concurrent_files_per_batch = r.integer("max_concurrent_files_per_batch", 1, 64)
                                           .value_or(out.max_concurrent_files_per_batch);
  // Later Llama Stack keys this server does not use (chunking, file search
  // and annotation prompt settings) are accepted with a warning.
  for (const char* key : {"default_reranker_strategy", "chunk_size_tokens", "chunk_overlap_tokens",
                          "file_search_params", "context_prompt_params", "annotation_prompt_params",
                          "file_ingestion_params", "chunk_retrieval_params", "file_batch_params",
                          "contextual_retrieval_params", "default_query_expansion_model"}) {
    if (const ConfigNode* ignored = r.node(key); ignored != nullptr) {
      diagnostics.warning(
          *ignored, std::string("vector_stores.") + key + " is not used by this server; ignored");
    }
  }
  r.finish();
}

}  // namespace

std::string config_dir() {
  const char* dir = std::getenv("LLAMA_STACK_CONFIG_DIR");
  if (dir != nullptr && *dir != '\0') return expand_user(dir);
  return expand_user("~/.llama");
}

namespace {

constexpr std::string_view kSslModes[] = {"disable", "allow",     "prefer",
                                          "require", "verify-ca", "verify-full"};

// Llama Stack's postgres keys (host, port, db, user, password, table_name)
// plus ssl_mode, ca_cert_path and pool_size.
storage::PostgresOptions parse_postgres(MapReader& reader, Diagnostics& diagnostics, bool kvstore) {
  storage::PostgresOptions pg;
  pg.host = reader.string_or("host", pg.host);
  pg.port = static_cast<int>(reader.integer("port", 1, 65535).value_or(pg.port));
  pg.db = reader.string_or("db", pg.db);
  pg.user = reader.string_or("user", "");
  pg.password = reader.string_or("password", "");
  if (kvstore) {
    pg.table_name = reader.string_or("table_name", pg.table_name);
    if (!storage::is_sql_identifier(pg.table_name)) {
      diagnostics.error(*reader.node("table_name"),
                        "table_name must be an SQL identifier ([A-Za-z_][A-Za-z0-9_]*, at most 63 "
                        "characters), got '" +
                            pg.table_name + "'");
    }
  }
  if (const ConfigNode* n = reader.node("ssl_mode"); n != nullptr && !n->is_null()) {
    pg.ssl_mode = n->scalar;
    if (std::find(std::begin(kSslModes), std::end(kSslModes), pg.ssl_mode) == std::end(kSslModes)) {
      diagnostics.error(*n,
                        "ssl_mode must be one of disable, allow, prefer, require, verify-ca, "
                        "verify-full; got '" +
                            pg.ssl_mode + "'");
    }
  }
  pg.ca_cert_path = reader.path("ca_cert_path").value_or("");
  pg.pool_size = static_cast<int>(reader.integer("pool_size", 1, 64).value_or(pg.pool_size));
  pg.connect_timeout_seconds = static_cast<int>(
      reader.integer("connect_timeout_seconds", 1, 300).value_or(pg.connect_timeout_seconds));
  return pg;
}

// redis://[[user]:password@]host[:port][/database]
bool parse_redis_url(std::string_view url, storage::RedisOptions& redis, std::string& error) {
  if (url.starts_with("rediss://")) {
    error =
        "rediss:// (TLS) is not available in this build: Debian 12's hiredis 0.14 has no TLS; "
        "reach Redis over a private network or a TLS tunnel";
    return false;
  }
  if (!url.starts_with("redis://")) {
    error = "url must start with redis://";
    return false;
  }
  url.remove_prefix(8);
  if (const auto at = url.rfind('@'); at != std::string_view::npos) {
    std::string_view credentials = url.substr(0, at);
    url.remove_prefix(at + 1);
    if (const auto colon = credentials.find(':'); colon != std::string_view::npos) {
      redis.username = std::string(credentials.substr(0, colon));
      redis.password = std::string(credentials.substr(colon + 1));
    } else {
      redis.password = std::string(credentials);
    }
  }
  std::string_view host_port = url.substr(0, url.find('/'));
  if (const auto slash = url.find('/'); slash != std::string_view::npos) {
    std::string_view db = url.substr(slash + 1);
    int value = 0;
    if (!db.empty()) {
      auto [end, ec] = std::from_chars(db.data(), db.data() + db.size(), value);
      if (ec != std::errc() || end != db.data() + db.size() || value < 0) {
        error = "the database in the url must be a number";
        return false;
      }
    }
    redis.database = value;
  }
  if (const auto colon = host_port.rfind(':'); colon != std::string_view::npos) {
    int port = 0;
    std::string_view p = host_port.substr(colon + 1);
    auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), port);
    if (ec != std::errc() || end != p.data() + p.size() || port < 1 || port > 65535) {
      error = "the port in the url must be 1-65535";
      return false;
    }
    redis.port = port;
    host_port = host_port.substr(0, colon);
  }
  if (!host_port.empty()) redis.host = std::string(host_port);
  return true;
}

}  // namespace

std::string KVStoreConfig::describe() const {
  if (type == "postgres") return postgres.describe() + " (table " + postgres.table_name + ")";
  if (type == "redis") return redis.describe();
  return "sqlite:" + db_path;
}

std::string SqlStoreConfig::describe() const {
  return type == "postgres" ? postgres.describe() : "sqlite:" + db_path;
}

KVStoreConfig parse_kvstore_config(const ConfigNode& node, Diagnostics& diagnostics,
                                   const std::string& default_db_path) {
  KVStoreConfig kv;
  MapReader reader(node, diagnostics);
  kv.type = reader.string_or("type", "sqlite");
  kv.namespace_ = reader.string("namespace");
  kv.refresh_interval_ms =
      reader.integer("refresh_interval_ms", 0, 3600000).value_or(kv.refresh_interval_ms);
  if (kv.type == "sqlite") {
    kv.db_path = reader.path("db_path").value_or(default_db_path);
  } else if (kv.type == "postgres") {
    kv.postgres = parse_postgres(reader, diagnostics, true);
  } else if (kv.type == "redis") {
    if (const ConfigNode* url = reader.node("url"); url != nullptr && !url->is_null()) {
      std::string error;
      if (!parse_redis_url(url->scalar, kv.redis, error)) diagnostics.error(*url, error);
    }
    kv.redis.host = reader.string_or("host", kv.redis.host);
    kv.redis.port = static_cast<int>(reader.integer("port", 1, 65535).value_or(kv.redis.port));
    kv.redis.username = reader.string_or("username", kv.redis.username);
    kv.redis.password = reader.string_or("password", kv.redis.password);
    kv.redis.database =
        static_cast<int>(reader.integer("database", 0, 1 << 20).value_or(kv.redis.database));
    kv.redis.pool_size =
        static_cast<int>(reader.integer("pool_size", 1, 64).value_or(kv.redis.pool_size));
    if (const ConfigNode* tls = reader.node("tls"); tls != nullptr && tls->scalar == "true") {
      diagnostics.error(*tls,
                        "redis tls is not available in this build: Debian 12's hiredis 0.14 has no "
                        "TLS; reach Redis over a private network or a TLS tunnel");
    }
  } else if (kv.type == "mongodb") {
    reader.accept({"host", "port", "db", "user", "password", "collection_name", "db_path"});
    diagnostics.error(node,
                      "kvstore type 'mongodb' is a known Llama Stack store, not available in "
                      "this build (supported: sqlite, postgres, redis)");
  } else {
    diagnostics.error(
        node, "unknown kvstore type '" + kv.type + "' (supported: sqlite, postgres, redis)");
  }
  reader.finish();
  return kv;
}

SqlStoreConfig parse_sql_store_config(const ConfigNode& node, Diagnostics& diagnostics,
                                      const std::string& default_db_path) {
  MapReader store(node, diagnostics);
  SqlStoreConfig sql;
  sql.type = store.string_or("type", "sqlite");
  if (sql.type == "sqlite") {
    sql.db_path = store.path("db_path").value_or(default_db_path);
  } else if (sql.type == "postgres") {
    sql.postgres = parse_postgres(store, diagnostics, false);
  } else {
    diagnostics.error(node,
                      "unknown sql store type '" + sql.type + "' (supported: sqlite, postgres)");
  }
  store.finish();
  return sql;
}

StackRunConfig parse_stack_config(const ConfigNode& root, Diagnostics& diagnostics) {
  StackRunConfig config;
  config.root = root;
  config.source_file = root.location.file;
  if (!root.is_map()) {
    diagnostics.error(root, "the config must be a YAML mapping (see docs/configuration.md)");
    return config;
  }
  MapReader reader(root, diagnostics);
  config.version = reader.string_or("version", "2");
  if (config.version != "2") {
    diagnostics.error(*reader.node("version"),
                      "unsupported config version '" + config.version + "' (supported: 2)");
  }
  auto image_name = reader.string("image_name");
  auto conda_env = reader.string("conda_env");
  config.image_name = image_name ? *image_name : conda_env.value_or("");
  reader.accept({"container_image", "datasets", "scoring_fns", "benchmarks"});
  config.apis = reader.string_list("apis");
  for (std::size_t i = 0; i < config.apis.size(); ++i) {
    const std::string& api = config.apis[i];
    if (!registry::is_known_api(api)) {
      diagnostics.error(reader.self().find("apis")->items[i],
                        "unknown api '" + api +
                            "' (known: " + join(registry::providable_api_names(), ", ") + ")");
    }
  }
  parse_providers(reader.node("providers"), config, diagnostics);

  const std::string distro_dir = config_dir() + "/distributions/" +
                                 (config.image_name.empty() ? "default" : config.image_name);
  if (const ConfigNode* n = reader.node("metadata_store"); n != nullptr && !n->is_null()) {
    config.metadata_store = parse_kvstore_config(*n, diagnostics, distro_dir + "/kvstore.db");
  }
  if (const ConfigNode* n = reader.node("inference_store"); n != nullptr && !n->is_null()) {
    config.inference_store =
        parse_sql_store_config(*n, diagnostics, distro_dir + "/inference_store.db");
  }

  config.models = parse_list<ModelInput>(reader, "models", diagnostics, [&](MapReader& r) {
    ModelInput m;
    m.model_id = r.string("model_id", true).value_or("");
    m.provider_id = r.string("provider_id");
    m.provider_model_id = r.string("provider_model_id");
    m.model_type = r.string_or("model_type", "llm");
    if (m.model_type != "llm" && m.model_type != "embedding") {
      diagnostics.error(*r.self().find("model_type"),
                        "model_type must be 'llm' or 'embedding', got '" + m.model_type + "'");
    }
    m.metadata = object_or_empty(r, "metadata", diagnostics);
    return m;
  });
  config.shields = parse_list<ShieldInput>(reader, "shields", diagnostics, [&](MapReader& r) {
    ShieldInput s;
    s.provider_id = r.string("provider_id");
    s.provider_shield_id = r.string("provider_shield_id");
    // The guide's Bedrock example names only provider_shield_id (the
    // guardrail): the shield is then known by it.
    s.shield_id = r.string("shield_id").value_or(s.provider_shield_id.value_or(""));
    if (s.shield_id.empty()) {
      diagnostics.error(r.self(), "a shield needs shield_id (or provider_shield_id, its default)");
    }
    s.params = object_or_empty(r, "params", diagnostics);
    return s;
  });
  if (const ConfigNode* n = reader.node("safety"); n != nullptr && !n->is_null()) {
    MapReader safety(*n, diagnostics);
    config.safety.default_shield_id = safety.string("default_shield_id");
    if (auto max = safety.integer("max_input_chars", 1, std::int64_t{1} << 30)) {
      config.safety.max_input_chars = *max;
    }
    safety.finish();
  }
  if (const ConfigNode* n = reader.node("vector_stores"); n != nullptr && !n->is_null()) {
    parse_vector_stores(*n, config.vector_stores, diagnostics);
  }
  config.vector_dbs =
      parse_list<VectorDBInput>(reader, "vector_dbs", diagnostics, [&](MapReader& r) {
        VectorDBInput v;
        v.vector_db_id = r.string("vector_db_id", true).value_or("");
        v.embedding_model = r.string("embedding_model", true).value_or("");
        v.embedding_dimension = r.integer("embedding_dimension", 1, 1 << 20);
        v.provider_id = r.string("provider_id");
        v.provider_vector_db_id = r.string("provider_vector_db_id");
        v.vector_db_name = r.string("vector_db_name");
        return v;
      });
  config.tool_groups =
      parse_list<ToolGroupInput>(reader, "tool_groups", diagnostics, [&](MapReader& r) {
        ToolGroupInput t;
        t.toolgroup_id = r.string("toolgroup_id", true).value_or("");
        t.provider_id = r.string("provider_id", true).value_or("");
        t.args = r.json_value("args").value_or(nullptr);
        if (const ConfigNode* mcp = r.node("mcp_endpoint"); mcp != nullptr && mcp->is_map()) {
          MapReader mr(*mcp, diagnostics);
          t.mcp_endpoint = mr.string("uri", true);
          mr.finish();
        }
        return t;
      });

  for (std::string_view key : {"logging", "logging_config"}) {
    const ConfigNode* n = reader.node(key);
    if (n == nullptr || n->is_null()) continue;
    MapReader logging(*n, diagnostics);
    if (const ConfigNode* levels = logging.node("category_levels");
        levels != nullptr && levels->is_map()) {
      for (const auto& [category, level] : levels->entries) {
        config.logging_levels.emplace_back(category, level.scalar);
      }
    } else if (levels != nullptr && !levels->is_null()) {
      diagnostics.error(*levels, "expected a mapping of category to level");
    }
    logging.finish();
  }

  config.server = parse_server(reader.node("server"), diagnostics);
  config.external_providers_dir = reader.path("external_providers_dir");
  reader.finish();
  return config;
}

}  // namespace llama_stack::config
