#include "core/routing/tool_runtime_router.h"

#include "core/routing/child_span.h"

#include "core/log/log.h"
#include "core/routing/registration.h"
#include "core/util/api_error.h"

namespace llama_stack::routing {
namespace {

constexpr const char* kToolGroup = "tool_group";

ApiError group_not_found(const std::string& id) {
  return ApiError::not_found("Tool group '" + id +
                             "' not found. Register it with POST /v1/toolgroups");
}

}  // namespace

std::vector<apis::ToolGroup> ToolGroupsRoutingTable::list() const {
  std::vector<apis::ToolGroup> out;
  for (const auto& object : registry_.list(kToolGroup)) {
    out.push_back(apis::ToolGroup::from_json(object));
  }
  return out;
}

apis::ToolGroup ToolGroupsRoutingTable::get(const std::string& toolgroup_id) const {
  auto object = registry_.get(kToolGroup, toolgroup_id);
  if (!object) throw group_not_found(toolgroup_id);
  return apis::ToolGroup::from_json(*object);
}

apis::ToolGroup ToolGroupsRoutingTable::register_toolgroup(const RegisterToolGroupRequest& request,
                                                           OnExisting on_existing) {
  detail::require_id(request.toolgroup_id, "toolgroup_id");
  std::lock_guard lock(write_mutex_);
  auto [provider_id, provider] = detail::choose_provider(
      providers_, request.provider_id, "tool_runtime", "tool group '" + request.toolgroup_id + "'");
  if (on_existing == OnExisting::kConflict && registry_.get(kToolGroup, request.toolgroup_id)) {
    throw ApiError::conflict("Tool group '" + request.toolgroup_id + "' is already registered");
  }
  apis::ToolGroup group;
  group.identifier = request.toolgroup_id;
  group.provider_id = provider_id;
  group.provider_resource_id = request.toolgroup_id;
  group.mcp_endpoint = request.mcp_endpoint;
  group.args = request.args;
  group.owner = request.owner;
  provider->register_toolgroup(group);
  registry_.put(kToolGroup, group.identifier, group.to_json());
  LS_INFO(kCore, "registered tool group '{}' → {}", group.identifier, group.provider_id);
  return group;
}

void ToolGroupsRoutingTable::unregister_toolgroup(const std::string& toolgroup_id) {
  std::lock_guard lock(write_mutex_);
  const apis::ToolGroup group = get(toolgroup_id);
  if (auto it = providers_.find(group.provider_id); it != providers_.end()) {
    it->second->unregister_toolgroup(toolgroup_id);
  }
  registry_.remove(kToolGroup, toolgroup_id);
}

providers::ToolRuntimeProvider& ToolGroupsRoutingTable::provider_for(
    const apis::ToolGroup& group) const {
  auto it = providers_.find(group.provider_id);
  if (it == providers_.end()) {
    throw ApiError::unavailable("Provider '" + group.provider_id + "' of tool group '" +
                                group.identifier + "' is not configured");
  }
  return *it->second;
}

async::Task<std::vector<std::pair<apis::ToolGroup, apis::ToolDef>>> ToolRuntimeRouter::list_tools(
    const apis::CallContext& context, std::optional<std::string> toolgroup_id) {
  std::vector<apis::ToolGroup> groups;
  if (toolgroup_id) {
    apis::ToolGroup group = groups_.get(*toolgroup_id);
    access_.check_read(context, "tool_group", group.identifier, group.owner,
                       group_not_found(*toolgroup_id));
    groups.push_back(std::move(group));
  } else {
    groups = access_.visible(context, groups_.list());
  }
  std::vector<std::pair<apis::ToolGroup, apis::ToolDef>> out;
  for (const auto& group : groups) {
    providers::ToolRuntimeProvider& provider = groups_.provider_for(group);
    auto listed = provider.list_runtime_tools(context, group);
    std::vector<apis::ToolDef> defs = co_await std::move(listed);
    for (auto& def : defs) out.emplace_back(group, std::move(def));
  }
  co_return out;
}

async::Task<apis::ToolInvocationResult> ToolRuntimeRouter::invoke_tool(
    const apis::CallContext& context, const std::string& tool_name, json::object kwargs) {
  auto listed = list_tools(context, std::nullopt);
  std::vector<std::pair<apis::ToolGroup, apis::ToolDef>> tools = co_await std::move(listed);
  for (const auto& [group, def] : tools) {
    if (def.name != tool_name) continue;
    providers::ToolRuntimeProvider& provider = groups_.provider_for(group);
    ChildSpan span(telemetry_, context, "tool_runtime.invoke_tool");
    span.attributes()["tool_name"] = tool_name;
    span.attributes()["toolgroup_id"] = group.identifier;
    span.attributes()["provider_id"] = group.provider_id;
    apis::ToolInvocationResult out;
    std::exception_ptr failure;
    try {
      auto run = provider.invoke_tool(span.context(), group, tool_name, std::move(kwargs));
      out = co_await std::move(run);
    } catch (...) {
      failure = std::current_exception();
    }
    if (out.error_message) span.attributes()["tool_error"] = true;
    span.finish(failure);
    if (failure) std::rethrow_exception(failure);
    co_return out;
  }
  throw ApiError::not_found("Tool '" + tool_name + "' not found in any registered tool group");
}

apis::RagToolApi& ToolRuntimeRouter::rag(const apis::CallContext& context) {
  for (const auto& group : access_.visible(context, groups_.list())) {
    providers::ToolRuntimeProvider& provider = groups_.provider_for(group);
    if (apis::RagToolApi* api = provider.rag()) return *api;
  }
  throw ApiError::not_found(
      "The RAG tool is not available: register the tool group 'builtin::rag' with an "
      "inline::rag-runtime provider");
}

async::Task<void> ToolRuntimeRouter::insert(const apis::CallContext& context, json::array documents,
                                            std::string vector_db_id,
                                            std::int64_t chunk_size_in_tokens) {
  auto run = rag(context).insert(context, std::move(documents), std::move(vector_db_id),
                                 chunk_size_in_tokens);
  co_await std::move(run);
}

async::Task<apis::RagQueryResult> ToolRuntimeRouter::query(const apis::CallContext& context,
                                                           json::value content,
                                                           std::vector<std::string> vector_db_ids,
                                                           apis::RagQueryConfig config) {
  auto run =
      rag(context).query(context, std::move(content), std::move(vector_db_ids), std::move(config));
  co_return co_await std::move(run);
}

}  // namespace llama_stack::routing
