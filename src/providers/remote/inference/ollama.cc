// remote::ollama — Ollama's native API (/api/chat, /api/generate, /api/embed,
// /api/tags). Requests arrive OpenAI-shaped and are translated both ways;
// NDJSON streams become OpenAI chunks.
#include "core/config/config_node.h"
#include "core/log/log.h"
#include "core/util/url.h"
#include "providers/remote/inference/http_inference.h"
#include "providers/remote/inference/remote_inference.h"

namespace llama_stack::providers::remote {
namespace {

using config::ConfigNode;
using config::Diagnostics;
using config::MapReader;

struct OllamaConfig {
  std::string url = "http://localhost:11434";
  bool raise_on_connect_error = false;
  std::int64_t timeout_seconds = 600;  // ours: max upstream silence
  bool refresh_models = false;         // list the upstream's models in /v1/models

  static OllamaConfig parse(const ConfigNode& node, Diagnostics& diagnostics) {
    OllamaConfig c;
    MapReader r(node, diagnostics);
    c.url = r.string_or("url", c.url);
    if (auto error = check_http_url(c.url)) diagnostics.error(*r.self().find("url"), *error);
    c.raise_on_connect_error = r.boolean("raise_on_connect_error").value_or(false);
    c.timeout_seconds = r.integer("timeout_seconds", 1, 86400).value_or(c.timeout_seconds);
    c.refresh_models = r.boolean("refresh_models").value_or(false);
    r.finish();
    return c;
  }
};

const json::value* field(const json::object& o, std::string_view key) {
  auto it = o.find(key);
  return it == o.end() || it->value().is_null() ? nullptr : &it->value();
}

std::string text_of(const json::value& content) {
  if (content.is_string()) return std::string(content.get_string());
  std::string out;
  if (content.is_array()) {
    for (const auto& part : content.get_array()) {
      if (!part.is_object()) continue;
      const auto& p = part.get_object();
      if (const auto* t = field(p, "text"); t != nullptr && t->is_string()) {
        if (!out.empty()) out += "\n";
        out += t->get_string();
      }
    }
  }
  return out;
}

json::array images_of(const json::value& content) {
  json::array images;
  if (!content.is_array()) return images;
  for (const auto& part : content.get_array()) {
    if (!part.is_object()) continue;
    const auto& p = part.get_object();
    const auto* type = field(p, "type");
    if (type == nullptr || !type->is_string() || type->get_string() != "image_url") continue;
    const json::value* url = nullptr;
    if (const auto* iu = field(p, "image_url"); iu != nullptr && iu->is_object()) {
      url = field(iu->get_object(), "url");
    }
    if (url == nullptr || !url->is_string())
      throw ApiError::bad_request("image_url.url is required");
    std::string_view u = url->get_string();
    const auto comma = u.find(',');
    if (!u.starts_with("data:") || comma == std::string_view::npos) {
      throw ApiError::bad_request(
          "remote::ollama needs images inline (data: URLs with base64 data); fetching image URLs "
          "is not supported");
    }
    images.emplace_back(u.substr(comma + 1));
  }
  return images;
}

json::array convert_messages(const json::object& request) {
  const auto* messages = field(request, "messages");
  if (messages == nullptr || !messages->is_array()) {
    throw ApiError::bad_request("Field 'messages' must be a non-empty array");
  }
  json::array out;
  for (const auto& m : messages->get_array()) {
    const auto& msg = m.as_object();
    std::string role(msg.at("role").as_string());
    if (role == "developer") role = "system";
    json::object converted{{"role", role}};
    const json::value* content = field(msg, "content");
    converted["content"] = content != nullptr ? text_of(*content) : std::string();
    if (content != nullptr) {
      json::array images = images_of(*content);
      if (!images.empty()) converted["images"] = std::move(images);
    }
    if (const auto* calls = field(msg, "tool_calls"); calls != nullptr && calls->is_array()) {
      json::array tool_calls;
      for (const auto& c : calls->get_array()) {
        const auto& fn = c.at("function").as_object();
        json::value arguments = json::object{};
        if (const auto* a = field(fn, "arguments"); a != nullptr) {
          if (a->is_string()) {
            try {
              arguments = parse_json(a->get_string());
            } catch (const std::exception&) {
              throw ApiError::bad_request("tool call arguments must be a JSON object");
            }
          } else {
            arguments = *a;
          }
        }
        tool_calls.push_back(json::object{
            {"function", json::object{{"name", fn.at("name")}, {"arguments", arguments}}}});
      }
      converted["tool_calls"] = std::move(tool_calls);
    }
    if (role == "tool") {
      if (const auto* name = field(msg, "name"); name != nullptr) converted["tool_name"] = *name;
    }
    out.push_back(std::move(converted));
  }
  return out;
}

json::object convert_options(const json::object& request) {
  json::object options;
  auto copy = [&](std::string_view from, std::string_view to) {
    if (const auto* v = field(request, from)) options[to] = *v;
  };
  copy("temperature", "temperature");
  copy("top_p", "top_p");
  copy("top_k", "top_k");
  copy("seed", "seed");
  copy("frequency_penalty", "frequency_penalty");
  copy("presence_penalty", "presence_penalty");
  copy("repetition_penalty", "repeat_penalty");
  copy("max_tokens", "num_predict");
  copy("max_completion_tokens", "num_predict");
  if (const auto* stop = field(request, "stop")) {
    if (stop->is_string()) {
      options["stop"] = json::array{*stop};
    } else {
      options["stop"] = *stop;
    }
  }
  return options;
}

void reject_unsupported(const json::object& request) {
  if (const auto* n = field(request, "n"); n != nullptr && n->is_int64() && n->get_int64() != 1) {
    throw ApiError::bad_request("remote::ollama supports n=1 only");
  }
}

json::value format_of(const json::object& request) {
  const auto* rf = field(request, "response_format");
  if (rf == nullptr || !rf->is_object()) return nullptr;
  const auto& o = rf->get_object();
  const auto* type = field(o, "type");
  if (type == nullptr || !type->is_string()) return nullptr;
  if (type->get_string() == "json_object") return "json";
  if (type->get_string() == "json_schema") {
    if (const auto* js = field(o, "json_schema"); js != nullptr && js->is_object()) {
      if (const auto* schema = field(js->get_object(), "schema")) return *schema;
    }
    return "json";
  }
  return nullptr;
}

std::string finish_reason(const json::object& record, bool has_tool_calls) {
  if (has_tool_calls) return "tool_calls";
  if (const auto* r = field(record, "done_reason"); r != nullptr && r->is_string()) {
    if (r->get_string() == "length") return "length";
  }
  return "stop";
}

json::object usage_of(const json::object& record) {
  auto count = [&](std::string_view key) -> std::int64_t {
    const auto* v = field(record, key);
    return v != nullptr && v->is_int64() ? v->get_int64() : 0;
  };
  const std::int64_t prompt = count("prompt_eval_count");
  const std::int64_t completion = count("eval_count");
  return json::object{{"prompt_tokens", prompt},
                      {"completion_tokens", completion},
                      {"total_tokens", prompt + completion}};
}

json::array openai_tool_calls(const json::value& calls, std::size_t& counter) {
  json::array out;
  for (const auto& c : calls.as_array()) {
    const auto& fn = c.at("function").as_object();
    const json::value* args = field(fn, "arguments");
    out.push_back(json::object{
        {"id", "call_" + std::to_string(counter++) + utils::random_id("_").substr(0, 9)},
        {"type", "function"},
        {"function",
         json::object{{"name", fn.at("name")},
                      {"arguments", args == nullptr     ? std::string("{}")
                                    : args->is_string() ? std::string(args->get_string())
                                                        : to_json(*args)}}}});
  }
  return out;
}

bool wants_stream(const json::object& request) {
  const auto* s = field(request, "stream");
  return s != nullptr && s->is_bool() && s->get_bool();
}

bool wants_usage(const json::object& request) {
  const auto* so = field(request, "stream_options");
  if (so == nullptr || !so->is_object()) return false;
  const auto* iu = field(so->get_object(), "include_usage");
  return iu != nullptr && iu->is_bool() && iu->get_bool();
}

class OllamaProvider final : public InferenceProvider {
 public:
  OllamaProvider(ProviderContext context, OllamaConfig config)
      : context_(std::move(context)), config_(std::move(config)) {
    while (!config_.url.empty() && config_.url.back() == '/') config_.url.pop_back();
  }

  void initialize() override {
    http::ClientOptions options;
    options.read_timeout = std::chrono::seconds(config_.timeout_seconds);
    client_ = http::HttpClient::create(*context_.runtime, options);
  }

  void health(std::function<void(HealthResponse)> done) override {
    http::ClientRequest request;
    request.url = config_.url + "/api/tags";
    request.read_timeout = std::chrono::seconds(2);
    client_->fetch(std::move(request), [done = std::move(done)](http::ClientResult r) {
      if (r.error) {
        done({"Error", r.error->message});
      } else if (r.status != 200) {
        done({"Error", "GET /api/tags returned " + std::to_string(r.status)});
      } else {
        done({"OK", ""});
      }
    });
  }

  bool discovers_models() const override { return config_.refresh_models; }

  std::vector<std::string> list_upstream_models() override {
    std::vector<std::string> names;
    http::ClientRequest request;
    request.url = config_.url + "/api/tags";
    request.read_timeout = std::chrono::seconds(5);
    auto result = client_->fetch_sync(std::move(request));
    if (result.error || result.status != 200) return names;
    try {
      // Keep the parsed document alive for the loop (a range-for over a
      // member of a temporary would dangle).
      const json::value doc = parse_json(result.body);
      for (const auto& m : doc.at("models").as_array()) {
        names.emplace_back(m.at("name").as_string());
      }
    } catch (const std::exception&) {
    }
    return names;
  }

  apis::CancelFn openai_chat_completion(const apis::InferenceContext&, json::object request,
                                        apis::InferenceCallbacks callbacks) override {
    reject_unsupported(request);
    const bool stream = wants_stream(request);
    const bool usage = wants_usage(request);
    json::object body{{"model", request.at("model")},
                      {"messages", convert_messages(request)},
                      {"stream", stream},
                      {"options", convert_options(request)}};
    if (const auto* tools = field(request, "tools");
        tools != nullptr && tools->is_array() && !tools->get_array().empty()) {
      const auto* choice = field(request, "tool_choice");
      if (choice == nullptr || !choice->is_string() || choice->get_string() != "none") {
        body["tools"] = *tools;
      }
    }
    if (json::value format = format_of(request); !format.is_null()) body["format"] = format;

    auto completion = std::make_shared<utils::Completion>(std::move(callbacks));
    UpstreamCall call{context_.provider_id,
                      config_.url + "/api/chat",
                      "POST",
                      {},
                      std::move(body),
                      stream ? StreamFormat::kNdjson : StreamFormat::kNone};
    const std::string model(request.at("model").as_string());
    const std::string id = utils::random_id("chatcmpl-");
    const std::int64_t created = utils::unix_now();
    UpstreamHandlers handlers;
    handlers.on_body = [completion, model, id, created](json::value body) {
      const auto& o = body.as_object();
      const auto& message = o.at("message").as_object();
      std::size_t counter = 0;
      json::object out_message{{"role", "assistant"}};
      const auto* calls = field(message, "tool_calls");
      const bool has_calls = calls != nullptr && calls->is_array() && !calls->get_array().empty();
      const auto* content = field(message, "content");
      std::string text =
          content != nullptr && content->is_string() ? std::string(content->get_string()) : "";
      out_message["content"] = has_calls && text.empty() ? json::value(nullptr) : json::value(text);
      if (has_calls) out_message["tool_calls"] = openai_tool_calls(*calls, counter);
      completion->response(json::object{
          {"id", id},
          {"object", "chat.completion"},
          {"created", created},
          {"model", model},
          {"choices", json::array{json::object{{"index", 0},
                                               {"message", std::move(out_message)},
                                               {"finish_reason", finish_reason(o, has_calls)},
                                               {"logprobs", nullptr}}}},
          {"usage", usage_of(o)},
      });
    };
    struct StreamState {
      bool started = false;
      bool saw_tool_calls = false;
      std::size_t counter = 0;
    };
    auto state = std::make_shared<StreamState>();
    auto chunk = [model, id, created](json::object delta, json::value finish) {
      return json::object{
          {"id", id},
          {"object", "chat.completion.chunk"},
          {"created", created},
          {"model", model},
          {"choices", json::array{json::object{{"index", 0},
                                               {"delta", std::move(delta)},
                                               {"logprobs", nullptr},
                                               {"finish_reason", std::move(finish)}}}}};
    };
    handlers.on_record = [completion, state, chunk, usage, model, id, created](json::value record) {
      const auto& o = record.as_object();
      if (!state->started) {
        state->started = true;
        completion->chunk(chunk(json::object{{"role", "assistant"}, {"content", ""}}, nullptr));
      }
      if (const auto* message = field(o, "message"); message != nullptr && message->is_object()) {
        const auto& m = message->get_object();
        if (const auto* c = field(m, "content");
            c != nullptr && c->is_string() && !c->get_string().empty()) {
          completion->chunk(chunk(json::object{{"content", c->get_string()}}, nullptr));
        }
        if (const auto* calls = field(m, "tool_calls"); calls != nullptr && calls->is_array()) {
          json::array deltas;
          std::size_t index = state->counter;
          for (auto& call : openai_tool_calls(*calls, state->counter)) {
            call.as_object()["index"] = index++;
            deltas.push_back(std::move(call));
          }
          if (!deltas.empty()) {
            state->saw_tool_calls = true;
            completion->chunk(chunk(json::object{{"tool_calls", std::move(deltas)}}, nullptr));
          }
        }
      }
      const auto* done = field(o, "done");
      if (done != nullptr && done->is_bool() && done->get_bool()) {
        completion->chunk(
            chunk(json::object{}, json::value(finish_reason(o, state->saw_tool_calls))));
        if (usage) {
          completion->chunk(json::object{{"id", id},
                                         {"object", "chat.completion.chunk"},
                                         {"created", created},
                                         {"model", model},
                                         {"choices", json::array{}},
                                         {"usage", usage_of(o)}});
        }
        return false;  // done: nothing more to read
      }
      return true;
    };
    return call_upstream(*client_, std::move(call), completion, std::move(handlers));
  }

  apis::CancelFn openai_completion(const apis::InferenceContext&, json::object request,
                                   apis::InferenceCallbacks callbacks) override {
    reject_unsupported(request);
    const bool stream = wants_stream(request);
    const bool usage = wants_usage(request);
    const json::value* prompt = field(request, "prompt");
    std::string prompt_text;
    if (prompt != nullptr && prompt->is_string()) {
      prompt_text = prompt->get_string();
    } else if (prompt != nullptr && prompt->is_array() && prompt->get_array().size() == 1 &&
               prompt->get_array()[0].is_string()) {
      prompt_text = prompt->get_array()[0].get_string();
    } else {
      throw ApiError::bad_request("remote::ollama needs 'prompt' as one string");
    }
    json::object body{{"model", request.at("model")},
                      {"prompt", prompt_text},
                      {"stream", stream},
                      {"options", convert_options(request)}};
    if (const auto* suffix = field(request, "suffix")) body["suffix"] = *suffix;
    if (json::value format = format_of(request); !format.is_null()) body["format"] = format;
    auto completion = std::make_shared<utils::Completion>(std::move(callbacks));
    UpstreamCall call{context_.provider_id,
                      config_.url + "/api/generate",
                      "POST",
                      {},
                      std::move(body),
                      stream ? StreamFormat::kNdjson : StreamFormat::kNone};
    const std::string model(request.at("model").as_string());
    const std::string id = utils::random_id("cmpl-");
    const std::int64_t created = utils::unix_now();
    auto make = [model, id, created](std::string text, json::value finish) {
      return json::object{
          {"id", id},
          {"object", "text_completion"},
          {"created", created},
          {"model", model},
          {"choices", json::array{json::object{{"text", std::move(text)},
                                               {"index", 0},
                                               {"logprobs", nullptr},
                                               {"finish_reason", std::move(finish)}}}}};
    };
    UpstreamHandlers handlers;
    handlers.on_body = [completion, make](json::value body) {
      const auto& o = body.as_object();
      const auto* response = field(o, "response");
      json::object out =
          make(response != nullptr && response->is_string() ? std::string(response->get_string())
                                                            : std::string(),
               json::value(finish_reason(o, false)));
      out["usage"] = usage_of(o);
      completion->response(std::move(out));
    };
    handlers.on_record = [completion, make, usage, model, id, created](json::value record) {
      const auto& o = record.as_object();
      if (const auto* r = field(o, "response");
          r != nullptr && r->is_string() && !r->get_string().empty()) {
        completion->chunk(make(std::string(r->get_string()), nullptr));
      }
      const auto* done = field(o, "done");
      if (done != nullptr && done->is_bool() && done->get_bool()) {
        completion->chunk(make("", json::value(finish_reason(o, false))));
        if (usage) {
          completion->chunk(json::object{{"id", id},
                                         {"object", "text_completion"},
                                         {"created", created},
                                         {"model", model},
                                         {"choices", json::array{}},
                                         {"usage", usage_of(o)}});
        }
        return false;
      }
      return true;
    };
    return call_upstream(*client_, std::move(call), completion, std::move(handlers));
  }

  apis::CancelFn openai_embeddings(const apis::InferenceContext&, json::object request,
                                   apis::InferenceCallbacks callbacks) override {
    json::object body{{"model", request.at("model")}, {"input", request.at("input")}};
    if (const auto* d = field(request, "dimensions")) body["dimensions"] = *d;
    auto completion = std::make_shared<utils::Completion>(std::move(callbacks));
    UpstreamCall call{context_.provider_id, config_.url + "/api/embed", "POST", {},
                      std::move(body),      StreamFormat::kNone};
    const std::string model(request.at("model").as_string());
    UpstreamHandlers handlers;
    handlers.on_body = [completion, model](json::value body) {
      const auto& o = body.as_object();
      json::array data;
      std::int64_t index = 0;
      for (const auto& e : o.at("embeddings").as_array()) {
        if (!e.is_array()) throw std::runtime_error("embedding is not an array");
        data.push_back(json::object{{"object", "embedding"}, {"index", index++}, {"embedding", e}});
      }
      const auto* count = field(o, "prompt_eval_count");
      const std::int64_t tokens = count != nullptr && count->is_int64() ? count->get_int64() : 0;
      completion->response(json::object{
          {"object", "list"},
          {"data", std::move(data)},
          {"model", model},
          {"usage", json::object{{"prompt_tokens", tokens}, {"total_tokens", tokens}}}});
    };
    return call_upstream(*client_, std::move(call), completion, std::move(handlers));
  }

 private:
  ProviderContext context_;
  OllamaConfig config_;
  std::shared_ptr<http::HttpClient> client_;
};

}  // namespace

ProviderSpec ollama_spec() {
  ProviderSpec spec;
  spec.api = "inference";
  spec.provider_type = "remote::ollama";
  spec.description = "Ollama server (native API)";
  spec.validate_config = [](const ConfigNode& node, Diagnostics& diagnostics) {
    OllamaConfig::parse(node, diagnostics);
  };
  spec.create = [](const ProviderContext& context, const ConfigNode& node) {
    Diagnostics ignored;
    return std::unique_ptr<Provider>(
        new OllamaProvider(context, OllamaConfig::parse(node, ignored)));
  };
  return spec;
}

}  // namespace llama_stack::providers::remote
