// McpClient: the client side of MCP's HTTP transports, one session
// (initialize → notifications/initialized) per operation:
//  - Streamable HTTP (MCP 2025-03-26): JSON-RPC POSTed to the endpoint,
//    answered as JSON or as an SSE stream (Mcp-Session-Id kept);
//  - the legacy SSE transport (MCP 2024-11-05), chosen when the endpoint's
//    path ends in "/sse" (as Llama Stack does): a GET opens an event stream
//    whose `endpoint` event names where to POST messages; the answers come
//    back on the stream as `message` events.
// Used by remote::model-context-protocol (tool groups) and by the Responses
// API's `mcp` tools.
//
// Failures: the server's JSON-RPC error or an unreadable answer is a 502,
// unreachable 503, timed out 504 (ApiError, naming the server).
#pragma once

#include <boost/json.hpp>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/http/http_client.h"
#include "llama_stack/apis/call_context.h"
#include "llama_stack/async/task.h"

namespace llama_stack::providers::utils {

class McpClient {
 public:
  McpClient(std::shared_ptr<http::HttpClient> client, std::string provider_id)
      : client_(std::move(client)), provider_id_(std::move(provider_id)) {}

  // Every tool of the server: [{name, description, inputSchema}] (all pages).
  async::Task<std::vector<boost::json::object>> list_tools(const apis::CallContext& context,
                                                           std::string uri, http::Headers headers);
  // tools/call's result: {content: [...], isError?, …}.
  async::Task<boost::json::object> call_tool(const apis::CallContext& context, std::string uri,
                                             http::Headers headers, std::string name,
                                             boost::json::object arguments);

 private:
  struct SseStream;  // the legacy transport's event stream (mcp_client.cc)
  struct Session {
    std::string uri;
    http::Headers headers;
    std::string id;  // Mcp-Session-Id
    std::int64_t next_id = 1;
    std::shared_ptr<SseStream> sse;  // set for the legacy SSE transport
    std::string post_url;            // SSE: where messages go (its endpoint event)
    Session() = default;
    Session(const Session&) = delete;
    Session& operator=(const Session&) = delete;
    ~Session();
  };
  async::Task<void> open(const apis::CallContext& context, Session& session);
  async::Task<http::ClientResult> post(const apis::CallContext& context, Session& session,
                                       boost::json::object message);
  async::Task<boost::json::object> rpc(const apis::CallContext& context, Session& session,
                                       std::string method, boost::json::object params);

  std::shared_ptr<http::HttpClient> client_;
  std::string provider_id_;
};

// The JSON-RPC message answering `id` in a body that is JSON (one message
// or a batch) or an SSE stream of messages.
std::optional<boost::json::object> mcp_rpc_answer(const std::string& body,
                                                  std::string_view content_type, std::int64_t id);

}  // namespace llama_stack::providers::utils
