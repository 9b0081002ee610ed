// remote::vllm and remote::openai: any server speaking the OpenAI wire
// protocol. Requests are already OpenAI-shaped; this adapter adds auth,
// defaults and error mapping, and streams SSE records back.
#include <mutex>

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

// remote::vllm — url, max_tokens, api_token (secret), tls_verify (bool or CA path).
struct VllmConfig {
  std::optional<std::string> url;
  std::int64_t max_tokens = 4096;
  std::string api_token = "fake";
  std::string tls_verify = "true";
  std::int64_t timeout_seconds = 600;  // ours: max upstream silence
  bool refresh_models = false;

  static VllmConfig parse(const ConfigNode& node, Diagnostics& diagnostics) {
    VllmConfig c;
    MapReader r(node, diagnostics);
    c.url = r.string("url");
    if (c.url) {
      if (auto error = check_http_url(*c.url)) diagnostics.error(*r.self().find("url"), *error);
    } else {
      diagnostics.warning(node,
                          "remote::vllm has no url; inference calls will fail until it is set");
    }
    c.max_tokens = r.integer("max_tokens", 1, INT32_MAX).value_or(c.max_tokens);
    c.api_token = r.string_or("api_token", c.api_token);
    c.tls_verify = r.string_or("tls_verify", c.tls_verify);
    c.timeout_seconds = r.integer("timeout_seconds", 1, 86400).value_or(c.timeout_seconds);
    c.refresh_models = r.boolean("refresh_models").value_or(false);
    r.finish();
    return c;
  }
};

// remote::openai — api_key (secret; may come per request), base_url.
struct OpenAIConfig {
  std::optional<std::string> api_key;
  std::string base_url = "https://api.openai.com/v1";
  std::int64_t timeout_seconds = 600;  // ours: max upstream silence
  bool refresh_models = false;

  static OpenAIConfig parse(const ConfigNode& node, Diagnostics& diagnostics) {
    OpenAIConfig c;
    MapReader r(node, diagnostics);
    c.api_key = r.string("api_key");
    c.base_url = r.string_or("base_url", c.base_url);
    if (auto error = check_http_url(c.base_url)) {
      diagnostics.error(*r.self().find("base_url"), *error);
    }
    c.timeout_seconds = r.integer("timeout_seconds", 1, 86400).value_or(c.timeout_seconds);
    c.refresh_models = r.boolean("refresh_models").value_or(false);
    r.finish();
    return c;
  }
};

struct Settings {
  std::string base_url;  // ".../v1", no trailing slash
  std::optional<std::string> api_key;
  std::optional<std::string> provider_data_key;  // e.g. "openai_api_key"
  std::optional<std::int64_t> default_max_tokens;
  bool refresh_models = false;
  http::ClientOptions client;
};

class OpenAICompatProvider final : public InferenceProvider {
 public:
  OpenAICompatProvider(ProviderContext context, Settings settings)
      : context_(std::move(context)), settings_(std::move(settings)) {
    while (!settings_.base_url.empty() && settings_.base_url.back() == '/') {
      settings_.base_url.pop_back();
    }
  }

  void initialize() override {
    client_ = http::HttpClient::create(*context_.runtime, settings_.client);
  }

  void health(std::function<void(HealthResponse)> done) override {
    if (settings_.base_url.empty()) {
      done({"Error", "no url configured"});
      return;
    }
    http::ClientRequest request;
    request.url = settings_.base_url + "/models";
    request.read_timeout = std::chrono::seconds(2);
    if (settings_.api_key) request.headers.set("authorization", "Bearer " + *settings_.api_key);
    client_->fetch(std::move(request), [done = std::move(done)](http::ClientResult r) {
      if (r.error) {
        done({"Error", std::string(r.error->message)});
      } else if (r.status != 200) {
        done({"Error", "GET /models returned " + std::to_string(r.status)});
      } else {
        done({"OK", ""});
      }
    });
  }

  bool discovers_models() const override { return settings_.refresh_models; }

  std::vector<std::string> list_upstream_models() override {
    std::vector<std::string> ids;
    if (settings_.base_url.empty()) return ids;
    http::ClientRequest request;
    request.url = settings_.base_url + "/models";
    request.read_timeout = std::chrono::seconds(5);
    if (settings_.api_key) request.headers.set("authorization", "Bearer " + *settings_.api_key);
    auto result = client_->fetch_sync(std::move(request));
    if (result.error || result.status != 200) return ids;
    try {
      // Keep the parsed document alive for the loop (a range-for over a
      // member of a temporary would dangle).
      const json::value doc = parse_json(result.body);
      for (const auto& m : doc.at("data").as_array()) {
        ids.emplace_back(m.at("id").as_string());
      }
    } catch (const std::exception&) {
    }
    return ids;
  }

  apis::CancelFn openai_chat_completion(const apis::InferenceContext& context, json::object request,
                                        apis::InferenceCallbacks callbacks) override {
    if (settings_.default_max_tokens && !request.contains("max_tokens") &&
        !request.contains("max_completion_tokens")) {
      request["max_tokens"] = *settings_.default_max_tokens;
    }
    return post(context, "/chat/completions", std::move(request), std::move(callbacks));
  }

  apis::CancelFn openai_completion(const apis::InferenceContext& context, json::object request,
                                   apis::InferenceCallbacks callbacks) override {
    return post(context, "/completions", std::move(request), std::move(callbacks));
  }

  apis::CancelFn openai_embeddings(const apis::InferenceContext& context, json::object request,
                                   apis::InferenceCallbacks callbacks) override {
    request["encoding_format"] = "float";  // the router re-encodes if the client asked for base64
    return post(context, "/embeddings", std::move(request), std::move(callbacks));
  }

 private:
  apis::CancelFn post(const apis::InferenceContext& context, std::string_view path,
                      json::object body, apis::InferenceCallbacks callbacks) {
    auto completion = std::make_shared<utils::Completion>(std::move(callbacks));
    if (settings_.base_url.empty()) {
      completion->finish(
          ApiError::unavailable("Provider '" + context_.provider_id + "' has no url configured"));
      return [] {};
    }
    UpstreamCall call;
    call.provider_id = context_.provider_id;
    call.url = settings_.base_url + std::string(path);
    std::optional<std::string> key = settings_.api_key;
    if (settings_.provider_data_key) {
      if (auto it = context.provider_data.find(*settings_.provider_data_key);
          it != context.provider_data.end() && it->value().is_string()) {
        key = std::string(it->value().get_string());
      }
    }
    if (key && !key->empty()) call.headers.set("authorization", "Bearer " + *key);
    if (!context.traceparent.empty()) call.headers.set("traceparent", context.traceparent);
    const bool stream =
        body.contains("stream") && body.at("stream").is_bool() && body.at("stream").get_bool();
    call.stream = stream ? StreamFormat::kSse : StreamFormat::kNone;
    call.body = std::move(body);
    UpstreamHandlers handlers;
    handlers.on_record = [completion](json::value record) {
      if (!record.is_object()) throw std::runtime_error("stream chunk is not an object");
      completion->chunk(std::move(record.get_object()));
      return true;
    };
    handlers.on_body = [completion](json::value body) {
      if (!body.is_object()) throw std::runtime_error("response is not a JSON object");
      completion->response(std::move(body.get_object()));
    };
    return call_upstream(*client_, std::move(call), completion, std::move(handlers));
  }

  ProviderContext context_;
  Settings settings_;
  std::shared_ptr<http::HttpClient> client_;
};

template <typename Config>
ProviderSpec make_spec(std::string type, std::string description,
                       std::function<Settings(const Config&)> settings) {
  ProviderSpec spec;
  spec.api = "inference";
  spec.provider_type = std::move(type);
  spec.description = std::move(description);
  spec.validate_config = [](const ConfigNode& node, Diagnostics& diagnostics) {
    Config::parse(node, diagnostics);
  };
  spec.create = [settings](const ProviderContext& context, const ConfigNode& node) {
    Diagnostics ignored;  // already validated
    return std::unique_ptr<Provider>(
        new OpenAICompatProvider(context, settings(Config::parse(node, ignored))));
  };
  return spec;
}

}  // namespace

ProviderSpec vllm_spec() {
  return make_spec<VllmConfig>("remote::vllm", "vLLM server (OpenAI-compatible API)",
                               [](const VllmConfig& c) {
                                 Settings s;
                                 s.base_url = c.url.value_or("");
                                 if (!c.api_token.empty()) s.api_key = c.api_token;
                                 s.default_max_tokens = c.max_tokens;
                                 s.refresh_models = c.refresh_models;
                                 s.client.read_timeout = std::chrono::seconds(c.timeout_seconds);
                                 if (c.tls_verify == "false" || c.tls_verify == "False") {
                                   s.client.verify_tls = false;
                                 } else if (c.tls_verify != "true" && c.tls_verify != "True") {
                                   s.client.ca_file = c.tls_verify;  // a CA bundle path
                                 }
                                 return s;
                               });
}

ProviderSpec openai_spec() {
  return make_spec<OpenAIConfig>("remote::openai", "OpenAI or any OpenAI-compatible API",
                                 [](const OpenAIConfig& c) {
                                   Settings s;
                                   s.base_url = c.base_url;
                                   s.api_key = c.api_key;
                                   s.provider_data_key = "openai_api_key";
                                   s.refresh_models = c.refresh_models;
                                   s.client.read_timeout = std::chrono::seconds(c.timeout_seconds);
                                   return s;
                                 });
}

}  // namespace llama_stack::providers::remote
