// Reading OpenAI chat completions (what the inference router answers) in
// the orchestrators: the text deltas of a stream chunk, the first choice's
// message, its function calls, the usage.
#pragma once

#include <boost/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace llama_stack::providers::utils {

// The non-empty `delta.content` texts of a chat.completion.chunk.
std::vector<std::string> chunk_texts(const boost::json::object& chunk);

// choices[0].message ({} when absent) and its finish_reason.
boost::json::object first_message(const boost::json::object& completion,
                                  std::string* finish_reason = nullptr);

struct FunctionCall {
  std::string id;
  std::string name;
  std::string arguments;  // as the model wrote them (maybe not JSON)
};
// The message's tool_calls of type function.
std::vector<FunctionCall> function_calls(const boost::json::object& message);

struct Usage {
  std::int64_t prompt_tokens = 0;
  std::int64_t completion_tokens = 0;
  std::int64_t total() const { return prompt_tokens + completion_tokens; }
};
// Adds the completion's usage (absent: nothing).
void add_usage(const boost::json::object& completion, Usage& usage);

}  // namespace llama_stack::providers::utils
