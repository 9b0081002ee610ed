#include "providers/utils/mcp_client.h"

#include <map>
#include <mutex>

#include "core/util/api_error.h"
#include "core/util/json.h"
#include "llama_stack/async/bridge.h"
#include "providers/utils/upstream.h"

namespace llama_stack::providers::utils {
namespace {

constexpr std::string_view kProtocolVersion = "2025-03-26";
constexpr std::string_view kSseProtocolVersion = "2024-11-05";

bool is_sse_endpoint(std::string_view uri) {
  std::string_view path = uri.substr(0, uri.find_first_of("?#"));
  while (path.ends_with('/')) path.remove_suffix(1);
  return path.ends_with("/sse");
}

// `endpoint` (absolute, or relative to `base`) as an absolute URL.
std::string resolve_url(const std::string& base, const std::string& endpoint) {
  if (endpoint.starts_with("http://") || endpoint.starts_with("https://")) return endpoint;
  const std::size_t scheme = base.find("://");
  const std::size_t path = base.find('/', scheme == std::string::npos ? 0 : scheme + 3);
  const std::string origin = path == std::string::npos ? base : base.substr(0, path);
  if (endpoint.starts_with('/')) return origin + endpoint;
  const std::size_t dir = base.rfind('/');
  return base.substr(0, dir + 1) + endpoint;
}

}  // namespace

// The legacy transport's event stream: `endpoint` and `message` events,
// dispatched to whoever waits for them (resolvers run outside the lock).
struct McpClient::SseStream {
  std::mutex mutex;
  std::string buffer, event, data;
  std::optional<std::string> endpoint;
  std::string failure;  // set once the stream failed or ended
  std::optional<async::Resolver<std::string>> endpoint_waiter;
  std::map<std::int64_t, async::Resolver<json::object>> waiters;
  std::map<std::int64_t, json::object> early;  // answers no one waited for yet
  std::shared_ptr<http::RequestHandle> handle;

  void on_data(std::string_view chunk) {
    std::vector<std::function<void()>> ready;
    {
      std::lock_guard lock(mutex);
      buffer.append(chunk);
      std::size_t pos = 0;
      for (;;) {
        const std::size_t end = buffer.find('\n', pos);
        if (end == std::string::npos) break;
        std::string_view line(buffer.data() + pos, end - pos);
        pos = end + 1;
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        if (line.empty()) {
          dispatch(ready);
        } else if (line.starts_with("event:")) {
          event = std::string(line.substr(line.starts_with("event: ") ? 7 : 6));
        } else if (line.starts_with("data:")) {
          if (!data.empty()) data += '\n';
          data += line.substr(line.starts_with("data: ") ? 6 : 5);
        }
      }
      buffer.erase(0, pos);
    }
    for (auto& f : ready) f();
  }

  void on_end(std::string why) {
    std::vector<std::function<void()>> ready;
    {
      std::lock_guard lock(mutex);
      if (failure.empty()) failure = std::move(why);
      const std::string message = failure;
      if (endpoint_waiter) {
        auto w = std::move(*endpoint_waiter);
        endpoint_waiter.reset();
        ready.push_back([w, message] { w.fail(ApiError::bad_gateway(message)); });
      }
      for (auto& entry : waiters) {  // (clang 14 cannot capture structured bindings)
        auto w = entry.second;
        ready.push_back([w, message] { w.fail(ApiError::bad_gateway(message)); });
      }
      waiters.clear();
    }
    for (auto& f : ready) f();
  }

 private:
  // REQUIRES: mutex.
  void dispatch(std::vector<std::function<void()>>& ready) {
    const std::string type = event.empty() ? "message" : event;
    std::string payload = std::move(data);
    event.clear();
    data.clear();
    if (type == "endpoint") {
      endpoint = payload;
      if (endpoint_waiter) {
        auto w = std::move(*endpoint_waiter);
        endpoint_waiter.reset();
        ready.push_back([w, payload] { w.value(payload); });
      }
      return;
    }
    if (type != "message") return;
    json::value message;
    try {
      message = parse_json(payload);
    } catch (const std::exception&) {
      return;  // not ours to judge: skip it
    }
    if (!message.is_object()) return;
    const json::value* id = message.get_object().if_contains("id");
    if (id == nullptr || !id->is_int64()) return;  // a notification or a server request
    auto w = waiters.find(id->get_int64());
    if (w == waiters.end()) {
      early[id->get_int64()] = std::move(message.get_object());
      return;
    }
    auto waiter = w->second;
    waiters.erase(w);
    ready.push_back(
        [waiter, m = std::move(message.get_object())]() mutable { waiter.value(std::move(m)); });
  }
};

McpClient::Session::~Session() {
  if (sse && sse->handle) sse->handle->cancel();
}

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
  const bool sse = is_sse_endpoint(session.uri);
  if (sse) {
    auto stream = std::make_shared<SseStream>();
    session.sse = stream;
    http::ClientRequest request;
    request.url = session.uri;
    request.headers = session.headers;
    request.headers.set("accept", "text/event-stream");
    http::ClientCallbacks callbacks;
    callbacks.on_head = [stream, uri = session.uri](const http::ClientResponseHead& head) {
      if (head.status != 200) {
        stream->on_end("MCP server " + uri + " answered HTTP " + std::to_string(head.status) +
                       " to its SSE stream");
      }
    };
    callbacks.on_data = [stream](std::string_view chunk) { stream->on_data(chunk); };
    callbacks.on_complete = [stream, uri = session.uri,
                             provider = provider_id_](const std::optional<http::ClientError>& e) {
      stream->on_end(e ? "MCP server " + uri + ": " + transport_error(provider, *e).what()
                       : "MCP server " + uri + " closed its SSE stream");
    };
    stream->handle = client_->send(std::move(request), std::move(callbacks));
    auto start = [stream](async::Resolver<std::string> resolve) -> async::CancelFn {
      std::unique_lock lock(stream->mutex);
      if (stream->endpoint) {
        const std::string e = *stream->endpoint;
        lock.unlock();
        resolve.value(e);
      } else if (!stream->failure.empty()) {
        const std::string f = stream->failure;
        lock.unlock();
        resolve.fail(ApiError::bad_gateway(f));
      } else {
        stream->endpoint_waiter = resolve;
      }
      return {};
    };
    auto announced =
        async::from_callback<std::string>(context.executor, context.stop, std::move(start));
    const std::string endpoint = co_await announced;
    session.post_url = resolve_url(session.uri, endpoint);
  }
  auto initialized = rpc(
      context, session, "initialize",
      json::object{{"protocolVersion", sse ? kSseProtocolVersion : kProtocolVersion},
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
  request.url = session.sse ? session.post_url : session.uri;
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
  if (session.sse) {
    // The answer comes on the event stream (maybe before we wait for it).
    auto stream = session.sse;
    auto start = [stream, id](async::Resolver<json::object> resolve) -> async::CancelFn {
      std::unique_lock lock(stream->mutex);
      if (auto e = stream->early.find(id); e != stream->early.end()) {
        json::object m = std::move(e->second);
        stream->early.erase(e);
        lock.unlock();
        resolve.value(std::move(m));
      } else if (!stream->failure.empty()) {
        const std::string f = stream->failure;
        lock.unlock();
        resolve.fail(ApiError::bad_gateway(f));
      } else {
        stream->waiters.emplace(id, resolve);
      }
      return {};
    };
    auto awaited =
        async::from_callback<json::object>(context.executor, context.stop, std::move(start));
    answer = co_await awaited;
  } else {
    try {
      answer = mcp_rpc_answer(result.body, result.headers.get("content-type").value_or(""), id);
    } catch (const std::exception& e) {
      throw ApiError::bad_gateway("MCP server " + session.uri + " answered " + method +
                                  " with malformed JSON: " + e.what());
    }
  }
  if (!answer) {
    throw ApiError::bad_gateway("MCP server " + session.uri + " sent no answer to " + method);
  }
  if (const json::value* e = answer->if_contains("error"); e && e->is_object()) {
    throw ApiError::bad_gateway("MCP server " + session.uri + ": " + method +
                                " failed: " + json_string(e->get_object(), "message"));
  }
  const json::value* r = answer->if_contains("result");
  if (r == nullptr || !r->is_object()) {
    throw ApiError::bad_gateway("MCP server " + session.uri + " answered " + method +
                                " without a result");
  }
  co_return r->get_object();
}

}  // namespace llama_stack::providers::utils
