#include "core/inference/native.h"

#include <bit>
#include <cstring>

#include "llama_stack/common/errors.h"

namespace llama_stack::inference {
namespace {

const json::value* field(const json::object& o, std::string_view key) {
  auto it = o.find(key);
  return it == o.end() || it->value().is_null() ? nullptr : &it->value();
}

const json::object& as_object(const json::value& v, const std::string& path) {
  if (!v.is_object()) {
    throw JsonFieldError(path, "Field '" + path + "' must be an object, got " +
                                   std::string(json_kind_name(v.kind())));
  }
  return v.get_object();
}

std::string as_string(const json::value& v, const std::string& path) {
  if (!v.is_string()) {
    throw JsonFieldError(path, "Field '" + path + "' must be a string, got " +
                                   std::string(json_kind_name(v.kind())));
  }
  return std::string(v.get_string());
}

// One InterleavedContentItem → an OpenAI content part.
json::object content_part(const json::value& item, const std::string& path) {
  const auto& o = as_object(item, path);
  const auto* type = field(o, "type");
  const std::string t = type != nullptr ? as_string(*type, path + ".type") : "";
  if (t == "text") {
    const auto* text = field(o, "text");
    if (text == nullptr)
      throw JsonFieldError(path + ".text", "Field '" + path + ".text' is required");
    return json::object{{"type", "text"}, {"text", as_string(*text, path + ".text")}};
  }
  if (t == "image") {
    const auto* image = field(o, "image");
    if (image == nullptr)
      throw JsonFieldError(path + ".image", "Field '" + path + ".image' is required");
    const auto& img = as_object(*image, path + ".image");
    std::string url;
    if (const auto* u = field(img, "url")) {
      const auto& uo = as_object(*u, path + ".image.url");
      const auto* uri = field(uo, "uri");
      if (uri == nullptr)
        throw JsonFieldError(path + ".image.url.uri",
                             "Field '" + path + ".image.url.uri' is required");
      url = as_string(*uri, path + ".image.url.uri");
    } else if (const auto* data = field(img, "data")) {
      url = "data:image/png;base64," + as_string(*data, path + ".image.data");
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
  bool all_text = true;
  std::string joined;
  for (const auto& part : parts) {
    const auto& p = part.get_object();
    if (p.at("type").as_string() != "text") {
      all_text = false;
      break;
    }
    joined += p.at("text").as_string();
  }
  if (all_text) return json::value(joined);
  return parts;
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
  const auto* sp = field(body, "sampling_params");
  if (sp == nullptr) return;
  const auto& params = as_object(*sp, "sampling_params");
  JsonReader reader(*sp, "sampling_params");
  if (const auto* strategy = field(params, "strategy")) {
    const auto& s = as_object(*strategy, "sampling_params.strategy");
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
  if (const auto* stop = field(params, "stop")) {
    if (!stop->is_array())
      throw JsonFieldError("sampling_params.stop",
                           "Field 'sampling_params.stop' must be a list of strings");
    out["stop"] = *stop;
  }
}

void apply_response_format(const json::object& body, json::object& out) {
  const auto* rf = field(body, "response_format");
  if (rf == nullptr) return;
  const auto& o = as_object(*rf, "response_format");
  JsonReader reader(*rf, "response_format");
  const std::string type = reader.required_string("type");
  if (type == "json_schema") {
    const auto* schema = field(o, "json_schema");
    if (schema == nullptr)
      throw JsonFieldError("response_format.json_schema",
                           "Field 'response_format.json_schema' is required");
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
  const auto* messages = field(b, "messages");
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
  if (const auto* tools = field(b, "tools")) {
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
        for (const auto& kv : as_object(*params, tp + ".parameters")) {
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
  if (const auto* tc = field(b, "tool_config")) {
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
  if (const auto* lp = field(b, "logprobs")) {
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
    const auto* v = field(u, key);
    return v != nullptr && v->is_number() ? *v : json::value(0);
  };
  json::array metrics;
  for (std::string_view name : {"prompt_tokens", "completion_tokens", "total_tokens"}) {
    metrics.push_back(json::object{{"metric", name}, {"value", value(name)}, {"unit", nullptr}});
  }
  return metrics;
}

namespace {
json::array native_tool_calls(const json::value* calls) {
  json::array out;
  if (calls == nullptr || !calls->is_array()) return out;
  for (const auto& c : calls->get_array()) {
    const auto& call = c.as_object();
    const auto& fn = call.at("function").as_object();
    const auto* args = field(fn, "arguments");
    std::string arguments_json = args == nullptr     ? "{}"
                                 : args->is_string() ? std::string(args->get_string())
                                                     : to_json(*args);
    json::value arguments;
    try {
      arguments = parse_json(arguments_json);
    } catch (const std::exception&) {
      arguments = arguments_json;
    }
    const auto* id = field(call, "id");
    out.push_back(json::object{{"call_id", id != nullptr ? *id : json::value("")},
                               {"tool_name", fn.at("name")},
                               {"arguments", std::move(arguments)},
                               {"arguments_json", arguments_json}});
  }
  return out;
}

const json::object& first_choice(const json::object& response) {
  const auto* choices = field(response, "choices");
  if (choices == nullptr || !choices->is_array() || choices->get_array().empty()) {
    throw ApiError::bad_gateway("upstream response has no choices");
  }
  return choices->get_array()[0].as_object();
}
}  // namespace

json::object native_chat_response(const json::object& response) {
  const auto& choice = first_choice(response);
  const auto& message = choice.at("message").as_object();
  const auto* content = field(message, "content");
  const auto* finish = field(choice, "finish_reason");
  auto metrics = native_metrics(field(response, "usage"));
  return json::object{
      {"metrics", metrics ? json::value(*metrics) : json::value(nullptr)},
      {"completion_message",
       json::object{
           {"role", "assistant"},
           {"content", content != nullptr && content->is_string() ? *content : json::value("")},
           {"stop_reason", stop_reason_of(finish != nullptr && finish->is_string()
                                              ? std::string_view(finish->get_string())
                                              : "stop")},
           {"tool_calls", native_tool_calls(field(message, "tool_calls"))}}},
      {"logprobs", nullptr},
  };
}

json::object native_completion_response(const json::object& response) {
  const auto& choice = first_choice(response);
  const auto* text = field(choice, "text");
  const auto* finish = field(choice, "finish_reason");
  auto metrics = native_metrics(field(response, "usage"));
  return json::object{
      {"metrics", metrics ? json::value(*metrics) : json::value(nullptr)},
      {"content", text != nullptr && text->is_string() ? *text : json::value("")},
      {"stop_reason", stop_reason_of(finish != nullptr && finish->is_string()
                                         ? std::string_view(finish->get_string())
                                         : "stop")},
      {"logprobs", nullptr},
  };
}

json::object native_embeddings_response(const json::object& response) {
  json::array embeddings;
  for (const auto& item : response.at("data").as_array()) {
    embeddings.push_back(item.at("embedding"));
  }
  return json::object{{"embeddings", std::move(embeddings)}};
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
  std::vector<json::object> events;
  if (!started_) {
    started_ = true;
    events.push_back(event("start", json::object{{"type", "text"}, {"text", ""}}));
  }
  if (const auto* usage = field(chunk, "usage")) usage_ = *usage;
  const auto* choices = field(chunk, "choices");
  if (choices == nullptr || !choices->is_array()) return events;
  for (const auto& c : choices->get_array()) {
    const auto& choice = c.as_object();
    if (const auto* delta = field(choice, "delta"); delta != nullptr && delta->is_object()) {
      const auto& d = delta->get_object();
      if (const auto* text = field(d, "content");
          text != nullptr && text->is_string() && !text->get_string().empty()) {
        events.push_back(event("progress", json::object{{"type", "text"}, {"text", *text}}));
      }
      if (const auto* calls = field(d, "tool_calls"); calls != nullptr && calls->is_array()) {
        for (const auto& tc : calls->get_array()) {
          const auto& call = tc.as_object();
          const auto* index = field(call, "index");
          PendingCall& pending =
              calls_[index != nullptr && index->is_int64() ? index->get_int64() : 0];
          if (const auto* id = field(call, "id"); id != nullptr && id->is_string())
            pending.id = id->get_string();
          if (const auto* fn = field(call, "function"); fn != nullptr && fn->is_object()) {
            if (const auto* n = field(fn->get_object(), "name"); n != nullptr && n->is_string())
              pending.name += n->get_string();
            if (const auto* a = field(fn->get_object(), "arguments");
                a != nullptr && a->is_string())
              pending.arguments += a->get_string();
          }
        }
      }
    }
    if (const auto* finish = field(choice, "finish_reason");
        finish != nullptr && finish->is_string()) {
      stop_reason_ = stop_reason_of(finish->get_string());
    }
  }
  return events;
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
  std::vector<json::object> events;
  if (const auto* usage = field(chunk, "usage")) usage_ = *usage;
  const auto* choices = field(chunk, "choices");
  if (choices == nullptr || !choices->is_array()) return events;
  for (const auto& c : choices->get_array()) {
    const auto& choice = c.as_object();
    if (const auto* text = field(choice, "text");
        text != nullptr && text->is_string() && !text->get_string().empty()) {
      events.push_back(json::object{
          {"metrics", nullptr}, {"delta", *text}, {"stop_reason", nullptr}, {"logprobs", nullptr}});
    }
    if (const auto* finish = field(choice, "finish_reason");
        finish != nullptr && finish->is_string()) {
      stop_reason_ = stop_reason_of(finish->get_string());
    }
  }
  return events;
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
    const float f = static_cast<float>(values[i].to_number<double>());
    std::uint32_t bits = std::bit_cast<std::uint32_t>(f);
    if constexpr (std::endian::native == std::endian::big) bits = __builtin_bswap32(bits);
    std::memcpy(bytes.data() + i * 4, &bits, 4);
  }
  return base64_encode(bytes);
}

}  // namespace llama_stack::inference
