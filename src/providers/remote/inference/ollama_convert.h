// remote::ollama's translation between the OpenAI shapes the stack speaks and
// Ollama's native API (/api/chat, /api/generate, /api/embed).
//
// Requests come from clients: every field read is type-checked, and a bad one
// throws JsonFieldError (or ApiError 400) naming its path, e.g.
// "Field 'messages[1].tool_calls[0].function' is required".
// Responses come from the model server: a malformed one throws ApiError 502
// ("Provider '<id>' sent a malformed response: Field 'message' is required").
//
// Thread-safety: the functions are pure; one stream converter per stream.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/util/json.h"

namespace llama_stack::providers::remote::ollama {

// --- OpenAI request → Ollama request -------------------------------------

// The /api/chat body for an OpenAI chat completion request.
json::object chat_request(const json::object& request);
// The /api/generate body for an OpenAI (text) completion request.
json::object generate_request(const json::object& request);
// The /api/embed body for an OpenAI embeddings request.
json::object embed_request(const json::object& request);

bool wants_stream(const json::object& request);
// stream_options.include_usage.
bool wants_usage(const json::object& request);

// The parts of chat_request, for tests.
json::array convert_messages(const json::object& request);
json::object convert_options(const json::object& request);
// Ollama's "format" for response_format: "json", a schema, or null.
json::value format_of(const json::object& request);

// --- Ollama response → OpenAI response -----------------------------------

// What an OpenAI response carries that Ollama's does not.
struct ResponseIds {
  std::string provider_id;  // names the provider in errors
  std::string model;
  std::string id;  // "chatcmpl-…" / "cmpl-…"
  std::int64_t created = 0;
};

// /api/chat (non-stream) → chat.completion.
json::object chat_response(const json::value& body, const ResponseIds& ids);
// /api/generate (non-stream) → text_completion.
json::object generate_response(const json::value& body, const ResponseIds& ids);
// /api/embed → the OpenAI embeddings list.
json::object embed_response(const json::value& body, const ResponseIds& ids);

// /api/chat NDJSON records → chat.completion.chunk: a role chunk first, then
// content and tool-call deltas, a finish chunk on the "done" record and, when
// `include_usage`, a usage chunk.
class ChatStream {
 public:
  ChatStream(ResponseIds ids, bool include_usage)
      : ids_(std::move(ids)), include_usage_(include_usage) {}
  std::vector<json::object> on_record(const json::value& record);
  // True once the "done" record has been seen.
  bool done() const { return done_; }

 private:
  json::object chunk(json::object delta, json::value finish) const;
  ResponseIds ids_;
  bool include_usage_;
  bool started_ = false;
  bool saw_tool_calls_ = false;
  bool done_ = false;
  std::size_t counter_ = 0;  // tool calls so far (their stream index)
};

// /api/generate NDJSON records → text_completion chunks.
class GenerateStream {
 public:
  GenerateStream(ResponseIds ids, bool include_usage)
      : ids_(std::move(ids)), include_usage_(include_usage) {}
  std::vector<json::object> on_record(const json::value& record);
  bool done() const { return done_; }

 private:
  ResponseIds ids_;
  bool include_usage_;
  bool done_ = false;
};

}  // namespace llama_stack::providers::remote::ollama
