#include "providers/remote/inference/remote_inference.h"

#include "core/config/config_node.h"
#include "core/log/log.h"
#include "core/util/url.h"

namespace llama_stack::providers::remote {
namespace {

using config::ConfigNode;
using config::Diagnostics;
using config::MapReader;

// remote::ollama — config.url (default http://localhost:11434).
struct OllamaConfig {
  std::string url = "http://localhost:11434";
  bool raise_on_connect_error = false;

  static OllamaConfig parse(const ConfigNode& node, Diagnostics& diagnostics) {
    OllamaConfig c;
    MapReader r(node, diagnostics);
    c.url = r.string_or("url", c.url);
    if (auto error = check_http_url(c.url)) diagnostics.error(*r.self().find("url"), *error);
    c.raise_on_connect_error = r.boolean("raise_on_connect_error").value_or(false);
    r.finish();
    return c;
  }
};

// remote::vllm — url, max_tokens, api_token (secret), tls_verify (bool or CA path).
struct VllmConfig {
  std::optional<std::string> url;
  std::int64_t max_tokens = 4096;
  std::string api_token = "fake";
  std::string tls_verify = "true";

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
    r.finish();
    return c;
  }
};

// remote::openai — api_key (secret; may come per request), base_url.
struct OpenAIConfig {
  std::optional<std::string> api_key;
  std::string base_url = "https://api.openai.com/v1";

  static OpenAIConfig parse(const ConfigNode& node, Diagnostics& diagnostics) {
    OpenAIConfig c;
    MapReader r(node, diagnostics);
    c.api_key = r.string("api_key");
    c.base_url = r.string_or("base_url", c.base_url);
    if (auto error = check_http_url(c.base_url)) {
      diagnostics.error(*r.self().find("base_url"), *error);
    }
    r.finish();
    return c;
  }
};

template <typename Config>
class RemoteInferenceProvider final : public InferenceProvider {
 public:
  RemoteInferenceProvider(ProviderContext context, Config config)
      : context_(std::move(context)), config_(std::move(config)) {}

  apis::Model register_model(apis::Model model) override {
    LS_DEBUG(kInference, "{} ({}) serves model '{}' as '{}'", context_.provider_id,
             context_.provider_type, model.identifier, model.provider_resource_id);
    return model;
  }

 private:
  ProviderContext context_;
  Config config_;
};

template <typename Config>
ProviderSpec make_spec(std::string type, std::string description) {
  ProviderSpec spec;
  spec.api = "inference";
  spec.provider_type = std::move(type);
  spec.description = std::move(description);
  spec.validate_config = [](const ConfigNode& node, Diagnostics& diagnostics) {
    Config::parse(node, diagnostics);
  };
  spec.create = [](const ProviderContext& context, const ConfigNode& node) {
    Diagnostics ignored;  // already validated
    return std::unique_ptr<Provider>(
        new RemoteInferenceProvider<Config>(context, Config::parse(node, ignored)));
  };
  return spec;
}

}  // namespace

ProviderSpec ollama_spec() {
  return make_spec<OllamaConfig>("remote::ollama", "Ollama server (native API)");
}
ProviderSpec vllm_spec() {
  return make_spec<VllmConfig>("remote::vllm", "vLLM server (OpenAI-compatible API)");
}
ProviderSpec openai_spec() {
  return make_spec<OpenAIConfig>("remote::openai", "OpenAI or any OpenAI-compatible API");
}

}  // namespace llama_stack::providers::remote
