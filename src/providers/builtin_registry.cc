// ProviderRegistry::builtin(): the one list of built-in providers. Lives with
// the providers (not in core), so core does not depend on them.
#include "core/registry/provider_registry.h"
#include "providers/inline/agents/meta_reference.h"
#include "providers/inline/files/localfs.h"
#include "providers/inline/inline_providers.h"
#include "providers/inline/telemetry/meta_reference.h"
#include "providers/inline/tool_runtime/rag_runtime.h"
#include "providers/remote/inference/remote_inference.h"
#include "providers/remote/safety/bedrock.h"
#include "providers/remote/tool_runtime/model_context_protocol.h"
#include "providers/remote/tool_runtime/web_search.h"
#include "providers/utils/document_text.h"

namespace llama_stack::registry {
namespace {

// The one list of built-in providers.
std::vector<providers::ProviderSpec> builtin_provider_specs() {
  return {
      providers::remote::ollama_spec(),
      providers::remote::vllm_spec(),
      providers::remote::openai_spec(),
      providers::inline_::faiss_spec(),
      providers::inline_::llama_guard_spec(),
      providers::inline_::code_scanner_spec(),
      providers::remote::bedrock_safety_spec(),
      providers::inline_::sqlite_vec_spec(),
      providers::inline_::sqlite_vec_deprecated_spec(),
      providers::inline_::rag_runtime_spec(),
      providers::inline_::localfs_spec(),
      providers::inline_::meta_reference_agents_spec(),
      providers::inline_::meta_reference_telemetry_spec(),
      providers::remote::model_context_protocol_spec(),
      providers::remote::tavily_search_spec(),
      providers::remote::brave_search_spec(),
  };
}

}  // namespace

const ProviderRegistry& ProviderRegistry::builtin() {
  static const ProviderRegistry registry(
      builtin_provider_specs(),
      [](std::string bytes, const std::string& filename, const std::string& field) {
        const std::string mime = providers::utils::guess_mime_type(filename, bytes);
        return providers::utils::document_text(std::move(bytes), mime, field);
      });
  return registry;
}

}  // namespace llama_stack::registry
