#include "core/inference/native.h"

#include <bit>
#include <cstring>

#include "llama_stack/common/errors.h"

namespace llama_stack::inference {
namespace {

const json::object& checked_object(const json::value& v, const std::string& path) {
  if (!v.is_object()) {
    throw JsonFieldError(path, "Field '" + path + "' must be an object, got " +
                                   std::string(json_kind_name(v.kind())));
  }
  return v.get_object();
}

std::string checked_string(const json::value& v, const std::string& path) {
  if (!v.is_string()) {
    throw JsonFieldError(path, "Field '" + path + "' must be a string, got " +
                                   std::string(json_kind_name(v.kind())));
  }
  return std::string(v.get_string());
}

// One InterleavedContentItem → an OpenAI content part.
json::object content_part(const json::value& item, const std::string& path) {
  const auto& o = checked_object(item, path);
  const auto* type = json_field(o, "type");
  if (type == nullptr) throw_missing_field(path + ".type");
  const std::string t = checked_string(*type, path + ".type");
  if (t == "text") {
    const auto* text = json_field(o, "text");
    if (text == nullptr)
      throw JsonFieldError(path + ".text", "Field '" + path + ".text' is required");
    return json::object{{"type", "text"}, {"text", checked_string(*text, path + ".text")}};
  }
  if (t == "image") {
    const auto* image = json_field(o, "image");
    if (image == nullptr)
      throw JsonFieldError(path + ".image", "Field '" + path + ".image' is required");
    const auto& img = checked_object(*image, path + ".image");
    std::string url;
    if (const auto* u = json_field(img, "url")) {
      const auto& uo = checked_object(*u, path + ".image.url");
      const auto* uri = json_field(uo, "uri");
      if (uri == nullptr)
        throw JsonFieldError(path + ".image.url.uri",
                             "Field '" + path + ".image.url.uri' is required");
      url = checked_string(*uri, path + ".image.url.uri");
    } else if (const auto* data = json_field(img, "data")) {
      url = "data:image/png;base64," + checked_string(*data, path + ".image.data");
    } else {
      throw JsonFieldError(path + ".image", "Field '" + path + ".image' needs 'url' or 'data'");
    }
    return json::object{{"type", "image_url"}, {"image_url", json::object{{"url", url}}}};
  }
  throw JsonFieldError(path + ".type",
                       "Field '" + path + ".type' must be 'text' or 'image', got '" + t + "'");
}

// InterleavedContent → OpenAI content (a string when it is all text).
json::value content_of(const json::value& content, const std::string& path) {
  if (content.is_string()) return content;
  json::array parts;
  if (content.is_object()) {
    parts.push_back(content_part(content, path));
  } else if (content.is_array()) {
    std::size_t i = 0;
    for (const auto& item : content.get_array()) {
      const std::string p = path + "[" + std::to_string(i++) + "]";
      if (item.is_string()) {
        parts.push_back(json::object{{"type", "text"}, {"text", item}});
      } else {
        parts.push_back(content_part(item, p));
      }
    }
  } else {
    throw JsonFieldError(path,
                         "Field '" + path + "' must be a string, a content item or a list of them");
  }
  // All text (the parts are ours, built above): one string.
  std::string joined;
  for (const auto& part : parts) {
    const auto& p = part.get_object();
    const auto* text = json_field(p, "text");
    if (p.find("image_url") != p.end() || text == nullptr || !text->is_string()) return parts;
    joined += text->get_string();
  }
  return json::value(joined);
}

std::string text_only(const json::value& content, const std::string& path) {
  json::value converted = content_of(content, path);
  if (!converted.is_string()) {
    throw ApiError::bad_request("Field '" + path + "' may only contain text here");
  }
  return std::string(converted.get_string());
}

std::string json_type_of(std::string_view param_type) {
  if (param_type == "int" || param_type == "integer") return "integer";
  if (param_type == "float" || param_type == "number") return "number";
  if (param_type == "bool" || param_type == "boolean") return "boolean";
  if (param_type == "list" || param_type == "array") return "array";
  if (param_type == "dict" || param_type == "object") return "object";
  return "string";
}

void apply_sampling(const json::object& body, json::object& out) {
  const auto* sp = json_field(body, "sampling_params");
  if (sp == nullptr) return;
  const auto& params = checked_object(*sp, "sampling_params");
  JsonReader reader(*sp, "sampling_params");
  if (const auto* strategy = json_field(params, "strategy")) {
    const auto& s = checked_object(*strategy, "sampling_params.strategy");
    JsonReader sr(*strategy, "sampling_params.strategy");
    const std::string type = sr.optional_string("type").value_or("greedy");
    if (type == "greedy") {
      out["temperature"] = 0.0;
    } else if (type == "top_p") {
      auto temperature = sr.optional_number("temperature");
      if (!temperature) {
        throw JsonFieldError("sampling_params.strategy.temperature",
                             "Field 'sampling_params.strategy.temperature' is required for top_p");
      }
      out["temperature"] = *temperature;
      out["top_p"] = sr.optional_number("top_p").value_or(0.95);
    } else if (type == "top_k") {
      auto k = sr.optional_int("top_k");
      if (!k || *k < 1) {
        throw JsonFieldError("sampling_params.strategy.top_k",
                             "Field 'sampling_params.strategy.top_k' must be an integer >= 1");
      }
      out["top_k"] = *k;
    } else {
      throw JsonFieldError("sampling_params.strategy.type",
                           "Field 'sampling_params.strategy.type' must be greedy, top_p or top_k");
    }
    (void)s;
  }
  if (auto max_tokens = reader.optional_int("max_tokens"); max_tokens && *max_tokens > 0) {
    out["max_tokens"] = *max_tokens;
  }
  if (auto penalty = reader.optional_number("repetition_penalty"); penalty && *penalty != 1.0) {
    out["repetition_penalty"] = *penalty;
  }
  if (const auto* stop = json_field(params, "stop")) {
    if (!stop->is_array())
      throw JsonFieldError("sampling_params.stop",
                           "Field 'sampling_params.stop' must be a list of strings");
    for (std::size_t i = 0; i < stop->get_array().size(); ++i) {
      if (!stop->get_array()[i].is_string()) {
        throw_wrong_type("sampling_params.stop[" + std::to_string(i) + "]", "a string",
                         stop->get_array()[i]);
      }
    }
    out["stop"] = *stop;
  }
}

void apply_response_format(const json::object& body, json::object& out) {
  const auto* rf = json_field(body, "response_format");
  if (rf == nullptr) return;
  const auto& o = checked_object(*rf, "response_format");
  JsonReader reader(*rf, "response_format");
  const std::string type = reader.required_string("type");
  if (type == "json_schema") {
    const auto* schema = json_field(o, "json_schema");
    if (schema == nullptr)
      throw JsonFieldError("response_format.json_schema",
                           "Field 'response_format.json_schema' is required");
    if (!schema->is_object()) throw_wrong_type("response_format.json_schema", "an object", *schema);
    out["response_format"] =
        json::object{{"type", "json_schema"},
                     {"json_schema", json::object{{"name", "response"}, {"schema", *schema}}}};
  } else if (type == "grammar") {
    throw ApiError::not_implemented(
        "response_format type 'grammar' is not supported by the configured providers");
  } else {
    throw JsonFieldError("response_format.type",
                         "Field 'response_format.type' must be json_schema or grammar");
  }
}

}  // namespace

std::string stop_reason_of(std::string_view finish_reason) {
  if (finish_reason == "length") return "out_of_tokens";
  if (finish_reason == "tool_calls" || finish_reason == "function_call") return "end_of_message";
  return "end_of_turn";
}

NativeRequest native_chat_request(const json::value& body_value) {
  JsonReader body(body_value);
  NativeRequest out;
  out.model_id = body.required_string("model_id");
  out.stream = body.optional_bool("stream").value_or(false);
  const json::object& b = body.object();
  const auto* messages = json_field(b, "messages");
  if (messages == nullptr || !messages->is_array() || messages->get_array().empty()) {
    throw JsonFieldError("messages", "Field 'messages' must be a non-empty list");
  }
  json::array converted;
  std::size_t i = 0;
  for (const auto& m : messages->get_array()) {
    const std::string path = "messages[" + std::to_string(i++) + "]";
    JsonReader msg(m, path);
    const std::string role = msg.required_string("role");
    if (role != "user" && role != "system" && role != "assistant" && role != "tool") {
      throw JsonFieldError(path + ".role",
                           "Field '" + path + ".role' must be user, system, assistant or tool");
    }
    json::object c{{"role", role}};
    const auto* content = msg.find("content");
    c["content"] = content != nullptr ? content_of(*content, path + ".content") : json::value("");
    if (role == "tool") {
      c["tool_call_id"] = msg.required_string("call_id");
    }
    if (role == "assistant") {
      if (const auto* calls = msg.find("tool_calls"); calls != nullptr) {
        if (!calls->is_array())
          throw JsonFieldError(path + ".tool_calls",
                               "Field '" + path + ".tool_calls' must be a list");
        json::array tool_calls;
        std::size_t j = 0;
        for (const auto& call : calls->get_array()) {
          const std::string cp = path + ".tool_calls[" + std::to_string(j++) + "]";
          JsonReader tc(call, cp);
          std::string arguments;
          if (auto aj = tc.optional_string("arguments_json")) {
            arguments = *aj;
          } else if (const auto* a = tc.find("arguments")) {
            if (!a->is_string() && !a->is_object()) {
              throw_wrong_type(tc.field_path("arguments"), "an object or a string", *a);
            }
            arguments = a->is_string() ? std::string(a->get_string()) : to_json(*a);
          } else {
            arguments = "{}";
          }
          tool_calls.push_back(json::object{
              {"id", tc.required_string("call_id")},
              {"type", "function"},
              {"function",
               json::object{{"name", tc.required_string("tool_name")}, {"arguments", arguments}}}});
        }
        if (!tool_calls.empty()) c["tool_calls"] = std::move(tool_calls);
      }
    }
    converted.push_back(std::move(c));
  }
  out.openai["messages"] = std::move(converted);
  apply_sampling(b, out.openai);

  std::vector<std::string> tool_names;
  if (const auto* tools = json_field(b, "tools")) {
    if (!tools->is_array()) throw JsonFieldError("tools", "Field 'tools' must be a list");
    json::array converted_tools;
    std::size_t k = 0;
    for (const auto& t : tools->get_array()) {
      const std::string tp = "tools[" + std::to_string(k++) + "]";
      JsonReader tool(t, tp);
      const std::string name = tool.required_string("tool_name");
      tool_names.push_back(name);
      json::object properties;
      json::array required;
      if (const auto* params = tool.find("parameters")) {
        for (const auto& kv : checked_object(*params, tp + ".parameters")) {
          const std::string pp = tp + ".parameters." + std::string(kv.key());
          JsonReader param(kv.value(), pp);
          json::object prop{
              {"type", json_type_of(param.optional_string("param_type").value_or("string"))}};
          if (auto d = param.optional_string("description")) prop["description"] = *d;
          if (const auto* def = param.find("default")) prop["default"] = *def;
          properties[kv.key()] = std::move(prop);
          if (param.optional_bool("required").value_or(true)) required.emplace_back(kv.key());
        }
      }
      json::object fn{{"name", name},
                      {"parameters", json::object{{"type", "object"},
                                                  {"properties", std::move(properties)},
                                                  {"required", std::move(required)}}}};
      if (auto d = tool.optional_string("description")) fn["description"] = *d;
      converted_tools.push_back(json::object{{"type", "function"}, {"function", std::move(fn)}});
    }
    if (!converted_tools.empty()) out.openai["tools"] = std::move(converted_tools);
  }
  std::optional<std::string> choice = body.optional_string("tool_choice");
  if (const auto* tc = json_field(b, "tool_config")) {
    JsonReader config(*tc, "tool_config");
    if (auto c = config.optional_string("tool_choice")) {
      if (choice && *choice != *c) {
        throw ApiError::bad_request("tool_choice and tool_config.tool_choice must match");
      }
      choice = c;
    }
  }
  if (choice) {
    if (*choice == "none") {
      out.openai.erase("tools");
    } else if (*choice == "auto" || *choice == "required") {
      if (out.openai.contains("tools")) out.openai["tool_choice"] = *choice;
    } else {
      if (std::find(tool_names.begin(), tool_names.end(), *choice) == tool_names.end()) {
        throw ApiError::bad_request("Tool choice '" + *choice + "' is not one of the tools");
      }
      out.openai["tool_choice"] =
          json::object{{"type", "function"}, {"function", json::object{{"name", *choice}}}};
    }
  }
  apply_response_format(b, out.openai);
  if (const auto* lp = json_field(b, "logprobs")) {
    JsonReader logprobs(*lp, "logprobs");
    out.openai["logprobs"] = true;
    if (auto k = logprobs.optional_int("top_k"); k && *k > 0) out.openai["top_logprobs"] = *k;
  }
  out.openai["stream"] = out.stream;
  if (out.stream) out.openai["stream_options"] = json::object{{"include_usage", true}};
  return out;
}

NativeRequest native_completion_request(const json::value& body_value) {
  JsonReader body(body_value);
  NativeRequest out;
  out.model_id = body.required_string("model_id");
  out.stream = body.optional_bool("stream").value_or(false);
  const auto* content = body.find("content");
  if (content == nullptr) throw JsonFieldError("content", "Field 'content' is required");
  out.openai["prompt"] = text_only(*content, "content");
  apply_sampling(body.object(), out.openai);
  apply_response_format(body.object(), out.openai);
  if (const auto* lp = body.find("logprobs")) {
    JsonReader logprobs(*lp, "logprobs");
    if (auto k = logprobs.optional_int("top_k"); k && *k > 0) out.openai["logprobs"] = *k;
  }
  out.openai["stream"] = out.stream;
  if (out.stream) out.openai["stream_options"] = json::object{{"include_usage", true}};
  return out;
}

NativeRequest native_embeddings_request(const json::value& body_value) {
  JsonReader body(body_value);
  NativeRequest out;
  out.model_id = body.required_string("model_id");
  const auto* contents = body.find("contents");
  if (contents == nullptr || !contents->is_array() || contents->get_array().empty()) {
    throw JsonFieldError("contents", "Field 'contents' must be a non-empty list");
  }
  json::array input;
  std::size_t i = 0;
  for (const auto& c : contents->get_array()) {
    input.emplace_back(text_only(c, "contents[" + std::to_string(i++) + "]"));
  }
  out.openai["input"] = std::move(input);
  if (auto d = body.optional_int("output_dimension")) out.openai["dimensions"] = *d;
  if (auto t = body.optional_string("text_truncation");
      t && *t != "none" && *t != "end" && *t != "start") {
    throw JsonFieldError("text_truncation", "Field 'text_truncation' must be none, start or end");
  }
  return out;
}

std::optional<json::array> native_metrics(const json::value* usage) {
  if (usage == nullptr || !usage->is_object()) return std::nullopt;
  const auto& u = usage->get_object();
  auto value = [&](std::string_view key) -> json::value {
    const auto* v = json_field(u, key);
    return v != nullptr && v->is_number() ? *v : json::value(0);
  };
  json::array metrics;
  for (std::string_view name : {"prompt_tokens", "completion_tokens", "total_tokens"}) {
    metrics.push_back(json::object{{"metric", name}, {"value", value(name)}, {"unit", nullptr}});
  }
  return metrics;
}

namespace {

// Runs `f` over a provider's (OpenAI-shaped) output; a missing or mistyped
// field there is the upstream's fault: 502, naming the field.
template <class F>
auto upstream_checked(F&& f) {
  try {
    return f();
  } catch (const JsonFieldError& e) {
    throw ApiError::bad_gateway(std::string("Malformed upstream response: ") + e.what());
  }
}

json::array native_tool_calls(const JsonReader& message) {
  json::array out;
  const json::array* calls = message.find_array("tool_calls");
  if (calls == nullptr) return out;
  for (std::size_t i = 0; i < calls->size(); ++i) {
    JsonReader call((*calls)[i], message.element_path("tool_calls", i));
    JsonReader fn = call.required_object("function");
    std::string name = fn.required_string("name");
    const auto* args = fn.find("arguments");
    std::string arguments_json = args == nullptr     ? "{}"
                                 : args->is_string() ? std::string(args->get_string())
                                                     : to_json(*args);
    json::value arguments;
    try {
      arguments = parse_json(arguments_json);
    } catch (const std::exception&) {
      arguments = arguments_json;
    }
    out.push_back(json::object{{"call_id", call.optional_string("id").value_or("")},
                               {"tool_name", std::move(name)},
                               {"arguments", std::move(arguments)},
                               {"arguments_json", arguments_json}});
  }
  return out;
}

JsonReader first_choice(const JsonReader& response) {
  const json::array* choices = response.find_array("choices");
  if (choices == nullptr || choices->empty()) {
    throw ApiError::bad_gateway("upstream response has no choices");
  }
  return JsonReader((*choices)[0], "choices[0]");
}

std::string_view finish_reason_of(const JsonReader& choice) {
  const auto* finish = choice.find("finish_reason");
  return finish != nullptr && finish->is_string() ? std::string_view(finish->get_string()) : "stop";
}

}  // namespace

json::object native_chat_response(const json::object& response) {
  return upstream_checked([&] {
    JsonReader r(response);
    JsonReader choice = first_choice(r);
    JsonReader message = choice.required_object("message");
    const auto* content = message.find("content");
    auto metrics = native_metrics(r.find("usage"));
    return json::object{
        {"metrics", metrics ? json::value(*metrics) : json::value(nullptr)},
        {"completion_message",
         json::object{
             {"role", "assistant"},
             {"content", content != nullptr && content->is_string() ? *content : json::value("")},
             {"stop_reason", stop_reason_of(finish_reason_of(choice))},
             {"tool_calls", native_tool_calls(message)}}},
        {"logprobs", nullptr},
    };
  });
}

json::object native_completion_response(const json::object& response) {
  return upstream_checked([&] {
    JsonReader r(response);
    JsonReader choice = first_choice(r);
    const auto* text = choice.find("text");
    auto metrics = native_metrics(r.find("usage"));
    return json::object{
        {"metrics", metrics ? json::value(*metrics) : json::value(nullptr)},
        {"content", text != nullptr && text->is_string() ? *text : json::value("")},
        {"stop_reason", stop_reason_of(finish_reason_of(choice))},
        {"logprobs", nullptr},
    };
  });
}

json::object native_embeddings_response(const json::object& response) {
  return upstream_checked([&] {
    JsonReader r(response);
    const json::array& data = r.required_array("data");
    json::array embeddings;
    for (std::size_t i = 0; i < data.size(); ++i) {
      JsonReader item(data[i], r.element_path("data", i));
      embeddings.push_back(item.required_array("embedding"));
    }
    return json::object{{"embeddings", std::move(embeddings)}};
  });
}

json::object NativeChatStream::event(std::string_view type, json::object delta,
                                     json::value stop_reason, json::value metrics) {
  return json::object{{"metrics", std::move(metrics)},
                      {"event", json::object{{"event_type", type},
                                             {"delta", std::move(delta)},
                                             {"logprobs", nullptr},
                                             {"stop_reason", std::move(stop_reason)}}}};
}

std::vector<json::object> NativeChatStream::on_chunk(const json::object& chunk) {
  return upstream_checked([&] {
    std::vector<json::object> events;
    JsonReader r(chunk);
    const json::array* choices = r.find_array("choices");
    if (!started_) {
      started_ = true;
      events.push_back(event("start", json::object{{"type", "text"}, {"text", ""}}));
    }
    if (const auto* usage = r.find("usage")) usage_ = *usage;
    if (choices == nullptr) return events;
    for (std::size_t i = 0; i < choices->size(); ++i) {
      JsonReader choice((*choices)[i], r.element_path("choices", i));
      if (auto delta = choice.find_object("delta")) {
        if (const auto* text = delta->find("content");
            text != nullptr && text->is_string() && !text->get_string().empty()) {
          events.push_back(event("progress", json::object{{"type", "text"}, {"text", *text}}));
        }
        if (const json::array* calls = delta->find_array("tool_calls")) {
          for (std::size_t j = 0; j < calls->size(); ++j) {
            JsonReader call((*calls)[j], delta->element_path("tool_calls", j));
            PendingCall& pending = calls_[call.optional_int("index").value_or(0)];
            if (auto id = call.optional_string("id")) pending.id = *id;
            if (auto fn = call.find_object("function")) {
              if (auto n = fn->optional_string("name")) pending.name += *n;
              if (auto a = fn->optional_string("arguments")) pending.arguments += *a;
            }
          }
        }
      }
      if (const auto* finish = choice.find("finish_reason");
          finish != nullptr && finish->is_string()) {
        stop_reason_ = stop_reason_of(finish->get_string());
      }
    }
    return events;
  });
}

std::vector<json::object> NativeChatStream::finish() {
  std::vector<json::object> events;
  if (!started_) {
    started_ = true;
    events.push_back(event("start", json::object{{"type", "text"}, {"text", ""}}));
  }
  for (const auto& [index, call] : calls_) {
    json::value arguments;
    bool parsed = true;
    try {
      arguments = parse_json(call.arguments.empty() ? "{}" : call.arguments);
    } catch (const std::exception&) {
      parsed = false;
    }
    if (parsed) {
      events.push_back(
          event("progress",
                json::object{{"type", "tool_call"},
                             {"tool_call", json::object{{"call_id", call.id},
                                                        {"tool_name", call.name},
                                                        {"arguments", arguments},
                                                        {"arguments_json", call.arguments}}},
                             {"parse_status", "succeeded"}},
                json::value(stop_reason_)));
    } else {
      events.push_back(event(
          "progress",
          json::object{
              {"type", "tool_call"}, {"tool_call", call.arguments}, {"parse_status", "failed"}},
          json::value(stop_reason_)));
    }
  }
  auto metrics = native_metrics(usage_.is_null() ? nullptr : &usage_);
  events.push_back(event("complete", json::object{{"type", "text"}, {"text", ""}},
                         json::value(stop_reason_),
                         metrics ? json::value(*metrics) : json::value(nullptr)));
  return events;
}

std::vector<json::object> NativeCompletionStream::on_chunk(const json::object& chunk) {
  return upstream_checked([&] {
    std::vector<json::object> events;
    JsonReader r(chunk);
    const json::array* choices = r.find_array("choices");
    if (const auto* usage = r.find("usage")) usage_ = *usage;
    if (choices == nullptr) return events;
    for (std::size_t i = 0; i < choices->size(); ++i) {
      JsonReader choice((*choices)[i], r.element_path("choices", i));
      if (const auto* text = choice.find("text");
          text != nullptr && text->is_string() && !text->get_string().empty()) {
        events.push_back(json::object{{"metrics", nullptr},
                                      {"delta", *text},
                                      {"stop_reason", nullptr},
                                      {"logprobs", nullptr}});
      }
      if (const auto* finish = choice.find("finish_reason");
          finish != nullptr && finish->is_string()) {
        stop_reason_ = stop_reason_of(finish->get_string());
      }
    }
    return events;
  });
}

std::vector<json::object> NativeCompletionStream::finish() {
  auto metrics = native_metrics(usage_.is_null() ? nullptr : &usage_);
  return {json::object{{"metrics", metrics ? json::value(*metrics) : json::value(nullptr)},
                       {"delta", ""},
                       {"stop_reason", stop_reason_},
                       {"logprobs", nullptr}}};
}

std::string embedding_base64(const json::array& values) {
  std::string bytes;
  bytes.resize(values.size() * 4);
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (!values[i].is_number()) {
      throw ApiError::bad_gateway("Malformed upstream response: embedding[" + std::to_string(i) +
                                  "] must be a number, got " +
                                  std::string(json_kind_name(values[i].kind())));
    }
    const float f = static_cast<float>(values[i].to_number<double>());
    std::uint32_t bits = std::bit_cast<std::uint32_t>(f);
    if constexpr (std::endian::native == std::endian::big) bits = __builtin_bswap32(bits);
    std::memcpy(bytes.data() + i * 4, &bits, 4);
  }
  return base64_encode(bytes);
}

}  // namespace llama_stack::inference
