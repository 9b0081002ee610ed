// Conversions between Llama Stack's native inference shapes
// (/v1/inference/chat-completion, /completion, /embeddings; v0.2.x) and the
// OpenAI shapes every provider speaks. Request conversions (client data)
// throw ApiError (400) or JsonFieldError naming the offending field, e.g.
// "messages[1].tool_calls[0].tool_name". Response and stream conversions
// (a provider's output) throw ApiError 502 naming the field
// ("Malformed upstream response: Field 'choices[0].message' is required").
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/util/json.h"

namespace llama_stack::inference {

struct NativeRequest {
  std::string model_id;
  bool stream = false;
  json::object openai;  // the equivalent OpenAI request (without "model")
};

NativeRequest native_chat_request(const json::value& body);
NativeRequest native_completion_request(const json::value& body);
NativeRequest native_embeddings_request(const json::value& body);

// {metric, value, unit} ×3 from an OpenAI usage object (absent → nullopt).
std::optional<json::array> native_metrics(const json::value* usage);

// chat.completion → ChatCompletionResponse.
json::object native_chat_response(const json::object& response);
// text_completion → CompletionResponse.
json::object native_completion_response(const json::object& response);
// embeddings list → {"embeddings": [[...]]}.
json::object native_embeddings_response(const json::object& response);

// Turns a stream of chat.completion.chunk into native stream events:
// start → progress (text, tool calls) → complete (with metrics).
class NativeChatStream {
 public:
  // Events to send for this chunk (the first call also yields "start").
  std::vector<json::object> on_chunk(const json::object& chunk);
  // The final events (tool calls assembled, then "complete").
  std::vector<json::object> finish();

 private:
  struct PendingCall {
    std::string id;
    std::string name;
    std::string arguments;
  };
  static json::object event(std::string_view type, json::object delta,
                            json::value stop_reason = nullptr, json::value metrics = nullptr);
  bool started_ = false;
  std::string stop_reason_ = "end_of_turn";
  std::map<std::int64_t, PendingCall> calls_;
  json::value usage_ = nullptr;
};

class NativeCompletionStream {
 public:
  std::vector<json::object> on_chunk(const json::object& chunk);
  std::vector<json::object> finish();

 private:
  std::string stop_reason_ = "end_of_turn";
  json::value usage_ = nullptr;
};

// OpenAI finish_reason → Llama Stack stop_reason.
std::string stop_reason_of(std::string_view finish_reason);

// Base64 of the little-endian float32 encoding of `values` (OpenAI's
// encoding_format: "base64").
std::string embedding_base64(const json::array& values);

}  // namespace llama_stack::inference
