#include "providers/remote/inference/ollama_convert.h"

#include "llama_stack/common/errors.h"
#include "providers/utils/upstream.h"

namespace llama_stack::providers::remote::ollama {
namespace {

// --- requests (client data: JsonFieldError / 400) -------------------------

// The text of OpenAI content: a string, or the text parts of a list joined
// by newlines.
std::string text_of(const json::value& content, const std::string& path) {
  if (content.is_string()) return std::string(content.get_string());
  if (!content.is_array()) throw_wrong_type(path, "a string or a list of content parts", content);
  std::string out;
  std::size_t i = 0;
  for (const auto& part : content.get_array()) {
    JsonReader p(part, path + "[" + std::to_string(i++) + "]");
    p.optional_string("type");
    if (auto text = p.optional_string("text")) {
      if (!out.empty()) out += "\n";
      out += *text;
    }
  }
  return out;
}

// The base64 data of the image_url parts (Ollama takes images inline only).
json::array images_of(const json::value& content, const std::string& path) {
  json::array images;
  if (!content.is_array()) return images;
  std::size_t i = 0;
  for (const auto& part : content.get_array()) {
    JsonReader p(part, path + "[" + std::to_string(i++) + "]");
    if (p.optional_string("type") != "image_url") continue;
    const std::string url = p.required_object("image_url").required_string("url");
    std::string_view u = url;
    const auto comma = u.find(',');
    if (!u.starts_with("data:") || comma == std::string_view::npos) {
      throw ApiError::bad_request(
          "remote::ollama needs images inline (data: URLs with base64 data); fetching image URLs "
          "is not supported (" +
          p.field_path("image_url.url") + ")");
    }
    images.emplace_back(u.substr(comma + 1));
  }
  return images;
}

// OpenAI function arguments (a JSON string, or an object) → Ollama's object.
json::value arguments_of(const JsonReader& fn) {
  const json::value* a = fn.find("arguments");
  const std::string path = fn.field_path("arguments");
  if (a == nullptr) return json::object{};
  json::value arguments = *a;
  if (a->is_string()) {
    try {
      arguments = parse_json(a->get_string());
    } catch (const JsonSyntaxError& e) {
      throw JsonFieldError(path, "Field '" + path + "' is not valid JSON: " + e.what());
    }
    if (!arguments.is_object()) {
      throw JsonFieldError(path, "Field '" + path + "' must hold a JSON object, got " +
                                     std::string(json_kind_name(arguments.kind())));
    }
    return arguments;
  }
  if (!a->is_object()) throw_wrong_type(path, "a JSON string or an object", *a);
  return arguments;
}

json::array convert_tool_calls(const json::array& calls, const JsonReader& msg) {
  json::array out;
  for (std::size_t i = 0; i < calls.size(); ++i) {
    JsonReader call(calls[i], msg.element_path("tool_calls", i));
    JsonReader fn = call.required_object("function");
    std::string name = fn.required_string("name");
    out.push_back(json::object{
        {"function", json::object{{"name", std::move(name)}, {"arguments", arguments_of(fn)}}}});
  }
  return out;
}

// Integer options are written as integers (Ollama's Go types reject 3.0).
void copy_int(const JsonReader& r, json::object& options, std::string_view from,
              std::string_view to) {
  if (auto v = r.optional_int(from)) options[to] = *v;
}

// Number options keep the client's value (0.2 stays 0.2, 1 stays 1).
void copy_number(const JsonReader& r, json::object& options, std::string_view from,
                 std::string_view to) {
  if (r.optional_number(from)) options[to] = *r.find(from);
}

void reject_unsupported(const JsonReader& r) {
  if (auto n = r.optional_int("n"); n && *n != 1) {
    throw ApiError::bad_request("remote::ollama supports n=1 only");
  }
}

// Tools go to Ollama as they are; check the parts it needs.
void check_tools(const json::array& tools, const JsonReader& r) {
  for (std::size_t i = 0; i < tools.size(); ++i) {
    JsonReader tool(tools[i], r.element_path("tools", i));
    tool.optional_string("type");
    JsonReader fn = tool.required_object("function");
    fn.required_string("name");
    fn.find_object("parameters");
    fn.optional_string("description");
  }
}

// --- responses (upstream data: 502) ---------------------------------------

// Runs `f`; a JsonFieldError (a missing or mistyped upstream field) is the
// provider's fault: 502, naming the provider and the field.
template <class F>
auto upstream_checked(const ResponseIds& ids, F&& f) {
  try {
    return f();
  } catch (const JsonFieldError& e) {
    throw utils::malformed(ids.provider_id, e.what());
  }
}

JsonReader upstream_object(const json::value& value, const ResponseIds& ids,
                           std::string_view what) {
  if (!value.is_object()) {
    throw utils::malformed(ids.provider_id, std::string(what) + " is not a JSON object (got " +
                                                std::string(json_kind_name(value.kind())) + ")");
  }
  return JsonReader(value);
}

std::string finish_reason(const JsonReader& record, bool has_tool_calls) {
  if (has_tool_calls) return "tool_calls";
  if (const auto* r = record.find("done_reason"); r != nullptr && r->is_string()) {
    if (r->get_string() == "length") return "length";
  }
  return "stop";
}

json::object usage_of(const JsonReader& record) {
  auto count = [&](std::string_view key) -> std::int64_t {
    const auto* v = record.find(key);
    return v != nullptr && v->is_int64() ? v->get_int64() : 0;
  };
  const std::int64_t prompt = count("prompt_eval_count");
  const std::int64_t completion = count("eval_count");
  return json::object{{"prompt_tokens", prompt},
                      {"completion_tokens", completion},
                      {"total_tokens", prompt + completion}};
}

// Ollama tool calls → OpenAI tool calls with fresh ids ("call_<n>_<hex>").
json::array openai_tool_calls(const json::array& calls, const JsonReader& message,
                              std::size_t& counter) {
  json::array out;
  for (std::size_t i = 0; i < calls.size(); ++i) {
    JsonReader call(calls[i], message.element_path("tool_calls", i));
    JsonReader fn = call.required_object("function");
    std::string name = fn.required_string("name");
    const json::value* args = fn.find("arguments");
    out.push_back(json::object{
        {"id", "call_" + std::to_string(counter++) + utils::random_id("_").substr(0, 9)},
        {"type", "function"},
        {"function",
         json::object{{"name", std::move(name)},
                      {"arguments", args == nullptr     ? std::string("{}")
                                    : args->is_string() ? std::string(args->get_string())
                                                        : to_json(*args)}}}});
  }
  return out;
}

json::object completion_of(const ResponseIds& ids, std::string text, json::value finish) {
  return json::object{{"id", ids.id},
                      {"object", "text_completion"},
                      {"created", ids.created},
                      {"model", ids.model},
                      {"choices", json::array{json::object{{"text", std::move(text)},
                                                           {"index", 0},
                                                           {"logprobs", nullptr},
                                                           {"finish_reason", std::move(finish)}}}}};
}

json::object usage_chunk(const ResponseIds& ids, std::string_view object, const JsonReader& o) {
  return json::object{{"id", ids.id},       {"object", object},         {"created", ids.created},
                      {"model", ids.model}, {"choices", json::array{}}, {"usage", usage_of(o)}};
}

bool is_done(const JsonReader& o) {
  const auto* done = o.find("done");
  return done != nullptr && done->is_bool() && done->get_bool();
}

}  // namespace

bool wants_stream(const json::object& request) {
  return JsonReader(request).optional_bool("stream").value_or(false);
}

bool wants_usage(const json::object& request) {
  auto so = JsonReader(request).find_object("stream_options");
  return so && so->optional_bool("include_usage").value_or(false);
}

json::array convert_messages(const json::object& request) {
  JsonReader r(request);
  const json::array* messages = r.find_array("messages");
  if (messages == nullptr || messages->empty()) {
    throw JsonFieldError("messages", "Field 'messages' must be a non-empty array");
  }
  json::array out;
  for (std::size_t i = 0; i < messages->size(); ++i) {
    JsonReader msg((*messages)[i], r.element_path("messages", i));
    std::string role = msg.required_string("role");
    if (role == "developer") role = "system";
    json::object converted{{"role", role}};
    const json::value* content = msg.find("content");
    const std::string content_path = msg.field_path("content");
    converted["content"] = content != nullptr ? text_of(*content, content_path) : std::string();
    if (content != nullptr) {
      json::array images = images_of(*content, content_path);
      if (!images.empty()) converted["images"] = std::move(images);
    }
    if (const json::array* calls = msg.find_array("tool_calls")) {
      converted["tool_calls"] = convert_tool_calls(*calls, msg);
    }
    if (role == "tool") {
      if (auto name = msg.optional_string("name")) converted["tool_name"] = *name;
    }
    out.push_back(std::move(converted));
  }
  return out;
}

json::object convert_options(const json::object& request) {
  JsonReader r(request);
  json::object options;
  copy_number(r, options, "temperature", "temperature");
  copy_number(r, options, "top_p", "top_p");
  copy_int(r, options, "top_k", "top_k");
  copy_int(r, options, "seed", "seed");
  copy_number(r, options, "frequency_penalty", "frequency_penalty");
  copy_number(r, options, "presence_penalty", "presence_penalty");
  copy_number(r, options, "repetition_penalty", "repeat_penalty");
  copy_int(r, options, "max_tokens", "num_predict");
  copy_int(r, options, "max_completion_tokens", "num_predict");
  if (const auto* stop = r.find("stop")) {
    if (stop->is_string()) {
      options["stop"] = json::array{*stop};
    } else if (stop->is_array()) {
      for (std::size_t i = 0; i < stop->get_array().size(); ++i) {
        if (!stop->get_array()[i].is_string()) {
          throw_wrong_type(r.element_path("stop", i), "a string", stop->get_array()[i]);
        }
      }
      options["stop"] = *stop;
    } else {
      throw_wrong_type("stop", "a string or a list of strings", *stop);
    }
  }
  return options;
}

json::value format_of(const json::object& request) {
  auto rf = JsonReader(request).find_object("response_format");
  if (!rf) return nullptr;
  const std::string type = rf->required_string("type");
  if (type == "text") return nullptr;
  if (type == "json_object") return "json";
  if (type == "json_schema") {
    if (auto js = rf->find_object("json_schema")) {
      if (auto schema = js->find_object("schema")) return schema->object();
    }
    return "json";
  }
  throw JsonFieldError("response_format.type",
                       "Field 'response_format.type' must be text, json_object or json_schema");
}

json::object chat_request(const json::object& request) {
  JsonReader r(request);
  reject_unsupported(r);
  json::object body{{"model", r.required_string("model")},
                    {"messages", convert_messages(request)},
                    {"stream", wants_stream(request)},
                    {"options", convert_options(request)}};
  const json::array* tools = r.find_array("tools");
  if (tools != nullptr) check_tools(*tools, r);
  const auto* choice = r.find("tool_choice");
  if (choice != nullptr && !choice->is_string() && !choice->is_object()) {
    throw_wrong_type("tool_choice", "a string or an object", *choice);
  }
  if (tools != nullptr && !tools->empty()) {
    if (choice == nullptr || !choice->is_string() || choice->get_string() != "none") {
      body["tools"] = *tools;
    }
  }
  if (json::value format = format_of(request); !format.is_null()) body["format"] = format;
  return body;
}

json::object generate_request(const json::object& request) {
  JsonReader r(request);
  reject_unsupported(r);
  const json::value* prompt = r.find("prompt");
  std::string prompt_text;
  if (prompt != nullptr && prompt->is_string()) {
    prompt_text = prompt->get_string();
  } else if (prompt != nullptr && prompt->is_array() && prompt->get_array().size() == 1 &&
             prompt->get_array()[0].is_string()) {
    prompt_text = prompt->get_array()[0].get_string();
  } else {
    throw JsonFieldError("prompt", "remote::ollama needs 'prompt' as one string");
  }
  json::object body{{"model", r.required_string("model")},
                    {"prompt", prompt_text},
                    {"stream", wants_stream(request)},
                    {"options", convert_options(request)}};
  if (auto suffix = r.optional_string("suffix")) body["suffix"] = *suffix;
  if (json::value format = format_of(request); !format.is_null()) body["format"] = format;
  return body;
}

json::object embed_request(const json::object& request) {
  JsonReader r(request);
  const json::value* input = r.find("input");
  if (input == nullptr) throw_missing_field("input");
  if (input->is_array()) {
    for (std::size_t i = 0; i < input->get_array().size(); ++i) {
      if (!input->get_array()[i].is_string()) {
        throw_wrong_type(r.element_path("input", i), "a string", input->get_array()[i]);
      }
    }
  } else if (!input->is_string()) {
    throw_wrong_type("input", "a string or a list of strings", *input);
  }
  json::object body{{"model", r.required_string("model")}, {"input", *input}};
  if (auto d = r.optional_int("dimensions")) body["dimensions"] = *d;
  return body;
}

json::object chat_response(const json::value& body, const ResponseIds& ids) {
  return upstream_checked(ids, [&] {
    JsonReader o = upstream_object(body, ids, "the /api/chat response");
    JsonReader message = o.required_object("message");
    std::size_t counter = 0;
    json::object out_message{{"role", "assistant"}};
    const json::array* calls = message.find_array("tool_calls");
    const bool has_calls = calls != nullptr && !calls->empty();
    const auto* content = message.find("content");
    std::string text =
        content != nullptr && content->is_string() ? std::string(content->get_string()) : "";
    out_message["content"] = has_calls && text.empty() ? json::value(nullptr) : json::value(text);
    if (has_calls) out_message["tool_calls"] = openai_tool_calls(*calls, message, counter);
    return json::object{
        {"id", ids.id},
        {"object", "chat.completion"},
        {"created", ids.created},
        {"model", ids.model},
        {"choices", json::array{json::object{{"index", 0},
                                             {"message", std::move(out_message)},
                                             {"finish_reason", finish_reason(o, has_calls)},
                                             {"logprobs", nullptr}}}},
        {"usage", usage_of(o)},
    };
  });
}

json::object generate_response(const json::value& body, const ResponseIds& ids) {
  return upstream_checked(ids, [&] {
    JsonReader o = upstream_object(body, ids, "the /api/generate response");
    const auto* response = o.find("response");
    json::object out = completion_of(ids,
                                     response != nullptr && response->is_string()
                                         ? std::string(response->get_string())
                                         : std::string(),
                                     json::value(finish_reason(o, false)));
    out["usage"] = usage_of(o);
    return out;
  });
}

json::object embed_response(const json::value& body, const ResponseIds& ids) {
  return upstream_checked(ids, [&] {
    JsonReader o = upstream_object(body, ids, "the /api/embed response");
    const json::array& embeddings = o.required_array("embeddings");
    json::array data;
    for (std::size_t i = 0; i < embeddings.size(); ++i) {
      if (!embeddings[i].is_array()) {
        throw_wrong_type(o.element_path("embeddings", i), "a list of numbers", embeddings[i]);
      }
      data.push_back(json::object{{"object", "embedding"},
                                  {"index", static_cast<std::int64_t>(i)},
                                  {"embedding", embeddings[i]}});
    }
    const auto* count = o.find("prompt_eval_count");
    const std::int64_t tokens = count != nullptr && count->is_int64() ? count->get_int64() : 0;
    return json::object{
        {"object", "list"},
        {"data", std::move(data)},
        {"model", ids.model},
        {"usage", json::object{{"prompt_tokens", tokens}, {"total_tokens", tokens}}}};
  });
}

json::object ChatStream::chunk(json::object delta, json::value finish) const {
  return json::object{{"id", ids_.id},
                      {"object", "chat.completion.chunk"},
                      {"created", ids_.created},
                      {"model", ids_.model},
                      {"choices", json::array{json::object{{"index", 0},
                                                           {"delta", std::move(delta)},
                                                           {"logprobs", nullptr},
                                                           {"finish_reason", std::move(finish)}}}}};
}

std::vector<json::object> ChatStream::on_record(const json::value& record) {
  return upstream_checked(ids_, [&] {
    JsonReader o = upstream_object(record, ids_, "a /api/chat stream record");
    std::vector<json::object> out;
    if (!started_) {
      started_ = true;
      out.push_back(chunk(json::object{{"role", "assistant"}, {"content", ""}}, nullptr));
    }
    if (const auto* message = o.find("message"); message != nullptr && message->is_object()) {
      JsonReader m(*message, "message");
      if (const auto* c = m.find("content");
          c != nullptr && c->is_string() && !c->get_string().empty()) {
        out.push_back(chunk(json::object{{"content", c->get_string()}}, nullptr));
      }
      if (const json::array* calls = m.find_array("tool_calls")) {
        json::array deltas;
        std::size_t index = counter_;
        for (auto& call : openai_tool_calls(*calls, m, counter_)) {
          call.as_object()["index"] = index++;
          deltas.push_back(std::move(call));
        }
        if (!deltas.empty()) {
          saw_tool_calls_ = true;
          out.push_back(chunk(json::object{{"tool_calls", std::move(deltas)}}, nullptr));
        }
      }
    }
    if (is_done(o)) {
      done_ = true;
      out.push_back(chunk(json::object{}, json::value(finish_reason(o, saw_tool_calls_))));
      if (include_usage_) out.push_back(usage_chunk(ids_, "chat.completion.chunk", o));
    }
    return out;
  });
}

std::vector<json::object> GenerateStream::on_record(const json::value& record) {
  return upstream_checked(ids_, [&] {
    JsonReader o = upstream_object(record, ids_, "a /api/generate stream record");
    std::vector<json::object> out;
    if (const auto* r = o.find("response");
        r != nullptr && r->is_string() && !r->get_string().empty()) {
      out.push_back(completion_of(ids_, std::string(r->get_string()), nullptr));
    }
    if (is_done(o)) {
      done_ = true;
      out.push_back(completion_of(ids_, "", json::value(finish_reason(o, false))));
      if (include_usage_) out.push_back(usage_chunk(ids_, "text_completion", o));
    }
    return out;
  });
}

}  // namespace llama_stack::providers::remote::ollama
