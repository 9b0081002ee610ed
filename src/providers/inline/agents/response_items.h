// Responses API data: input items to chat messages, the request's tools to
// chat tools, text.format to response_format, and the stream's events with
// increasing sequence numbers and consistent item ids (ResponseEmitter).
#pragma once

#include <boost/json.hpp>

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "llama_stack/apis/responses.h"

namespace llama_stack::providers::inline_::agents {

namespace json = boost::json;

// The request's `input` (a string, or a list of items) as items with ids.
json::array input_items(const json::value& input);

// Items (context + input) as chat messages, after the instructions.
json::array chat_messages(const json::array& items, const std::optional<std::string>& instructions);

// The file_search tool of a request (its stores and search options).
struct FileSearchTool {
  json::array vector_store_ids;
  std::optional<json::value> filters;
  std::int64_t max_num_results = 10;
  std::optional<json::object> ranking_options;
};

// An `mcp` tool: a server whose tools are listed when the response starts.
struct McpTool {
  std::string server_label;
  std::string server_url;
  json::object headers;
  std::optional<std::set<std::string>> allowed_tools;
};

struct ResponseTools {
  json::array chat_tools;                     // what the model is offered
  std::optional<FileSearchTool> file_search;  // offered as the function "file_search"
  bool web_search = false;                    // offered as the function "web_search"
  std::vector<McpTool> mcp;
  std::map<std::string, std::size_t> mcp_tool_server;  // a listed MCP tool → its server
};
// 400 naming the field for a bad tool, or a type this build does not run yet.
ResponseTools response_tools(const json::value* tools);

// text.format → a chat response_format (null for plain text).
json::value response_format(const json::value* text);

// The text of a file_search_call's results, as the model sees them.
std::string file_search_text(const json::array& results);

// Emits the Responses stream: every event gets the next sequence_number.
// Without a sink nothing is emitted (a non-streamed response).
class ResponseEmitter {
 public:
  explicit ResponseEmitter(apis::ResponseEventSink sink) : sink_(std::move(sink)) {}

  void response_event(std::string_view type, const json::object& response);
  // A message item: begun lazily at the first delta, ended with its text.
  void text_delta(const std::string& delta);
  // Ends the message begun by text_delta (if any); returns its item.
  std::optional<json::object> end_message();
  // A finished message without deltas (non-streamed inference).
  json::object message(const std::string& text);
  // A message whose only part is a refusal (a guardrail's violation).
  json::object refusal(const std::string& text);
  void function_call(const json::object& item);
  // A server-side tool's item (file_search_call, web_search_call, mcp_call,
  // mcp_list_tools): output_item.added and `<prefix>.<state>` for each of
  // `states` (in_progress, searching, …) before it runs; then
  // `<prefix>.completed` or `.failed` and output_item.done after.
  void tool_started(const json::object& item, std::string_view prefix,
                    std::initializer_list<std::string_view> states);
  void tool_done(const json::object& item, std::string_view prefix, bool failed);
  // mcp_call arguments, as OpenAI streams them.
  void mcp_arguments(const json::object& item);
  std::int64_t next_output_index() const { return output_index_; }

 private:
  void emit(std::string_view type, json::object event);

  apis::ResponseEventSink sink_;
  std::int64_t sequence_ = 0;
  std::int64_t output_index_ = 0;
  // The message being streamed.
  std::optional<std::string> message_id_;
  std::int64_t message_index_ = 0;
  std::string message_text_;
};

}  // namespace llama_stack::providers::inline_::agents
