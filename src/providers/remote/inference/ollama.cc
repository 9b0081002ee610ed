// remote::ollama — Ollama's native API (/api/chat, /api/generate, /api/embed,
// /api/tags). Requests arrive OpenAI-shaped and are translated both ways;
// NDJSON streams become OpenAI chunks.
#include "core/config/config_node.h"
#include "core/log/log.h"
#include "core/util/url.h"
#include "providers/remote/inference/http_inference.h"
#include "providers/remote/inference/ollama_convert.h"
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

  apis::CancelFn openai_chat_completion(const apis::InferenceContext& context, json::object request,
                                        apis::InferenceCallbacks callbacks) override {
    json::object body = ollama::chat_request(request);
    const bool stream = ollama::wants_stream(request);
    auto completion = std::make_shared<utils::Completion>(std::move(callbacks));
    UpstreamCall call{context_.provider_id,
                      config_.url + "/api/chat",
                      "POST",
                      {},
                      std::move(body),
                      stream ? StreamFormat::kNdjson : StreamFormat::kNone};
    ollama::ResponseIds ids{context_.provider_id, std::string(call.body["model"].get_string()),
                            utils::random_id("chatcmpl-"), utils::unix_now()};
    UpstreamHandlers handlers;
    if (stream) {
      auto converter =
          std::make_shared<ollama::ChatStream>(std::move(ids), ollama::wants_usage(request));
      handlers.on_record = [completion, converter](json::value record) {
        for (auto& chunk : converter->on_record(record)) completion->chunk(std::move(chunk));
        return !converter->done();  // done: nothing more to read
      };
    } else {
      handlers.on_body = [completion, ids = std::move(ids)](json::value body) {
        completion->response(ollama::chat_response(body, ids));
      };
    }
    if (!context.traceparent.empty()) call.headers.set("traceparent", context.traceparent);
    return call_upstream(*client_, std::move(call), completion, std::move(handlers));
  }

  apis::CancelFn openai_completion(const apis::InferenceContext& context, json::object request,
                                   apis::InferenceCallbacks callbacks) override {
    json::object body = ollama::generate_request(request);
    const bool stream = ollama::wants_stream(request);
    auto completion = std::make_shared<utils::Completion>(std::move(callbacks));
    UpstreamCall call{context_.provider_id,
                      config_.url + "/api/generate",
                      "POST",
                      {},
                      std::move(body),
                      stream ? StreamFormat::kNdjson : StreamFormat::kNone};
    ollama::ResponseIds ids{context_.provider_id, std::string(call.body["model"].get_string()),
                            utils::random_id("cmpl-"), utils::unix_now()};
    UpstreamHandlers handlers;
    if (stream) {
      auto converter =
          std::make_shared<ollama::GenerateStream>(std::move(ids), ollama::wants_usage(request));
      handlers.on_record = [completion, converter](json::value record) {
        for (auto& chunk : converter->on_record(record)) completion->chunk(std::move(chunk));
        return !converter->done();
      };
    } else {
      handlers.on_body = [completion, ids = std::move(ids)](json::value body) {
        completion->response(ollama::generate_response(body, ids));
      };
    }
    if (!context.traceparent.empty()) call.headers.set("traceparent", context.traceparent);
    return call_upstream(*client_, std::move(call), completion, std::move(handlers));
  }

  apis::CancelFn openai_embeddings(const apis::InferenceContext& context, json::object request,
                                   apis::InferenceCallbacks callbacks) override {
    json::object body = ollama::embed_request(request);
    auto completion = std::make_shared<utils::Completion>(std::move(callbacks));
    UpstreamCall call{context_.provider_id, config_.url + "/api/embed", "POST", {},
                      std::move(body),      StreamFormat::kNone};
    ollama::ResponseIds ids{context_.provider_id, std::string(call.body["model"].get_string()), "",
                            0};
    UpstreamHandlers handlers;
    handlers.on_body = [completion, ids = std::move(ids)](json::value body) {
      completion->response(ollama::embed_response(body, ids));
    };
    if (!context.traceparent.empty()) call.headers.set("traceparent", context.traceparent);
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
