// Services: what the HTTP routes (and, later, orchestrators such as agents)
// are built from — the routing tables, the routers, the stores, the policy
// and the audit log. The Stack (src/core/stack.h) is the composition root that
// creates them; routes never see the Stack.
//
// Non-owning: every pointer is owned by the Stack and outlives the server.
#pragma once

#include <memory>
#include <string_view>
#include <vector>

#include "core/config/stack_config.h"
#include "core/routing/agents_router.h"
#include "core/routing/conversations_router.h"
#include "core/routing/files_router.h"
#include "core/routing/inference_router.h"
#include "core/routing/resource_access.h"
#include "core/routing/responses_router.h"
#include "core/routing/routing_tables.h"
#include "core/routing/safety_router.h"
#include "core/routing/telemetry_router.h"
#include "core/routing/tool_runtime_router.h"
#include "core/routing/vector_io_router.h"
#include "core/routing/vector_stores_router.h"
#include "core/security/audit_log.h"
#include "core/security/policy.h"
#include "core/storage/inference_store.h"
#include "llama_stack/providers/provider.h"

namespace llama_stack {

// One configured provider: its run.yaml entry, its spec and the instance.
struct ProviderInstance {
  config::ProviderEntry entry;
  const providers::ProviderSpec* spec = nullptr;
  std::unique_ptr<providers::Provider> impl;
};

struct Services {
  const config::StackRunConfig* config = nullptr;
  const std::vector<ProviderInstance>* provider_list = nullptr;
  routing::ModelsRoutingTable* model_table = nullptr;
  routing::ShieldsRoutingTable* shield_table = nullptr;
  routing::VectorDBsRoutingTable* vector_db_table = nullptr;
  routing::InferenceRouter* inference_router = nullptr;
  routing::SafetyRouter* safety_router = nullptr;
  routing::VectorIORouter* vector_io_router = nullptr;
  routing::ToolGroupsRoutingTable* tool_group_table = nullptr;
  routing::ToolRuntimeRouter* tool_runtime_router = nullptr;
  routing::FilesRouter* files_router = nullptr;
  routing::VectorStoresRouter* vector_stores_router = nullptr;
  routing::AgentsRouter* agents_router = nullptr;
  routing::ResponsesRouter* responses_router = nullptr;
  routing::ConversationsRouter* conversations_router = nullptr;
  apis::TelemetryApi* telemetry_api = nullptr;  // null unless a telemetry provider is configured
  routing::TelemetryRouter* telemetry_router = nullptr;  // the query API over telemetry_api
  async::Executor* workers = nullptr;                    // the Stack's worker threads
  storage::InferenceStore* store = nullptr;  // null unless `inference_store` is configured
  const security::Policy* access_policy = nullptr;
  const routing::ResourceAccess* resource_access = nullptr;
  security::AuditLog* audit_log = nullptr;  // null unless the audit log is enabled

  const std::vector<ProviderInstance>& providers() const { return *provider_list; }
  routing::ModelsRoutingTable& models() const { return *model_table; }
  routing::ShieldsRoutingTable& shields() const { return *shield_table; }
  routing::VectorDBsRoutingTable& vector_dbs() const { return *vector_db_table; }
  routing::InferenceRouter& inference() const { return *inference_router; }
  routing::SafetyRouter& safety() const { return *safety_router; }
  routing::VectorIORouter& vector_io() const { return *vector_io_router; }
  routing::ToolGroupsRoutingTable& tool_groups() const { return *tool_group_table; }
  routing::ToolRuntimeRouter& tool_runtime() const { return *tool_runtime_router; }
  routing::FilesRouter& files() const { return *files_router; }
  routing::VectorStoresRouter& vector_stores() const { return *vector_stores_router; }
  routing::AgentsRouter& agents() const { return *agents_router; }
  routing::ResponsesRouter& responses() const { return *responses_router; }
  routing::ConversationsRouter& conversations() const { return *conversations_router; }
  apis::TelemetryApi* telemetry() const { return telemetry_api; }
  routing::TelemetryRouter* telemetry_queries() const { return telemetry_router; }
  async::Executor& worker_pool() const { return *workers; }
  storage::InferenceStore* inference_store() const { return store; }
  const security::Policy& policy() const { return *access_policy; }
  const routing::ResourceAccess& access() const { return *resource_access; }
  const security::OAuthSettings& oauth() const { return access_policy->oauth(); }
  security::AuditLog* audit() const { return audit_log; }
  // Whether the routes of `api` are served (run.yaml `apis`; empty = every
  // API that has a provider).
  bool serves(std::string_view api) const;
};

}  // namespace llama_stack
