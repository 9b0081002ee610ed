#include "providers/utils/chat_completion.h"

#include "core/util/json.h"

namespace llama_stack::providers::utils {
namespace {

std::int64_t int_of(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v != nullptr && (v->is_int64() || v->is_uint64()) ? v->to_number<std::int64_t>() : 0;
}

}  // namespace

std::vector<std::string> chunk_texts(const json::object& chunk) {
  std::vector<std::string> out;
  const json::value* choices = chunk.if_contains("choices");
  if (choices == nullptr || !choices->is_array()) return out;
  for (const auto& choice : choices->get_array()) {
    const json::value* delta =
        choice.is_object() ? choice.get_object().if_contains("delta") : nullptr;
    if (delta == nullptr || !delta->is_object()) continue;
    const json::value* text = delta->get_object().if_contains("content");
    if (text != nullptr && text->is_string() && !text->get_string().empty()) {
      out.emplace_back(text->get_string());
    }
  }
  return out;
}

json::object first_message(const json::object& completion, std::string* finish_reason) {
  const json::value* choices = completion.if_contains("choices");
  if (choices == nullptr || !choices->is_array() || choices->get_array().empty() ||
      !choices->get_array()[0].is_object()) {
    return {};
  }
  const json::object& choice = choices->get_array()[0].get_object();
  if (finish_reason != nullptr) *finish_reason = json_string(choice, "finish_reason");
  const json::value* m = choice.if_contains("message");
  return m != nullptr && m->is_object() ? m->get_object() : json::object{};
}

std::vector<FunctionCall> function_calls(const json::object& message) {
  std::vector<FunctionCall> out;
  const json::value* calls = message.if_contains("tool_calls");
  if (calls == nullptr || !calls->is_array()) return out;
  for (const auto& c : calls->get_array()) {
    if (!c.is_object()) continue;
    const json::object& call = c.get_object();
    FunctionCall f;
    f.id = json_string(call, "id");
    if (const json::value* fn = call.if_contains("function"); fn && fn->is_object()) {
      f.name = json_string(fn->get_object(), "name");
      f.arguments = json_string(fn->get_object(), "arguments");
    }
    out.push_back(std::move(f));
  }
  return out;
}

void add_usage(const json::object& completion, Usage& usage) {
  const json::value* u = completion.if_contains("usage");
  if (u == nullptr || !u->is_object()) return;
  usage.prompt_tokens += int_of(u->get_object(), "prompt_tokens");
  usage.completion_tokens += int_of(u->get_object(), "completion_tokens");
}

}  // namespace llama_stack::providers::utils
