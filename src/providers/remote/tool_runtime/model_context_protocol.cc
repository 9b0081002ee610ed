// remote::model-context-protocol: tool groups served by MCP servers over
// the Streamable HTTP transport (MCP 2025-03-26): JSON-RPC POSTed to the
// group's mcp_endpoint.uri, answered as JSON or as an SSE stream; a session
// (initialize → notifications/initialized, Mcp-Session-Id) per operation,
// then tools/list (following nextCursor) or tools/call.
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
#include "llama_stack/async/bridge.h"
#include "providers/utils/upstream.h"

namespace llama_stack::providers::remote {
namespace {

using config::ConfigNode;
using config::Diagnostics;
using config::MapReader;

constexpr std::string_view kProtocolVersion = "2025-03-26";

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

std::string string_of(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v != nullptr && v->is_string() ? std::string(v->get_string()) : std::string();
}

// The JSON-RPC message answering `id` in a body that is JSON or SSE.
std::optional<json::object> rpc_answer(const std::string& body, std::string_view content_type,
                                       std::int64_t id) {
  auto matches = [&](const json::value& v) -> std::optional<json::object> {
    if (!v.is_object()) return std::nullopt;
    const json::value* i = v.get_object().if_contains("id");
    if (i != nullptr && i->is_int64() && i->get_int64() == id) return v.get_object();
    return std::nullopt;
  };
  if (content_type.find("text/event-stream") == std::string_view::npos) {
    json::value v = parse_json(body);
    if (v.is_array()) {
      for (const auto& m : v.get_array()) {
        if (auto a = matches(m)) return a;
      }
      return std::nullopt;
    }
    return matches(v);
  }
  // SSE: events separated by blank lines; their data lines joined.
  std::size_t pos = 0;
  std::string data;
  auto flush = [&]() -> std::optional<json::object> {
    if (data.empty()) return std::nullopt;
    std::optional<json::object> found;
    try {
      found = matches(parse_json(data));
    } catch (const std::exception&) {
    }
    data.clear();
    return found;
  };
  while (pos <= body.size()) {
    std::size_t end = body.find('\n', pos);
    if (end == std::string::npos) end = body.size();
    std::string_view line(body.data() + pos, end - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) {
      if (auto a = flush()) return a;
    } else if (line.starts_with("data:")) {
      std::string_view d = line.substr(5);
      if (d.starts_with(' ')) d.remove_prefix(1);
      if (!data.empty()) data += '\n';
      data += d;
    }
    pos = end + 1;
  }
  return flush();
}

class McpToolRuntime final : public ToolRuntimeProvider {
 public:
  McpToolRuntime(ProviderContext context, McpConfig config)
      : context_(std::move(context)), config_(config) {}

  void initialize() override {
    http::ClientOptions options;
    options.read_timeout = std::chrono::seconds(config_.timeout_seconds);
    client_ = http::HttpClient::create(*context_.runtime, options);
  }

  void register_toolgroup(const apis::ToolGroup& group) override {
    if (!group.mcp_endpoint || group.mcp_endpoint->empty()) {
      throw JsonFieldError("mcp_endpoint", "Tool group '" + group.identifier +
                                               "' needs mcp_endpoint.uri (its MCP server)");
    }
  }

  async::Task<std::vector<apis::ToolDef>> list_runtime_tools(
      const apis::CallContext& context, const apis::ToolGroup& group) override {
    Session session;
    session.uri = endpoint(group);
    session.headers = headers_for(context, session.uri);
    auto opened = open(context, session);
    co_await std::move(opened);
    std::vector<apis::ToolDef> tools;
    std::optional<std::string> cursor;
    for (int page = 0; page < 100; ++page) {
      json::object params;
      if (cursor) params["cursor"] = *cursor;
      auto listed = rpc(context, session, "tools/list", std::move(params));
      json::object result = co_await std::move(listed);
      if (const json::value* t = result.if_contains("tools"); t && t->is_array()) {
        for (const auto& tool : t->get_array()) {
          if (tool.is_object()) tools.push_back(tool_def(tool.get_object(), session.uri));
        }
      }
      cursor.reset();
      if (const json::value* next = result.if_contains("nextCursor"); next && next->is_string()) {
        cursor = std::string(next->get_string());
      }
      if (!cursor) break;
    }
    co_return tools;
  }

  async::Task<apis::ToolInvocationResult> invoke_tool(const apis::CallContext& context,
                                                      const apis::ToolGroup& group,
                                                      const std::string& tool_name,
                                                      json::object kwargs) override {
    Session session;
    session.uri = endpoint(group);
    session.headers = headers_for(context, session.uri);
    auto opened = open(context, session);
    co_await std::move(opened);
    kwargs.erase("session_id");  // the agent loop's, not the tool's
    auto called = rpc(context, session, "tools/call",
                      json::object{{"name", tool_name}, {"arguments", std::move(kwargs)}});
    json::object result = co_await std::move(called);
    apis::ToolInvocationResult out;
    json::array content;
    if (const json::value* c = result.if_contains("content"); c && c->is_array()) {
      for (const auto& item : c->get_array()) {
        if (!item.is_object()) continue;
        const json::object& o = item.get_object();
        const std::string type = string_of(o, "type");
        if (type == "text") {
          content.push_back(json::object{{"type", "text"}, {"text", string_of(o, "text")}});
        } else if (type == "image") {
          content.push_back(json::object{{"type", "image"},
                                         {"image", json::object{{"data", string_of(o, "data")}}}});
        } else {
          content.push_back(json::object{{"type", "text"}, {"text", to_json(item)}});
        }
      }
    }
    out.content = std::move(content);
    if (const json::value* e = result.if_contains("isError"); e && e->is_bool() && e->get_bool()) {
      std::string text;
      for (const auto& c : out.content.as_array()) text += string_of(c.as_object(), "text");
      out.error_message = text.empty() ? "the tool reported an error" : text;
    }
    co_return out;
  }

 private:
  struct Session {
    std::string uri;
    http::Headers headers;
    std::string id;  // Mcp-Session-Id
    std::int64_t next_id = 1;
  };

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
    def.name = string_of(tool, "name");
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
              p.is_object() ? string_of(p.get_object(), "type") : std::string("string");
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

  async::Task<void> open(const apis::CallContext& context, Session& session) {
    auto initialized =
        rpc(context, session, "initialize",
            json::object{{"protocolVersion", kProtocolVersion},
                         {"capabilities", json::object{}},
                         {"clientInfo", json::object{{"name", "llama-stack-cpp"},
                                                     {"version", LLAMA_STACK_VERSION}}}});
    co_await std::move(initialized);
    auto notified = post(context, session,
                         json::object{{"jsonrpc", "2.0"}, {"method", "notifications/initialized"}});
    co_await std::move(notified);
  }

  // One POST; the answer as (head, body).
  async::Task<http::ClientResult> post(const apis::CallContext& context, Session& session,
                                       json::object message) {
    http::ClientRequest request;
    request.method = "POST";
    request.url = session.uri;
    request.headers = session.headers;
    request.headers.set("content-type", "application/json");
    request.headers.set("accept", "application/json, text/event-stream");
    request.headers.set("mcp-protocol-version", std::string(kProtocolVersion));
    if (!session.id.empty()) request.headers.set("mcp-session-id", session.id);
    request.body = to_json(message);
    auto start = [&](async::Resolver<http::ClientResult> resolve) -> async::CancelFn {
      auto handle = client_->fetch(
          std::move(request), [resolve](http::ClientResult r) { resolve.value(std::move(r)); });
      return utils::cancel_of(handle);
    };
    auto operation =
        async::from_callback<http::ClientResult>(context.executor, context.stop, std::move(start));
    http::ClientResult result = co_await operation;
    if (result.error) {
      ApiError e = utils::transport_error(context_.provider_id, *result.error);
      throw ApiError(e.status(), "MCP server " + session.uri + ": " + e.what());
    }
    if (auto sid = result.headers.get("mcp-session-id")) session.id = std::string(*sid);
    if (result.status < 200 || result.status >= 300) {
      throw ApiError::bad_gateway("MCP server " + session.uri + " answered HTTP " +
                                  std::to_string(result.status) +
                                  (result.body.empty() ? "" : ": " + result.body.substr(0, 200)));
    }
    co_return result;
  }

  async::Task<json::object> rpc(const apis::CallContext& context, Session& session,
                                std::string method, json::object params) {
    const std::int64_t id = session.next_id++;
    auto posted = post(
        context, session,
        json::object{
            {"jsonrpc", "2.0"}, {"id", id}, {"method", method}, {"params", std::move(params)}});
    http::ClientResult result = co_await std::move(posted);
    std::optional<json::object> answer;
    try {
      answer = rpc_answer(result.body, result.headers.get("content-type").value_or(""), id);
    } catch (const std::exception& e) {
      throw ApiError::bad_gateway("MCP server " + session.uri + " answered " + method +
                                  " with malformed JSON: " + e.what());
    }
    if (!answer) {
      throw ApiError::bad_gateway("MCP server " + session.uri + " sent no answer to " + method);
    }
    if (const json::value* e = answer->if_contains("error"); e && e->is_object()) {
      throw ApiError::bad_gateway("MCP server " + session.uri + ": " + method +
                                  " failed: " + string_of(e->get_object(), "message"));
    }
    const json::value* r = answer->if_contains("result");
    if (r == nullptr || !r->is_object()) {
      throw ApiError::bad_gateway("MCP server " + session.uri + " answered " + method +
                                  " without a result");
    }
    co_return r->get_object();
  }

  ProviderContext context_;
  McpConfig config_;
  std::shared_ptr<http::HttpClient> client_;
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
