// The fake "model": deterministic replies, token counts and embeddings shared
// by the OpenAI and Ollama endpoints of the fake model server, plus the small
// JSON-writing helpers the hot path uses (responses are built by string
// concatenation, not through a DOM).
//
// Thread-safety: everything here is pure.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "core/util/json.h"

namespace llama_stack::fake {

// The models the fake serves; every other model name gets the protocol's 404.
inline constexpr std::array<std::string_view, 5> kModels = {
    "llama3.2:3b", "meta-llama/Llama-3.1-8B-Instruct", "all-minilm", "bow-embed", "bow-embed-384"};
bool is_known_model(std::string_view model);

// The arguments of every fake tool call.
inline constexpr std::string_view kToolArguments = R"({"location":"Paris"})";
inline constexpr std::string_view kToolCallId = "call_1";

// A request the fake rejects: the protocol layer renders it in its own error shape.
class FakeError : public std::runtime_error {
 public:
  FakeError(int status, std::string message, std::string param = {}, std::string code = {})
      : std::runtime_error(std::move(message)),
        status(status),
        param(std::move(param)),
        code(std::move(code)) {}
  int status;
  std::string param;  // OpenAI error.param; empty → null
  std::string code;   // OpenAI error.code; empty → null
};

// --- JSON writing -----------------------------------------------------------

// Appends `text` as a quoted, escaped JSON string (the server's own writer).
using ::llama_stack::append_json_string;
std::string json_string(std::string_view text);
// Appends the shortest round-tripping form of `value` (finite values only; else 0).
void append_json_number(std::string& out, double value);

// --- request reading ----------------------------------------------------------

// Parses a request body that must be a JSON object; FakeError 400 otherwise.
json::object parse_body(std::string_view body);
// Optional typed fields; null counts as absent; a wrong type is FakeError 400.
std::optional<std::int64_t> int_field(const json::object& object, std::string_view key);
std::optional<bool> bool_field(const json::object& object, std::string_view key);
std::optional<std::string> string_field(const json::object& object, std::string_view key);

// --- the model ----------------------------------------------------------------

// Whitespace-separated words of `text`.
std::vector<std::string_view> split_words(std::string_view text);
std::size_t count_words(std::string_view text);

// The text of a message `content`: a string, or the "text" of its text parts
// joined by a space; null/absent → "".
std::string content_text(const json::value* content);

// What a chat request says, as far as the fake cares.
struct ChatInput {
  std::string last_user_text;     // content of the last message with role "user"
  bool last_is_user = false;      // the final message has role "user"
  std::string last_tool_text;     // content of the final message when its role is "tool"
  bool last_is_tool = false;      // the final message has role "tool" (a tool's result)
  std::size_t prompt_tokens = 0;  // words over every message's content
  // What the reply answers: "You said: <last user text>", or after a tool
  // result "The tool said: <its content>".
  std::string_view lead() const { return last_is_tool ? "The tool said: " : "You said: "; }
  const std::string& answered() const { return last_is_tool ? last_tool_text : last_user_text; }
};
// Reads an OpenAI or Ollama `messages` array; FakeError 400 on a bad shape.
ChatInput read_messages(const json::array& messages);

// A tool call the fake makes: the tool's name and its arguments (JSON text;
// not valid JSON when the message asked for "broken arguments").
struct ToolCallPlan {
  std::string name;
  std::string arguments;
};

// The tool to call, when the request asks for one: `tools` is a non-empty
// array and the final message is a user message containing "call tool".
// "call tool <name>" picks the offered tool of that name (else the first);
// a JSON object after it becomes the arguments (else {"location":"Paris"});
// "broken arguments" makes them invalid JSON.
std::optional<ToolCallPlan> tool_to_call(const json::object& request, const ChatInput& input);

struct Completion {
  // Streamed pieces: each word plus a space, except the last. Their
  // concatenation is `content`.
  std::vector<std::string> tokens;
  std::string content;
  bool truncated = false;            // cut by a max-tokens limit: finish "length"
  std::optional<ToolCallPlan> tool;  // a tool call instead of text
  std::size_t prompt_tokens = 0;
  std::size_t completion_tokens = 0;
  // A Llama Guard verdict: the probability of "unsafe" as its first token
  // (what chat completions report as logprobs when asked).
  std::optional<double> unsafe_probability;
  std::size_t total_tokens() const { return prompt_tokens + completion_tokens; }
};

// "Hello from <model>! You said: <user_text>", cut to `max_tokens` words when
// that is smaller (negative = unlimited); or a tool call (1 completion token).
Completion generate(std::string_view model, std::string_view user_text, std::size_t prompt_tokens,
                    std::optional<std::int64_t> max_tokens, std::optional<ToolCallPlan> tool = {},
                    std::string_view lead = "You said: ");

// --- embeddings ---------------------------------------------------------------

inline constexpr std::size_t kDefaultDimensions = 8;
inline constexpr std::size_t kBowDimensions = 64;  // bow-embed (bow-embed-384: 384)
inline constexpr std::int64_t kMaxDimensions = 65536;

// The texts of an embeddings request's `input` (a string or an array of
// strings); FakeError 400 otherwise, and when empty unless `allow_empty`.
std::vector<std::string> embedding_inputs(const json::object& body, bool allow_empty);
// `dimensions` (1..kMaxDimensions), default kDefaultDimensions.
std::size_t embedding_dimensions(const json::object& body, std::string_view model);

// FNV-1a, 32 bits, over the UTF-8 bytes.
std::uint32_t fnv1a32(std::string_view text);
// Element i = sin(fnv1a32(text) + i), rounded to 6 decimals.
// all-minilm (and the chat models): sin(fnv1a32(text) + i). bow-embed: a
// bag of words — each lower-case word adds 1 at fnv1a32(word) % dimensions,
// then the vector is L2-normalised — so texts sharing words are close.
std::vector<double> embed(std::string_view model, std::string_view text, std::size_t dimensions);
// "[0.1,-0.2,...]"
void append_vector(std::string& out, const std::vector<double>& vector);
// Standard base64 (with padding) of the little-endian float32 values.
std::string base64_float32(const std::vector<double>& vector);

// --- time ---------------------------------------------------------------------

std::int64_t unix_seconds();
// RFC 3339 UTC with microseconds, e.g. "2025-07-07T20:22:19.184789Z".
std::string rfc3339_now();

}  // namespace llama_stack::fake
