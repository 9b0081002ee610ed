#include "providers/utils/mcp_client.h"

#include "core/util/api_error.h"
#include "core/util/json.h"
#include "llama_stack/async/bridge.h"
#include "providers/utils/upstream.h"

namespace llama_stack::providers::utils {
namespace {

constexpr std::string_view kProtocolVersion = "2025-03-26";

std::string string_of(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v != nullptr && v->is_string() ? std::string(v->get_string()) : std::string();
}

}  // namespace

std::optional<json::object> mcp_rpc_answer(const std::string& body, std::string_view content_type,
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

async::Task<std::vector<json::object>> McpClient::list_tools(const apis::CallContext& context,
                                                             std::string uri,
                                                             http::Headers headers) {
  Session session;
  session.uri = std::move(uri);
  session.headers = std::move(headers);
  auto opened = open(context, session);
  co_await std::move(opened);
  std::vector<json::object> tools;
  std::optional<std::string> cursor;
  for (int page = 0; page < 100; ++page) {
    json::object params;
    if (cursor) params["cursor"] = *cursor;
    auto listed = rpc(context, session, "tools/list", std::move(params));
    json::object result = co_await std::move(listed);
    if (const json::value* t = result.if_contains("tools"); t && t->is_array()) {
      for (const auto& tool : t->get_array()) {
        if (tool.is_object()) tools.push_back(tool.get_object());
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

async::Task<json::object> McpClient::call_tool(const apis::CallContext& context, std::string uri,
                                               http::Headers headers, std::string name,
                                               json::object arguments) {
  Session session;
  session.uri = std::move(uri);
  session.headers = std::move(headers);
  auto opened = open(context, session);
  co_await std::move(opened);
  auto called = rpc(context, session, "tools/call",
                    json::object{{"name", std::move(name)}, {"arguments", std::move(arguments)}});
  co_return co_await std::move(called);
}

async::Task<void> McpClient::open(const apis::CallContext& context, Session& session) {
  auto initialized = rpc(
      context, session, "initialize",
      json::object{{"protocolVersion", kProtocolVersion},
                   {"capabilities", json::object{}},
                   {"clientInfo",
                    json::object{{"name", "llama-stack-cpp"}, {"version", LLAMA_STACK_VERSION}}}});
  co_await std::move(initialized);
  auto notified = post(context, session,
                       json::object{{"jsonrpc", "2.0"}, {"method", "notifications/initialized"}});
  co_await std::move(notified);
}

async::Task<http::ClientResult> McpClient::post(const apis::CallContext& context, Session& session,
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
    auto handle = client_->fetch(std::move(request),
                                 [resolve](http::ClientResult r) { resolve.value(std::move(r)); });
    return cancel_of(handle);
  };
  auto operation =
      async::from_callback<http::ClientResult>(context.executor, context.stop, std::move(start));
  http::ClientResult result = co_await operation;
  if (result.error) {
    ApiError e = transport_error(provider_id_, *result.error);
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

async::Task<json::object> McpClient::rpc(const apis::CallContext& context, Session& session,
                                         std::string method, json::object params) {
  const std::int64_t id = session.next_id++;
  auto posted =
      post(context, session,
           json::object{
               {"jsonrpc", "2.0"}, {"id", id}, {"method", method}, {"params", std::move(params)}});
  http::ClientResult result = co_await std::move(posted);
  std::optional<json::object> answer;
  try {
    answer = mcp_rpc_answer(result.body, result.headers.get("content-type").value_or(""), id);
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

}  // namespace llama_stack::providers::utils
