#include "core/inference/stream_recorder.h"

namespace llama_stack::inference {
namespace {

const json::object* object_field(const json::object& o, std::string_view key) {
  const auto* v = json_field(o, key);
  return v != nullptr ? v->if_object() : nullptr;
}

std::int64_t index_of(const json::object& o) {
  const auto* i = json_field(o, "index");
  return i != nullptr && i->is_int64() ? i->get_int64() : 0;
}

void append_string(std::string& out, const json::object& o, std::string_view key) {
  if (const auto* v = json_field(o, key); v != nullptr && v->is_string()) out += v->get_string();
}

}  // namespace

void StreamRecorder::add(const json::object& chunk) {
  if (const auto* usage = json_field(chunk, "usage"); usage != nullptr && usage->is_object()) {
    usage_ = *usage;
  }
  if (id_.empty()) {
    if (const auto* id = json_field(chunk, "id"); id != nullptr && id->is_string())
      id_ = id->get_string();
    if (const auto* c = json_field(chunk, "created"); c != nullptr && c->is_int64())
      created_ = c->get_int64();
  }
  const auto* choices = json_field(chunk, "choices");
  if (choices == nullptr || !choices->is_array()) return;
  for (const auto& c : choices->get_array()) {
    const auto* choice = c.if_object();
    if (choice == nullptr) continue;
    Choice& acc = choices_[index_of(*choice)];
    if (const auto* t = json_field(*choice, "text"); t != nullptr && t->is_string()) {
      acc.content += t->get_string();
      acc.has_content = true;
    }
    if (const auto* d = object_field(*choice, "delta")) {
      if (const auto* t = json_field(*d, "content"); t != nullptr && t->is_string()) {
        acc.content += t->get_string();
        acc.has_content = true;
      }
      if (const auto* calls = json_field(*d, "tool_calls"); calls != nullptr && calls->is_array()) {
        for (const auto& tc : calls->get_array()) {
          const auto* call = tc.if_object();
          if (call == nullptr) continue;
          Call& t = acc.calls[index_of(*call)];
          if (const auto* id = json_field(*call, "id"); id != nullptr && id->is_string())
            t.id = id->get_string();
          if (const auto* fn = object_field(*call, "function")) {
            append_string(t.name, *fn, "name");
            append_string(t.arguments, *fn, "arguments");
          }
        }
      }
    }
    if (const auto* f = json_field(*choice, "finish_reason"); f != nullptr && f->is_string())
      acc.finish = f->get_string();
  }
}

json::object StreamRecorder::envelope(const std::string& model, std::string_view object,
                                      json::array choices) const {
  json::object out{{"id", id_},
                   {"object", object},
                   {"created", created_},
                   {"model", model},
                   {"choices", std::move(choices)}};
  if (!usage_.is_null()) out["usage"] = usage_;
  return out;
}

json::object StreamRecorder::chat_completion(const std::string& model) const {
  json::array choices;
  for (const auto& [index, c] : choices_) {
    json::object message{
        {"role", "assistant"},
        {"content", c.has_content ? json::value(c.content) : json::value(nullptr)}};
    if (!c.calls.empty()) {
      json::array calls;
      for (const auto& [i, t] : c.calls) {
        calls.push_back(
            json::object{{"id", t.id},
                         {"type", "function"},
                         {"function", json::object{{"name", t.name}, {"arguments", t.arguments}}}});
      }
      message["tool_calls"] = std::move(calls);
    }
    choices.push_back(json::object{
        {"index", index},
        {"message", std::move(message)},
        {"finish_reason", c.finish.empty() ? json::value(nullptr) : json::value(c.finish)},
        {"logprobs", nullptr}});
  }
  return envelope(model, "chat.completion", std::move(choices));
}

json::object StreamRecorder::text_completion(const std::string& model) const {
  json::array choices;
  for (const auto& [index, c] : choices_) {
    choices.push_back(json::object{
        {"index", index},
        {"text", c.content},
        {"finish_reason", c.finish.empty() ? json::value(nullptr) : json::value(c.finish)},
        {"logprobs", nullptr}});
  }
  return envelope(model, "text_completion", std::move(choices));
}

}  // namespace llama_stack::inference
