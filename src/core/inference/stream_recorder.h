// StreamRecorder: re-assembles a streamed OpenAI response from its chunks —
// a chat.completion (content, tool calls by index, finish reasons) or a
// text_completion — with the last usage seen. The router returns it as the
// result of a streaming call and records it in the inference store.
//
// Thread-safety: none; one stream's chunks arrive in order on one thread.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "core/util/json.h"

namespace llama_stack::inference {

class StreamRecorder {
 public:
  void add(const json::object& chunk);
  // The assembled response, with "model" = `model` (the caller's model id).
  json::object chat_completion(const std::string& model) const;
  json::object text_completion(const std::string& model) const;
  // The last `usage` object a chunk carried, or null.
  const json::value& usage() const { return usage_; }

 private:
  struct Call {
    std::string id, name, arguments;
  };
  struct Choice {
    std::string content;
    bool has_content = false;
    std::string finish;
    std::map<std::int64_t, Call> calls;
  };
  json::object envelope(const std::string& model, std::string_view object,
                        json::array choices) const;

  std::string id_;
  std::int64_t created_ = 0;
  std::map<std::int64_t, Choice> choices_;
  json::value usage_ = nullptr;
};

}  // namespace llama_stack::inference
