// Remote inference adapters: remote::ollama, remote::vllm, remote::openai.
// This build registers their configuration and models; the inference calls
// themselves live with the inference API.
#pragma once

#include "llama_stack/providers/provider.h"

namespace llama_stack::providers::remote {

ProviderSpec ollama_spec();
ProviderSpec vllm_spec();
ProviderSpec openai_spec();

}  // namespace llama_stack::providers::remote
