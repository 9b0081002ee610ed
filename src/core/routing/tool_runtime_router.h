// Tool groups (a routing table over the registry, like models) and the tool
// runtime router: apis::ToolRuntimeApi and apis::RagToolApi for every caller
// — the /v1/toolgroups, /v1/tools and /v1/tool-runtime routes, and agents.
// A tool is found through the groups the caller may read (404 otherwise);
// the RAG tool's routes go to the provider that serves `knowledge_search`.
#pragma once

#include <map>
#include <mutex>

#include "core/registry/resource_registry.h"
#include "core/routing/resource_access.h"
#include "core/routing/routing_tables.h"
#include "llama_stack/apis/telemetry.h"
#include "llama_stack/apis/tools.h"
#include "llama_stack/providers/provider.h"

namespace llama_stack::routing {

struct RegisterToolGroupRequest {
  std::string toolgroup_id;
  std::optional<std::string> provider_id;
  std::optional<std::string> mcp_endpoint;
  json::value args = nullptr;
  std::optional<apis::Owner> owner;
};

class ToolGroupsRoutingTable {
 public:
  ToolGroupsRoutingTable(registry::ResourceRegistry& registry,
                         std::map<std::string, providers::ToolRuntimeProvider*> providers)
      : registry_(registry), providers_(std::move(providers)) {}

  std::vector<apis::ToolGroup> list() const;
  apis::ToolGroup get(const std::string& toolgroup_id) const;  // 404 naming it
  apis::ToolGroup register_toolgroup(const RegisterToolGroupRequest& request,
                                     OnExisting on_existing);
  void unregister_toolgroup(const std::string& toolgroup_id);
  providers::ToolRuntimeProvider& provider_for(const apis::ToolGroup& group) const;
  // Startup only (see ModelsRoutingTable::add_provider).
  void add_provider(const std::string& provider_id, providers::ToolRuntimeProvider* provider) {
    providers_[provider_id] = provider;
  }

 private:
  registry::ResourceRegistry& registry_;
  std::map<std::string, providers::ToolRuntimeProvider*> providers_;
  std::mutex write_mutex_;
};

class ToolRuntimeRouter final : public apis::ToolRuntimeApi, public apis::RagToolApi {
 public:
  ToolRuntimeRouter(ToolGroupsRoutingTable& groups, const ResourceAccess& access)
      : groups_(groups), access_(access) {}
  // Startup only: where each tool call's span goes (null: not recorded).
  void set_telemetry(apis::TelemetryApi* telemetry) { telemetry_ = telemetry; }

  async::Task<std::vector<std::pair<apis::ToolGroup, apis::ToolDef>>> list_tools(
      const apis::CallContext& context, std::optional<std::string> toolgroup_id) override;
  async::Task<apis::ToolInvocationResult> invoke_tool(const apis::CallContext& context,
                                                      const std::string& tool_name,
                                                      json::object kwargs) override;

  async::Task<void> insert(const apis::CallContext& context, json::array documents,
                           std::string vector_db_id, std::int64_t chunk_size_in_tokens) override;
  async::Task<apis::RagQueryResult> query(const apis::CallContext& context, json::value content,
                                          std::vector<std::string> vector_db_ids,
                                          apis::RagQueryConfig config) override;

 private:
  apis::TelemetryApi* telemetry_ = nullptr;
  apis::RagToolApi& rag(const apis::CallContext& context);

  ToolGroupsRoutingTable& groups_;
  const ResourceAccess& access_;
};

}  // namespace llama_stack::routing
