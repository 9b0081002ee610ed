#include "core/registry/provider_registry.h"

#include "core/registry/apis.h"

namespace llama_stack::registry {

ProviderRegistry::ProviderRegistry(std::vector<providers::ProviderSpec> specs,
                                   providers::DocumentTextFn document_text)
    : specs_(std::move(specs)), document_text_(std::move(document_text)) {}

const providers::ProviderSpec* ProviderRegistry::find(std::string_view api,
                                                      std::string_view provider_type) const {
  for (const auto& spec : specs_) {
    if (spec.api == api && spec.provider_type == provider_type) return &spec;
  }
  return nullptr;
}

std::vector<const providers::ProviderSpec*> ProviderRegistry::for_api(std::string_view api) const {
  std::vector<const providers::ProviderSpec*> out;
  for (const auto& spec : specs_) {
    if (api.empty() || spec.api == api) out.push_back(&spec);
  }
  return out;
}

std::string ProviderRegistry::explain_unsupported(std::string_view api,
                                                  std::string_view provider_type) const {
  std::string supported;
  for (const auto* spec : for_api(api)) {
    supported += (supported.empty() ? "" : ", ") + spec->provider_type;
  }
  if (supported.empty()) supported = "none in this build";
  std::string head = is_llama_stack_provider_type(api, provider_type)
                         ? "'" + std::string(provider_type) +
                               "' is a known Llama Stack provider type, not available in this build"
                         : "unknown provider_type '" + std::string(provider_type) + "' for api '" +
                               std::string(api) + "'";
  return head + " (supported for " + std::string(api) + ": " + supported + ")";
}

}  // namespace llama_stack::registry
