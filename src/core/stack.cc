#include "core/stack.h"

#include "core/storage/open_store.h"

#include <algorithm>
#include <set>

#include "core/auth/auth_config.h"
#include "core/log/log.h"
#include "llama_stack/common/errors.h"

namespace llama_stack {
namespace {

bool has_provider_for(const config::StackRunConfig& config, std::string_view api) {
  return std::any_of(config.providers.begin(), config.providers.end(),
                     [&](const auto& p) { return p.api == api; });
}

bool has_provider_id(const config::StackRunConfig& config, std::string_view api,
                     const std::string& id) {
  return std::any_of(config.providers.begin(), config.providers.end(),
                     [&](const auto& p) { return p.api == api && p.provider_id == id; });
}

void check_resource_provider(const config::StackRunConfig& config, std::string_view api,
                             const std::optional<std::string>& provider_id,
                             const config::ConfigNode& node, config::Diagnostics& diagnostics) {
  if (provider_id) {
    if (!has_provider_id(config, api, *provider_id)) {
      const config::ConfigNode* at = node.find("provider_id");
      diagnostics.error(at != nullptr ? *at : node, "no " + std::string(api) +
                                                        " provider with provider_id '" +
                                                        *provider_id + "' is configured");
    }
    return;
  }
  std::size_t count = std::count_if(config.providers.begin(), config.providers.end(),
                                    [&](const auto& p) { return p.api == api; });
  if (count != 1) {
    diagnostics.error(node, count == 0 ? "no " + std::string(api) + " provider is configured"
                                       : "provider_id is required: several " + std::string(api) +
                                             " providers are configured");
  }
}

std::string distro_dir_of(const config::StackRunConfig& config) {
  return config::config_dir() + "/distributions/" +
         (config.image_name.empty() ? "default" : config.image_name);
}

}  // namespace

security::ServerSecurity validate_stack_config(const config::StackRunConfig& config,
                                               const registry::ProviderRegistry& providers,
                                               config::Diagnostics& diagnostics) {
  for (const auto& entry : config.providers) {
    if (!config.apis.empty() &&
        std::find(config.apis.begin(), config.apis.end(), entry.api) == config.apis.end()) {
      diagnostics.warning(entry.node,
                          "api '" + entry.api +
                              "' is not listed in `apis`: this provider is created "
                              "(others may depend on it) but its routes are not served");
    }
    const auto* spec = providers.find(entry.api, entry.provider_type);
    if (spec == nullptr) {
      const config::ConfigNode* at = entry.node.find("provider_type");
      diagnostics.error(at != nullptr ? *at : entry.node,
                        providers.explain_unsupported(entry.api, entry.provider_type));
      continue;
    }
    spec->validate_config(entry.config, diagnostics);
    for (const auto& dep : spec->api_dependencies) {
      if (!has_provider_for(config, dep)) {
        diagnostics.error(entry.node, entry.provider_type + " (provider '" + entry.provider_id +
                                          "') needs a provider for api '" + dep +
                                          "', and none is configured");
      }
    }
  }
  for (const auto& m : config.models) {
    check_resource_provider(config, "inference", m.provider_id, m.node, diagnostics);
  }
  for (const auto& s : config.shields) {
    check_resource_provider(config, "safety", s.provider_id, s.node, diagnostics);
  }
  for (const auto& v : config.vector_dbs) {
    check_resource_provider(config, "vector_io", v.provider_id, v.node, diagnostics);
  }
  for (const auto& t : config.tool_groups) {
    check_resource_provider(config, "tool_runtime", t.provider_id, t.node, diagnostics);
  }
  security::ServerSecurity security =
      security::parse_server_security(config, distro_dir_of(config), diagnostics);
  if (config.external_providers_dir) {
    const config::ConfigNode* at = config.root.find("external_providers_dir");
    diagnostics.warning(at != nullptr ? *at : config.root,
                        "external providers (Python modules) are not supported by this server; "
                        "external_providers_dir is ignored");
  }
  return security;
}

std::vector<std::size_t> resolve_provider_order(const config::StackRunConfig& config,
                                                const registry::ProviderRegistry& providers) {
  // Kahn's algorithm over APIs: a provider is ready once every API it depends on
  // has all its providers created.
  const std::size_t n = config.providers.size();
  std::vector<std::size_t> order;
  std::vector<bool> done(n, false);
  auto api_complete = [&](std::string_view api) {
    for (std::size_t i = 0; i < n; ++i) {
      if (config.providers[i].api == api && !done[i]) return false;
    }
    return true;
  };
  while (order.size() < n) {
    bool progressed = false;
    for (std::size_t i = 0; i < n; ++i) {
      if (done[i]) continue;
      const auto* spec = providers.find(config.providers[i].api, config.providers[i].provider_type);
      bool ready = true;
      if (spec != nullptr) {
        for (const auto& dep : spec->api_dependencies) ready = ready && api_complete(dep);
        for (const auto& dep : spec->optional_dependencies) ready = ready && api_complete(dep);
      }
      if (ready) {
        done[i] = true;
        order.push_back(i);
        progressed = true;
      }
    }
    if (!progressed) throw StartupError("provider dependencies form a cycle");
  }
  return order;
}

Stack::Stack(config::StackRunConfig config, security::ServerSecurity security,
             const registry::ProviderRegistry& providers, IoRuntime& runtime)
    : config_(std::move(config)),
      security_(std::move(security)),
      registry_(providers),
      runtime_(runtime) {}

Stack::~Stack() {
  shutdown();
}

void Stack::initialize() {
  // 1. Metadata store (registry of resources).
  config::Diagnostics diagnostics;
  const std::string distro_dir = distro_dir_of(config_);
  config::KVStoreConfig kv =
      config_.metadata_store.value_or(config::KVStoreConfig::sqlite(distro_dir + "/kvstore.db"));
  metadata_store_path_ = kv.db_path;
  try {
    metadata_store_ = storage::open_kvstore(kv);
    resources_ = std::make_unique<registry::ResourceRegistry>(metadata_store_);
    resources_->load();
  } catch (const storage::StorageError& e) {
    throw StartupError("metadata_store (" + kv.describe() + "): " + e.what());
  }
  LS_INFO(kCore, "metadata store: {}", kv.describe());
  if (kv.refresh_interval_ms > 0) {
    refresher_ = std::make_unique<registry::RegistryRefresher>(
        *resources_, std::chrono::milliseconds(kv.refresh_interval_ms));
  }

  // 2. Policy, audit log, rate limiter and the inference store: the routers
  //    need them.
  policy_ = std::make_unique<security::Policy>(security_.oauth, security_.access_policy);
  const security::OAuthSettings& oauth = policy_->oauth();
  if (oauth.audit.enabled) {
    security::AuditOptions options;
    options.sink = oauth.audit.sink == "file" ? security::AuditOptions::Sink::kFile
                                              : security::AuditOptions::Sink::kStdout;
    options.path = oauth.audit.path;
    options.max_bytes = static_cast<std::size_t>(oauth.audit.max_bytes);
    options.max_files = static_cast<int>(oauth.audit.max_files);
    options.min_level =
        security::parse_audit_level(oauth.audit.level).value_or(security::AuditLevel::kInfo);
    options.include_content = oauth.audit.include_content;
    options.strict = oauth.audit.strict;
    try {
      audit_ = std::make_unique<security::AuditLog>(options);
    } catch (const std::exception& e) {
      throw StartupError(std::string("server.oauth.audit_log: ") + e.what());
    }
  }
  if (oauth.enable_rate_limiting) {
    try {
      rate_limiter_ =
          std::make_shared<security::RateLimiter>(storage::open_kvstore(oauth.rate_limit_store));
    } catch (const std::exception& e) {
      throw StartupError("server.oauth.rate_limit_store (" + oauth.rate_limit_store.describe() +
                         "): " + e.what());
    }
  }
  if (config_.inference_store) {
    try {
      inference_store_ = std::make_unique<storage::InferenceStore>(
          storage::open_sql_store(*config_.inference_store));
    } catch (const storage::StorageError& e) {
      throw StartupError("inference_store (" + config_.inference_store->describe() +
                         "): " + e.what());
    }
    LS_INFO(kCore, "inference store: {}", config_.inference_store->describe());
  }

  // 3. Routing tables and routers, before the providers: providers get the
  //    routers as their dependencies (ProviderDeps), as in Llama Stack.
  models_ = std::make_unique<routing::ModelsRoutingTable>(
      *resources_, std::map<std::string, providers::InferenceProvider*>{});
  shields_ = std::make_unique<routing::ShieldsRoutingTable>(
      *resources_, std::map<std::string, providers::SafetyProvider*>{});
  vector_dbs_ = std::make_unique<routing::VectorDBsRoutingTable>(
      *resources_, *models_, std::map<std::string, providers::VectorIOProvider*>{});
  inference_ = std::make_unique<routing::InferenceRouter>(*models_, *policy_, audit_.get(),
                                                          inference_store_.get());
  resource_access_ = std::make_unique<routing::ResourceAccess>(*policy_, audit_.get());
  deps_.inference = inference_.get();
  safety_ = std::make_unique<routing::SafetyRouter>(*shields_, *resource_access_, config_.safety);
  deps_.safety = safety_.get();
  vector_io_ =
      std::make_unique<routing::VectorIORouter>(*vector_dbs_, *resource_access_, *inference_);
  deps_.vector_io = vector_io_.get();
  tool_groups_ = std::make_unique<routing::ToolGroupsRoutingTable>(
      *resources_, std::map<std::string, providers::ToolRuntimeProvider*>{});
  tool_runtime_ = std::make_unique<routing::ToolRuntimeRouter>(*tool_groups_, *resource_access_);
  deps_.tool_runtime = tool_runtime_.get();
  files_ = std::make_unique<routing::FilesRouter>(*resource_access_);
  deps_.files = files_.get();
  agents_ = std::make_unique<routing::AgentsRouter>(*resource_access_);
  responses_ = std::make_unique<routing::ResponsesRouter>(*resource_access_, *agents_);
  conversations_ =
      std::make_unique<routing::ConversationsRouter>(*resource_access_, metadata_store_);
  deps_.conversations = conversations_.get();
  workers_ = std::make_unique<async::ThreadPool>(
      std::max<std::size_t>(2, std::thread::hardware_concurrency()));
  if (security_.oauth.content_safety.enforce) {
    content_safety_ = std::make_unique<routing::ContentSafety>(security_.oauth.content_safety,
                                                               *safety_, audit_.get());
    inference_->set_content_safety(content_safety_.get());
  }

  // 4. Providers, in dependency order; each joins its routing table.
  for (std::size_t index : resolve_provider_order(config_, registry_)) {
    const auto& entry = config_.providers[index];
    const auto* spec = registry_.find(entry.api, entry.provider_type);
    if (spec == nullptr) {
      throw StartupError(registry_.explain_unsupported(entry.api, entry.provider_type));
    }
    providers::ProviderContext context{entry.api, entry.provider_id, entry.provider_type,
                                       &deps_,    &runtime_,         workers_.get()};
    ProviderInstance instance{entry, spec, nullptr};
    try {
      instance.impl = spec->create(context, entry.config);
      instance.impl->initialize();
    } catch (const std::exception& e) {
      throw StartupError("provider '" + entry.provider_id + "' (" + entry.provider_type +
                         "): " + e.what());
    }
    providers::Provider* impl = instance.impl.get();
    if (auto* i = dynamic_cast<providers::InferenceProvider*>(impl)) {
      models_->add_provider(entry.provider_id, i);
    }
    if (auto* s = dynamic_cast<providers::SafetyProvider*>(impl)) {
      shields_->add_provider(entry.provider_id, s);
    }
    if (auto* f = dynamic_cast<providers::FilesProvider*>(impl)) files_->add_provider(f);
    if (auto* a = dynamic_cast<providers::AgentsProvider*>(impl)) agents_->add_provider(a);
    if (auto* t = dynamic_cast<providers::TelemetryProvider*>(impl);
        t && !services_.telemetry_api) {
      services_.telemetry_api = t;  // the first telemetry provider serves the API
    }
    if (auto* t = dynamic_cast<providers::ToolRuntimeProvider*>(impl)) {
      tool_groups_->add_provider(entry.provider_id, t);
    }
    if (auto* v = dynamic_cast<providers::VectorIOProvider*>(impl)) {
      vector_dbs_->add_provider(entry.provider_id, v);
    }
    LS_INFO(kCore, "provider {} ({}) for {} ready", entry.provider_id, entry.provider_type,
            entry.api);
    providers_.push_back(std::move(instance));
  }
  for (const auto& disabled : config_.disabled_providers) {
    LS_INFO(kCore, "provider {} for api {} is disabled", disabled.provider_type, disabled.api);
  }

  if (services_.telemetry_api != nullptr) {
    telemetry_router_ =
        std::make_unique<routing::TelemetryRouter>(*services_.telemetry_api, *resource_access_);
  }
  inference_->set_telemetry(services_.telemetry_api);
  deps_.telemetry = services_.telemetry_api;
  safety_->set_telemetry(services_.telemetry_api);
  tool_runtime_->set_telemetry(services_.telemetry_api);
  vector_io_->set_telemetry(services_.telemetry_api);

  // The vector stores router: over the routers above and the providers'
  // vector DBs; its records live in the metadata store.
  routing::VectorStoresDeps vs;
  vs.vector_dbs = vector_dbs_.get();
  vs.models = models_.get();
  vs.access = resource_access_.get();
  vs.vector_io = vector_io_.get();
  vs.files = files_->configured() ? files_.get() : nullptr;
  vs.inference = inference_.get();
  vs.workers = workers_.get();
  vs.document_text = registry_.document_text();
  for (const auto& p : providers_) {
    if (p.entry.api == "vector_io") vs.provider_ids.push_back(p.entry.provider_id);
  }
  vector_stores_ = std::make_unique<routing::VectorStoresRouter>(
      std::move(vs), config_.vector_stores, metadata_store_);
  vector_stores_->initialize();
  deps_.vector_stores = vector_stores_.get();

  services_.config = &config_;
  services_.provider_list = &providers_;
  services_.model_table = models_.get();
  services_.shield_table = shields_.get();
  services_.vector_db_table = vector_dbs_.get();
  services_.inference_router = inference_.get();
  services_.safety_router = safety_.get();
  services_.vector_io_router = vector_io_.get();
  services_.tool_group_table = tool_groups_.get();
  services_.tool_runtime_router = tool_runtime_.get();
  services_.files_router = files_.get();
  services_.vector_stores_router = vector_stores_.get();
  services_.agents_router = agents_.get();
  services_.responses_router = responses_.get();
  services_.conversations_router = conversations_.get();
  services_.workers = workers_.get();
  services_.store = inference_store_.get();
  services_.access_policy = policy_.get();
  services_.resource_access = resource_access_.get();
  services_.telemetry_router = telemetry_router_.get();
  services_.audit_log = audit_.get();

  // 5. Resources declared in run.yaml.
  register_config_resources();

  // 6. Models the upstreams serve (refresh_models), in the background: a
  //    model server that is down must not delay startup.
  discovery_ = std::thread([this] { discover_models(); });
}

void Stack::discover_models() {
  for (auto& p : providers_) {
    auto* inference = dynamic_cast<providers::InferenceProvider*>(p.impl.get());
    if (inference == nullptr || !inference->discovers_models()) continue;
    std::vector<std::string> names;
    try {
      names = inference->list_upstream_models();
    } catch (const std::exception& e) {
      LS_WARN(kCore, "model discovery for {} failed: {}", p.entry.provider_id, e.what());
      continue;
    }
    std::size_t added = 0;
    for (const auto& name : names) {
      const std::string id = p.entry.provider_id + "/" + name;
      if (models_->find(id)) continue;
      routing::RegisterModelRequest request;
      request.model_id = id;
      request.provider_id = p.entry.provider_id;
      request.provider_model_id = name;
      request.metadata["discovered"] = true;
      try {
        models_->register_model(request, routing::OnExisting::kConflict);
        ++added;
      } catch (const std::exception& e) {
        LS_DEBUG(kCore, "model discovery: {} not registered: {}", id, e.what());
      }
    }
    LS_INFO(kCore, "model discovery for {}: {} upstream model(s), {} new", p.entry.provider_id,
            names.size(), added);
  }
}

void Stack::register_config_resources() {
  auto fail = [](const config::ConfigNode& node, const std::exception& e) {
    throw StartupError(config::Diagnostic{true, node.location, node.path, e.what()}.format());
  };
  for (const auto& m : config_.models) {
    if (m.provider_model_id && m.provider_model_id->find("__disabled__") != std::string::npos) {
      continue;
    }
    routing::RegisterModelRequest request;
    request.model_id = m.model_id;
    request.provider_id = m.provider_id;
    request.provider_model_id = m.provider_model_id;
    request.metadata = m.metadata;
    request.model_type = apis::parse_model_type(m.model_type).value_or(apis::ModelType::kLlm);
    try {
      models_->register_model(request, routing::OnExisting::kReplace);
    } catch (const std::exception& e) {
      fail(m.node, e);
    }
  }
  for (const auto& s : config_.shields) {
    if (s.disabled()) continue;
    routing::RegisterShieldRequest request;
    request.shield_id = s.shield_id;
    request.provider_id = s.provider_id;
    request.provider_shield_id = s.provider_shield_id;
    request.params = s.params;
    try {
      shields_->register_shield(request, routing::OnExisting::kReplace);
    } catch (const std::exception& e) {
      fail(s.node, e);
    }
  }
  for (const auto& t : config_.tool_groups) {
    routing::RegisterToolGroupRequest request;
    request.toolgroup_id = t.toolgroup_id;
    request.provider_id = t.provider_id;
    request.mcp_endpoint = t.mcp_endpoint;
    request.args = t.args;
    try {
      tool_groups_->register_toolgroup(request, routing::OnExisting::kReplace);
    } catch (const std::exception& e) {
      fail(t.node, e);
    }
  }
  for (const auto& v : config_.vector_dbs) {
    routing::RegisterVectorDBRequest request;
    request.vector_db_id = v.vector_db_id;
    request.embedding_model = v.embedding_model;
    request.embedding_dimension = v.embedding_dimension;
    request.provider_id = v.provider_id;
    request.provider_vector_db_id = v.provider_vector_db_id;
    request.vector_db_name = v.vector_db_name;
    try {
      vector_dbs_->register_vector_db(request, routing::OnExisting::kReplace);
    } catch (const std::exception& e) {
      fail(v.node, e);
    }
  }
}

void Stack::shutdown() noexcept {
  if (shut_down_) return;
  shut_down_ = true;
  refresher_.reset();
  if (discovery_.joinable()) discovery_.join();
  if (vector_stores_) vector_stores_->shutdown();  // its batches use the providers
  inference_store_.reset();                        // writes what is queued
  if (audit_) audit_->flush();
  for (auto it = providers_.rbegin(); it != providers_.rend(); ++it) {
    if (it->impl) it->impl->shutdown();
  }
  try {
    if (metadata_store_) metadata_store_->flush();
  } catch (const std::exception& e) {
    LS_WARN(kCore, "flushing metadata store failed: {}", e.what());
  }
}

}  // namespace llama_stack
