// The OpenAI Responses API of inline::meta-reference: a response is one run
// of a loop over the model and the server-side tools, written as one
// coroutine (ResponseRun in responses.cc):
//  - context: `instructions`, then the previous response's items
//    (`previous_response_id`) or the conversation's (`conversation`), then
//    the new `input` — turned into chat messages;
//  - inference through the inference router (streamed when the request is,
//    its text deltas forwarded as response.output_text.delta);
//  - `function` tools end the response with function_call items (the client
//    answers with function_call_output in the next request);
//  - `file_search` runs server-side over the named vector stores through the
//    vector stores router, as a file_search_call item, and the loop goes on;
//  - `web_search` runs through the tool runtime router (builtin::websearch's
//    web_search), `mcp` tools on their servers (listed when the response
//    starts, an mcp_list_tools item each; each call an mcp_call item);
//  - `guardrails` (Llama Stack's extension: shield ids) check the input.
// Stored responses (`store`, default true) live in the agents kvstore:
// "response:<id>" → {response, input_items, context, owner}.
//
// Not yet: MCP approval requests (require_approval other than "never" is a 400).
#pragma once

#include <boost/json.hpp>

#include "llama_stack/apis/responses.h"
#include "llama_stack/providers/provider.h"
#include "llama_stack/storage/kvstore.h"
#include "providers/utils/mcp_client.h"

namespace llama_stack::providers::inline_::agents {

class ResponsesEngine final : public apis::ResponsesApi {
 public:
  ResponsesEngine(const ProviderDeps& deps, std::shared_ptr<storage::KVStore> kv,
                  std::shared_ptr<http::HttpClient> client, std::string provider_id)
      : deps_(deps),
        kv_(std::move(kv)),
        mcp_(std::make_unique<utils::McpClient>(std::move(client), std::move(provider_id))) {}

  async::Task<boost::json::object> create_response(const apis::CallContext& context,
                                                   boost::json::object request,
                                                   apis::ResponseEventSink on_event) override;
  async::Task<boost::json::object> get_response(const apis::CallContext& context,
                                                std::string response_id) override;
  async::Task<boost::json::object> list_responses(const apis::CallContext& context,
                                                  apis::CursorQuery query) override;
  async::Task<boost::json::object> list_input_items(const apis::CallContext& context,
                                                    std::string response_id,
                                                    apis::CursorQuery query) override;
  async::Task<void> delete_response(const apis::CallContext& context,
                                    std::string response_id) override;

  std::optional<apis::Owner> owner(const std::string& response_id) const;

 private:
  std::optional<boost::json::object> record(const std::string& response_id) const;

  const ProviderDeps& deps_;
  std::shared_ptr<storage::KVStore> kv_;
  std::unique_ptr<utils::McpClient> mcp_;  // the `mcp` tools' servers
};

}  // namespace llama_stack::providers::inline_::agents
