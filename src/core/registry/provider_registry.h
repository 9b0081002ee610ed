// The explicit list of provider types this build implements. No static
// self-registration: adding a provider means adding one line to
// builtin_provider_specs() (src/providers/builtin_registry.cc).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "llama_stack/providers/provider.h"

namespace llama_stack::registry {

class ProviderRegistry {
 public:
  // The registry of every built-in provider.
  static const ProviderRegistry& builtin();

  explicit ProviderRegistry(std::vector<providers::ProviderSpec> specs,
                            providers::DocumentTextFn document_text = {});

  const providers::ProviderSpec* find(std::string_view api, std::string_view provider_type) const;
  std::vector<const providers::ProviderSpec*> for_api(std::string_view api) const;
  const std::vector<providers::ProviderSpec>& all() const { return specs_; }
  // What vector stores turn files into text with (unset: files cannot be
  // indexed — each attach fails with a clear last_error).
  const providers::DocumentTextFn& document_text() const { return document_text_; }

  // A one-line explanation for an unsupported type: "known Llama Stack
  // provider type, not available in this build" or "unknown provider type";
  // both list the types this build supports for `api`.
  std::string explain_unsupported(std::string_view api, std::string_view provider_type) const;

 private:
  std::vector<providers::ProviderSpec> specs_;
  providers::DocumentTextFn document_text_;
};

}  // namespace llama_stack::registry
