// The Stack: everything a run.yaml describes, built and wired together —
// metadata store, resource registry, providers (created by the resolver in
// dependency order), routing tables, routers and the policy: the composition
// root. What the server is built from is services(); the Stack includes no
// server header.
#pragma once

#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "core/auth/access_policy.h"
#include "core/auth/auth_config.h"
#include "core/config/stack_config.h"
#include "core/registry/provider_registry.h"
#include "core/registry/resource_registry.h"
#include "core/routing/agents_router.h"
#include "core/routing/conversations_router.h"
#include "core/routing/files_router.h"
#include "core/routing/inference_router.h"
#include "core/routing/resource_access.h"
#include "core/routing/responses_router.h"
#include "core/routing/routing_tables.h"
#include "core/routing/safety_router.h"
#include "core/routing/tool_runtime_router.h"
#include "core/routing/vector_io_router.h"
#include "core/routing/vector_stores_router.h"
#include "core/runtime/io_runtime.h"
#include "core/security/audit_log.h"
#include "core/security/policy.h"
#include "core/security/rate_limiter.h"
#include "core/security/security_config.h"
#include "core/security/server_security.h"
#include "core/services/services.h"
#include "core/storage/inference_store.h"
#include "llama_stack/async/thread_pool.h"

namespace llama_stack {

// Startup failed; the message says what and where.
class StartupError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Checks everything that can be checked without opening stores or sockets:
// provider types and their configs, dependencies, resource references.
// Returns the typed security sections (parsed once; pass them to the Stack).
security::ServerSecurity validate_stack_config(const config::StackRunConfig& config,
                                               const registry::ProviderRegistry& providers,
                                               config::Diagnostics& diagnostics);

// The order in which providers must be created so that each one's API
// dependencies exist first. Throws StartupError on a cycle.
std::vector<std::size_t> resolve_provider_order(const config::StackRunConfig& config,
                                                const registry::ProviderRegistry& providers);

class Stack {
 public:
  using ProviderInstance = llama_stack::ProviderInstance;

  // `runtime` runs the providers' I/O (upstream HTTP); it must outlive the stack.
  // `security` is what validate_stack_config returned for `config`.
  Stack(config::StackRunConfig config, security::ServerSecurity security,
        const registry::ProviderRegistry& providers, IoRuntime& runtime);
  ~Stack();
  Stack(const Stack&) = delete;
  Stack& operator=(const Stack&) = delete;

  // Opens stores, creates and initializes providers, registers the
  // resources declared in run.yaml. Throws StartupError.
  void initialize();
  // Shuts providers down in reverse order and flushes stores. Idempotent.
  void shutdown() noexcept;

  const config::StackRunConfig& config() const { return config_; }
  const security::ServerSecurity& security() const { return security_; }
  const std::vector<ProviderInstance>& providers() const { return providers_; }
  routing::ModelsRoutingTable& models() { return *models_; }
  routing::ShieldsRoutingTable& shields() { return *shields_; }
  routing::VectorDBsRoutingTable& vector_dbs() { return *vector_dbs_; }
  routing::InferenceRouter& inference() { return *inference_; }
  // Null unless run.yaml configures `inference_store`.
  storage::InferenceStore* inference_store() { return inference_store_.get(); }
  const std::string& metadata_store_path() const { return metadata_store_path_; }

  // server.oauth (and the LLAMA_STACK_OAUTH_* environment variables).
  const security::OAuthSettings& oauth() const { return policy_->oauth(); }
  // Access decisions (access policy, scopes) for every router and route.
  const security::Policy& policy() const { return *policy_; }
  // The audit log (server.oauth.enable_audit_logging), or null.
  security::AuditLog* audit() const { return audit_.get(); }
  // The tiered rate limiter (server.oauth.enable_rate_limiting), or null.
  std::shared_ptr<security::RateLimiter> rate_limiter() const { return rate_limiter_; }
  // What routes and orchestrators are built from (valid after initialize()).
  const Services& services() const { return services_; }

 private:
  void register_config_resources();
  // refresh_models: registers the models upstreams serve as "<provider_id>/<name>".
  void discover_models();

  config::StackRunConfig config_;
  security::ServerSecurity security_;
  const registry::ProviderRegistry& registry_;
  IoRuntime& runtime_;
  std::string metadata_store_path_;
  std::shared_ptr<storage::KVStore> metadata_store_;
  std::unique_ptr<registry::ResourceRegistry> resources_;
  std::unique_ptr<registry::RegistryRefresher> refresher_;  // after resources_: stops first
  std::vector<ProviderInstance> providers_;                 // in creation order
  providers::ProviderDeps deps_;
  std::unique_ptr<routing::ModelsRoutingTable> models_;
  std::unique_ptr<routing::ShieldsRoutingTable> shields_;
  std::unique_ptr<routing::VectorDBsRoutingTable> vector_dbs_;
  std::unique_ptr<routing::InferenceRouter> inference_;
  std::unique_ptr<routing::SafetyRouter> safety_;
  std::unique_ptr<routing::ContentSafety> content_safety_;
  std::unique_ptr<routing::VectorIORouter> vector_io_;
  std::unique_ptr<routing::ToolGroupsRoutingTable> tool_groups_;
  std::unique_ptr<routing::ToolRuntimeRouter> tool_runtime_;
  std::unique_ptr<routing::FilesRouter> files_;
  std::unique_ptr<routing::VectorStoresRouter> vector_stores_;
  std::unique_ptr<routing::AgentsRouter> agents_;
  std::unique_ptr<routing::ResponsesRouter> responses_;
  std::unique_ptr<routing::ConversationsRouter> conversations_;
  std::unique_ptr<async::ThreadPool> workers_;  // providers' CPU-heavy work
  std::unique_ptr<storage::InferenceStore> inference_store_;
  std::unique_ptr<security::Policy> policy_;
  std::unique_ptr<routing::ResourceAccess> resource_access_;
  std::unique_ptr<routing::TelemetryRouter> telemetry_router_;
  std::unique_ptr<security::AuditLog> audit_;
  std::shared_ptr<security::RateLimiter> rate_limiter_;
  Services services_;
  bool shut_down_ = false;
  std::thread discovery_;
};

}  // namespace llama_stack
