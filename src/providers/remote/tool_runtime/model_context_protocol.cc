// remote::model-context-protocol: tool groups served by MCP servers (the
// group's mcp_endpoint.uri) over Streamable HTTP, or the legacy SSE
// transport for an endpoint ending in /sse (providers/utils/mcp_client.h):
// tools/list becomes the group's ToolDefs
// (parameters from each tool's inputSchema), tools/call an invocation.
//
// Headers for an endpoint (e.g. Authorization) come from the caller's
// X-LlamaStack-Provider-Data `mcp_headers: {<uri>: {<header>: <value>}}`, as
// in Llama Stack. Failures of the server are 502 (its JSON-RPC error or an
// unreadable answer), 503/504 (unreachable, timed out); a tool's own error
// (`isError`) is the invocation's error_message.
#include "providers/remote/tool_runtime/model_context_protocol.h"

#include <set>

#include "core/config/config_node.h"
#include "core/log/log.h"
#include "core/util/api_error.h"
#include "core/util/json.h"
#include "providers/utils/mcp_client.h"

namespace llama_stack::providers::remote {
namespace {

using config::ConfigNode;
using config::Diagnostics;
using config::MapReader;

struct McpConfig {
  std::int64_t timeout_seconds = 60;

  static McpConfig parse(const ConfigNode& node, Diagnostics& diagnostics) {
    McpConfig c;
    MapReader r(node, diagnostics);
    c.timeout_seconds = r.integer("timeout_seconds", 1, 3600).value_or(c.timeout_seconds);
    r.finish();
    return c;
  }
};

class McpToolRuntime final : public ToolRuntimeProvider {
 public:
  McpToolRuntime(ProviderContext context, McpConfig config)
      : context_(std::move(context)), config_(config) {}

  void initialize() override {
    http::ClientOptions options;
    options.read_timeout = std::chrono::seconds(config_.timeout_seconds);
    mcp_ = std::make_unique<utils::McpClient>(http::HttpClient::create(*context_.runtime, options),
                                              context_.provider_id);
  }

  void register_toolgroup(const apis::ToolGroup& group) override {
    if (!group.mcp_endpoint || group.mcp_endpoint->empty()) {
      throw JsonFieldError("mcp_endpoint", "Tool group '" + group.identifier +
                                               "' needs mcp_endpoint.uri (its MCP server)");
    }
  }

  async::Task<std::vector<apis::ToolDef>> list_runtime_tools(
      const apis::CallContext& context, const apis::ToolGroup& group) override {
    const std::string uri = endpoint(group);
    auto listed = mcp_->list_tools(context, uri, headers_for(context, uri));
    std::vector<json::object> found = co_await std::move(listed);
    std::vector<apis::ToolDef> tools;
    for (const auto& tool : found) tools.push_back(tool_def(tool, uri));
    co_return tools;
  }

  async::Task<apis::ToolInvocationResult> invoke_tool(const apis::CallContext& context,
                                                      const apis::ToolGroup& group,
                                                      const std::string& tool_name,
                                                      json::object kwargs) override {
    const std::string uri = endpoint(group);
    kwargs.erase("session_id");  // the agent loop's, not the tool's
    auto called =
        mcp_->call_tool(context, uri, headers_for(context, uri), tool_name, std::move(kwargs));
    json::object result = co_await std::move(called);
    apis::ToolInvocationResult out;
    json::array content;
    if (const json::value* c = result.if_contains("content"); c && c->is_array()) {
      for (const auto& item : c->get_array()) {
        if (!item.is_object()) continue;
        const json::object& o = item.get_object();
        const std::string type = json_string(o, "type");
        if (type == "text") {
          content.push_back(json::object{{"type", "text"}, {"text", json_string(o, "text")}});
        } else if (type == "image") {
          content.push_back(json::object{
              {"type", "image"}, {"image", json::object{{"data", json_string(o, "data")}}}});
        } else {
          content.push_back(json::object{{"type", "text"}, {"text", to_json(item)}});
        }
      }
    }
    out.content = std::move(content);
    if (const json::value* e = result.if_contains("isError"); e && e->is_bool() && e->get_bool()) {
      std::string text;
      for (const auto& c : out.content.as_array()) text += json_string(c.as_object(), "text");
      out.error_message = text.empty() ? "the tool reported an error" : text;
    }
    co_return out;
  }

 private:
  static std::string endpoint(const apis::ToolGroup& group) {
    if (!group.mcp_endpoint) {
      throw ApiError::bad_request("Tool group '" + group.identifier + "' has no mcp_endpoint");
    }
    return *group.mcp_endpoint;
  }

  static http::Headers headers_for(const apis::CallContext& context, const std::string& uri) {
    http::Headers headers;
    const json::value* all = context.provider_data.if_contains("mcp_headers");
    if (all == nullptr || !all->is_object()) return headers;
    const json::value* mine = all->get_object().if_contains(uri);
    if (mine == nullptr || !mine->is_object()) return headers;
    for (const auto& [name, value] : mine->get_object()) {
      if (value.is_string()) headers.set(std::string(name), std::string(value.get_string()));
    }
    return headers;
  }

  static apis::ToolDef tool_def(const json::object& tool, const std::string& uri) {
    apis::ToolDef def;
    def.name = json_string(tool, "name");
    if (const json::value* d = tool.if_contains("description"); d && d->is_string()) {
      def.description = std::string(d->get_string());
    }
    const json::value* schema = tool.if_contains("inputSchema");
    if (schema != nullptr && schema->is_object()) {
      std::set<std::string> required;
      if (const json::value* r = schema->get_object().if_contains("required"); r && r->is_array()) {
        for (const auto& n : r->get_array()) {
          if (n.is_string()) required.insert(std::string(n.get_string()));
        }
      }
      if (const json::value* props = schema->get_object().if_contains("properties");
          props && props->is_object()) {
        for (const auto& [name, p] : props->get_object()) {
          json::object param;
          param["name"] = name;
          param["parameter_type"] =
              p.is_object() ? json_string(p.get_object(), "type") : std::string("string");
          param["required"] = required.count(std::string(name)) > 0;
          if (p.is_object()) {
            if (const json::value* d = p.get_object().if_contains("description")) {
              param["description"] = *d;
            }
            if (const json::value* d = p.get_object().if_contains("default")) param["default"] = *d;
          }
          def.parameters.push_back(std::move(param));
        }
      }
    }
    def.metadata = json::object{{"endpoint", uri}};
    return def;
  }

  ProviderContext context_;
  McpConfig config_;
  std::unique_ptr<utils::McpClient> mcp_;
};

}  // namespace

ProviderSpec model_context_protocol_spec() {
  ProviderSpec spec;
  spec.api = "tool_runtime";
  spec.provider_type = "remote::model-context-protocol";
  spec.description = "Tools of MCP servers (Streamable HTTP transport)";
  spec.validate_config = [](const ConfigNode& node, Diagnostics& d) { McpConfig::parse(node, d); };
  spec.create = [](const ProviderContext& context, const ConfigNode& node) {
    Diagnostics ignored;
    return std::unique_ptr<Provider>(new McpToolRuntime(context, McpConfig::parse(node, ignored)));
  };
  return spec;
}

}  // namespace llama_stack::providers::remote
