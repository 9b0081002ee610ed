// Tool groups (/v1/toolgroups), tools (/v1/tools) and the tool runtime
// (/v1/tool-runtime/list-tools, /invoke, /rag-tool/insert, /rag-tool/query),
// Llama Stack 0.2.x shapes: parse → ToolRuntimeRouter / ToolGroupsRoutingTable
// → render.
#include "core/server/exchange.h"
#include "core/server/routes/routes.h"
#include "core/services/services.h"

namespace llama_stack::server::routes {
namespace {

using Ex = std::shared_ptr<Exchange>;
using auth::Action;

ApiError group_not_found(const std::string& id) {
  return ApiError::not_found("Tool group '" + id +
                             "' not found. Register it with POST /v1/toolgroups");
}

apis::ToolGroup readable_group(const Services& services, const Ex& ex, const std::string& id) {
  apis::ToolGroup group = services.tool_groups().get(id);
  services.access().check_read(ex->call_context(false), "tool_group", id, group.owner,
                               group_not_found(id));
  return group;
}

async::Task<void> list_tools(const Services& services, Ex ex, bool runtime_defs) {
  std::optional<std::string> group;
  for (const char* key : {"toolgroup_id", "tool_group_id"}) {
    if (auto q = ex->request().query_param(key); q && !q->empty()) group = std::string(*q);
  }
  apis::CallContext call = ex->call_context();
  auto listed = services.tool_runtime().list_tools(call, group);
  std::vector<std::pair<apis::ToolGroup, apis::ToolDef>> tools = co_await std::move(listed);
  json::array data;
  for (const auto& [g, def] : tools) {
    data.push_back(runtime_defs ? def.to_json() : def.to_tool_json(g));
  }
  ex->send_json(200, json::object{{"data", std::move(data)}});
}

async::Task<void> get_tool(const Services& services, Ex ex) {
  const std::string name = ex->context().param("tool_name");
  apis::CallContext call = ex->call_context();
  auto listed = services.tool_runtime().list_tools(call, std::nullopt);
  std::vector<std::pair<apis::ToolGroup, apis::ToolDef>> tools = co_await std::move(listed);
  for (const auto& [g, def] : tools) {
    if (def.name == name) {
      ex->send_json(200, def.to_tool_json(g));
      co_return;
    }
  }
  throw ApiError::not_found("Tool '" + name + "' not found");
}

// {tool_name, kwargs} → ToolInvocationResult
async::Task<void> invoke(const Services& services, Ex ex) {
  json::value value = ex->context().json_body();
  JsonReader body(value);
  const std::string name = body.required_string("tool_name");
  json::object kwargs = body.optional_object("kwargs");
  apis::CallContext call = ex->call_context();
  auto run = services.tool_runtime().invoke_tool(call, name, std::move(kwargs));
  apis::ToolInvocationResult result = co_await std::move(run);
  ex->send_json(200, result.to_json());
}

// {documents, vector_db_id, chunk_size_in_tokens?} → null
async::Task<void> rag_insert(const Services& services, Ex ex) {
  json::value value = ex->context().json_body();
  JsonReader body(value);
  json::array documents = body.required_array("documents");
  const std::string vector_db_id = body.required_string("vector_db_id");
  std::int64_t chunk = 512;
  if (const auto* c = json_field(value.as_object(), "chunk_size_in_tokens");
      c != nullptr && !c->is_null()) {
    if (!(c->is_int64() || c->is_uint64())) {
      throw JsonFieldError("chunk_size_in_tokens",
                           "Field 'chunk_size_in_tokens' must be an integer");
    }
    chunk = c->to_number<std::int64_t>();
  }
  apis::CallContext call = ex->call_context();
  auto run = services.tool_runtime().insert(call, std::move(documents), vector_db_id, chunk);
  co_await std::move(run);
  ex->send_json(200, nullptr);
}

// {content, vector_db_ids, query_config?} → RAGQueryResult
async::Task<void> rag_query(const Services& services, Ex ex) {
  json::value value = ex->context().json_body();
  JsonReader body(value);
  const json::object& o = value.as_object();
  const auto* content = json_field(o, "content");
  if (content == nullptr || content->is_null())
    throw JsonFieldError("content", "Field 'content' is required");
  std::vector<std::string> dbs;
  json::array ids = body.required_array("vector_db_ids");
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (!ids[i].is_string()) {
      const std::string path = "vector_db_ids[" + std::to_string(i) + "]";
      throw JsonFieldError(path, "Field '" + path + "' must be a string");
    }
    dbs.emplace_back(ids[i].get_string());
  }
  const auto* config = json_field(o, "query_config");
  apis::RagQueryConfig parsed =
      apis::RagQueryConfig::parse(config != nullptr ? *config : json::value(nullptr));
  apis::CallContext call = ex->call_context();
  auto run = services.tool_runtime().query(call, *content, std::move(dbs), std::move(parsed));
  apis::RagQueryResult result = co_await std::move(run);
  ex->send_json(200, result.to_json());
}

}  // namespace

void add_tool_routes(RouteTable& table, const Services& services) {
  table.add({"GET", "/v1/toolgroups",
             [&services](const Ex& ex) {
               json::array data;
               for (const auto& g : services.access().visible(ex->call_context(false),
                                                              services.tool_groups().list())) {
                 data.push_back(g.to_json());
               }
               ex->send_json(200, json::object{{"data", std::move(data)}});
             },
             "tool_groups"});
  table.add({"GET", "/v1/toolgroups/{toolgroup_id:path}",
             [&services](const Ex& ex) {
               ex->send_json(
                   200,
                   readable_group(services, ex, ex->context().param("toolgroup_id")).to_json());
             },
             "tool_groups"});
  table.add(blocking(
      {"POST", "/v1/toolgroups",
       [&services](const Ex& ex) {
         json::value value = ex->context().json_body();
         JsonReader body(value);
         routing::RegisterToolGroupRequest request;
         request.toolgroup_id = body.required_string("toolgroup_id");
         request.provider_id = body.optional_string("provider_id");
         const json::object& o = value.as_object();
         if (const auto* m = json_field(o, "mcp_endpoint"); m != nullptr && m->is_object()) {
           if (const auto* uri = json_field(m->get_object(), "uri"); uri && uri->is_string()) {
             request.mcp_endpoint = std::string(uri->get_string());
           }
         }
         if (const auto* a = json_field(o, "args")) request.args = *a;
         request.owner = ex->context().user;
         services.access().check(ex->call_context(false), Action::kCreate, "tool_group",
                                 request.toolgroup_id, request.owner);
         services.tool_groups().register_toolgroup(request, routing::OnExisting::kConflict);
         ex->send_json(200, nullptr);
       },
       "tool_groups"}));
  table.add(blocking({"DELETE", "/v1/toolgroups/{toolgroup_id:path}",
                      [&services](const Ex& ex) {
                        const std::string& id = ex->context().param("toolgroup_id");
                        apis::ToolGroup group = readable_group(services, ex, id);
                        services.access().check(ex->call_context(false), Action::kDelete,
                                                "tool_group", id, group.owner);
                        services.tool_groups().unregister_toolgroup(id);
                        ex->send_json(200, nullptr);
                      },
                      "tool_groups"}));
  table.add({"GET", "/v1/tools",
             [&services](const Ex& ex) { ex->serve(list_tools(services, ex, false)); },
             "tool_groups"});
  table.add({"GET", "/v1/tools/{tool_name:path}",
             [&services](const Ex& ex) { ex->serve(get_tool(services, ex)); }, "tool_groups"});
  table.add({"GET", "/v1/tool-runtime/list-tools",
             [&services](const Ex& ex) { ex->serve(list_tools(services, ex, true)); },
             "tool_runtime"});
  table.add({"POST", "/v1/tool-runtime/invoke",
             [&services](const Ex& ex) { ex->serve(invoke(services, ex)); }, "tool_runtime"});
  table.add({"POST", "/v1/tool-runtime/rag-tool/insert",
             [&services](const Ex& ex) { ex->serve(rag_insert(services, ex)); }, "tool_runtime"});
  table.add({"POST", "/v1/tool-runtime/rag-tool/query",
             [&services](const Ex& ex) { ex->serve(rag_query(services, ex)); }, "tool_runtime"});
}

}  // namespace llama_stack::server::routes
