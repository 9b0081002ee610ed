// The Stack: everything a run.yaml describes, built and wired together —
// metadata store, resource registry, providers (created by the resolver in
// dependency order), routing tables, and the route table served over HTTP.
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
#include "core/routing/inference_router.h"
#include "core/routing/routing_tables.h"
#include "core/runtime/io_runtime.h"
#include "core/security/audit_log.h"
#include "core/security/rate_limiter.h"
#include "core/security/security_config.h"
#include "core/server/route_table.h"
#include "core/storage/inference_store.h"

namespace llama_stack {

// Startup failed; the message says what and where.
class StartupError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Checks everything that can be checked without opening stores or sockets:
// provider types and their configs, dependencies, resource references.
void validate_stack_config(const config::StackRunConfig& config,
                           const registry::ProviderRegistry& providers,
                           config::Diagnostics& diagnostics);

// The order in which providers must be created so that each one's API
// dependencies exist first. Throws StartupError on a cycle.
std::vector<std::size_t> resolve_provider_order(const config::StackRunConfig& config,
                                                const registry::ProviderRegistry& providers);

class Stack {
 public:
  struct ProviderInstance {
    config::ProviderEntry entry;
    const providers::ProviderSpec* spec = nullptr;
    std::unique_ptr<providers::Provider> impl;
  };

  // `runtime` runs the providers' I/O (upstream HTTP); it must outlive the stack.
  Stack(config::StackRunConfig config, const registry::ProviderRegistry& providers,
        IoRuntime& runtime);
  ~Stack();
  Stack(const Stack&) = delete;
  Stack& operator=(const Stack&) = delete;

  // Opens stores, creates and initializes providers, registers the
  // resources declared in run.yaml. Throws StartupError.
  void initialize();
  // Shuts providers down in reverse order and flushes stores. Idempotent.
  void shutdown() noexcept;

  const config::StackRunConfig& config() const { return config_; }
  const std::vector<ProviderInstance>& providers() const { return providers_; }
  routing::ModelsRoutingTable& models() { return *models_; }
  routing::ShieldsRoutingTable& shields() { return *shields_; }
  routing::VectorDBsRoutingTable& vector_dbs() { return *vector_dbs_; }
  routing::InferenceRouter& inference() { return *inference_; }
  // Null unless run.yaml configures `inference_store`.
  storage::InferenceStore* inference_store() { return inference_store_.get(); }
  const std::string& metadata_store_path() const { return metadata_store_path_; }

  // The access policy (server.auth.access_policy; Llama Stack's default when
  // auth is on and none is given). Always true without auth or without a user.
  bool allows(auth::Action action, const std::string& type, const std::string& identifier,
              const std::optional<apis::Owner>& owner,
              const std::optional<apis::Owner>& user) const;

  // server.oauth (and the LLAMA_STACK_OAUTH_* environment variables).
  const security::OAuthSettings& oauth() const { return oauth_; }
  // The audit log (server.oauth.enable_audit_logging), or null.
  security::AuditLog* audit() const { return audit_.get(); }
  // The tiered rate limiter (server.oauth.enable_rate_limiting), or null.
  std::shared_ptr<security::RateLimiter> rate_limiter() const { return rate_limiter_; }
  // Model access by scope: nullopt when `scopes` may use the model, else why not.
  std::optional<std::string> model_scope_denial(const apis::Model& model,
                                                const std::vector<std::string>& scopes) const;
  // Scope checks for shields and vector DBs (same rules as models, but a
  // resource without a required scope stays open).
  std::optional<std::string> resource_scope_denial(std::string_view type, const std::string& id,
                                                   const json::object& params,
                                                   const std::vector<std::string>& scopes) const;
  // The effective server.auth: the configured one, or one built from
  // server.oauth.auth_server_uri when enable_auth is on.
  static std::optional<auth::AuthConfig> effective_auth(const config::StackRunConfig& config,
                                                        const security::OAuthSettings& oauth,
                                                        config::Diagnostics& diagnostics);

  // Whether the routes of `api` are served (see `apis` in run.yaml).
  bool serves(std::string_view api) const;
  // The HTTP routes for every API this stack serves.
  server::RouteTable build_routes();

 private:
  void register_config_resources();
  // refresh_models: registers the models upstreams serve as "<provider_id>/<name>".
  void discover_models();

  config::StackRunConfig config_;
  const registry::ProviderRegistry& registry_;
  IoRuntime& runtime_;
  std::string metadata_store_path_;
  std::shared_ptr<storage::KVStore> metadata_store_;
  std::unique_ptr<registry::ResourceRegistry> resources_;
  std::vector<ProviderInstance> providers_;  // in creation order
  providers::ProviderDeps deps_;
  std::unique_ptr<routing::ModelsRoutingTable> models_;
  std::unique_ptr<routing::ShieldsRoutingTable> shields_;
  std::unique_ptr<routing::VectorDBsRoutingTable> vector_dbs_;
  std::unique_ptr<routing::InferenceRouter> inference_;
  std::unique_ptr<storage::InferenceStore> inference_store_;
  std::optional<auth::AccessPolicy> access_policy_;
  security::OAuthSettings oauth_;
  std::unique_ptr<security::AuditLog> audit_;
  std::shared_ptr<security::RateLimiter> rate_limiter_;
  bool shut_down_ = false;
  std::thread discovery_;
};

}  // namespace llama_stack
