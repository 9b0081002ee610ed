// remote::model-context-protocol: MCP tool groups (model_context_protocol.cc).
#pragma once

#include "llama_stack/providers/provider.h"

namespace llama_stack::providers::remote {

ProviderSpec model_context_protocol_spec();

}  // namespace llama_stack::providers::remote
