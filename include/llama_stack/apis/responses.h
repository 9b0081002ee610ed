// The OpenAI Responses API (/v1/responses, /v1/openai/v1/responses) and
// Conversations (/v1/conversations), as Llama Stack 0.7.x serves them.
//
// ResponsesApi is served by the agents provider (inline::meta-reference)
// behind the responses router (src/core/routing/responses_router.h: a
// response belongs to whoever created it). ConversationsApi is the
// conversations router itself (src/core/routing/conversations_router.h:
// conversations and their items in the metadata store), which Responses
// use through ProviderDeps when a request names a `conversation`.
//
// Objects are OpenAI's JSON shapes, passed as JSON.
#pragma once

#include <boost/json.hpp>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "llama_stack/apis/call_context.h"
#include "llama_stack/apis/resources.h"
#include "llama_stack/async/task.h"

namespace llama_stack::apis {

// Receives each streamed event ({"type": "response.created", "sequence_number": 0, …}).
using ResponseEventSink = std::function<void(json::object event)>;

// OpenAI cursor lists: {object: "list", data, first_id, last_id, has_more}.
struct CursorQuery {
  std::optional<std::string> after;
  std::int64_t limit = 20;  // 1–100
  bool descending = true;
  std::optional<std::string> model;  // responses only
  // Which stored items the caller may see (set by the router; unset: all).
  std::function<bool(const std::string& id, const std::optional<Owner>& owner)> visible;
};

class ResponsesApi {
 public:
  virtual ~ResponsesApi() = default;
  // Runs a response (the loop over the model and the server-side tools).
  // Events go to `on_event` when it is set (streamed). Failures before the
  // response is created throw; later ones make it `failed` (returned, and
  // streamed as response.failed).
  virtual async::Task<json::object> create_response(const CallContext& context,
                                                    json::object request,
                                                    ResponseEventSink on_event) = 0;
  virtual async::Task<json::object> get_response(const CallContext& context,
                                                 std::string response_id) = 0;
  virtual async::Task<json::object> list_responses(const CallContext& context,
                                                   CursorQuery query) = 0;
  virtual async::Task<json::object> list_input_items(const CallContext& context,
                                                     std::string response_id,
                                                     CursorQuery query) = 0;
  virtual async::Task<void> delete_response(const CallContext& context,
                                            std::string response_id) = 0;
};

class ConversationsApi {
 public:
  virtual ~ConversationsApi() = default;
  // {id: "conv_…", object: "conversation", created_at, metadata}.
  virtual async::Task<json::object> create_conversation(const CallContext& context,
                                                        json::array items,
                                                        json::object metadata) = 0;
  virtual async::Task<json::object> get_conversation(const CallContext& context,
                                                     std::string conversation_id) = 0;
  virtual async::Task<json::object> update_conversation(const CallContext& context,
                                                        std::string conversation_id,
                                                        json::object metadata) = 0;
  virtual async::Task<void> delete_conversation(const CallContext& context,
                                                std::string conversation_id) = 0;
  // Adds items (ids assigned when absent); returns them as a list.
  virtual async::Task<json::object> add_items(const CallContext& context,
                                              std::string conversation_id, json::array items) = 0;
  virtual async::Task<json::object> list_items(const CallContext& context,
                                               std::string conversation_id, CursorQuery query) = 0;
  // Every item, oldest first (what a response's context starts from).
  virtual async::Task<json::array> all_items(const CallContext& context,
                                             std::string conversation_id) = 0;
  virtual async::Task<json::object> get_item(const CallContext& context,
                                             std::string conversation_id, std::string item_id) = 0;
  virtual async::Task<void> delete_item(const CallContext& context, std::string conversation_id,
                                        std::string item_id) = 0;
};

}  // namespace llama_stack::apis
