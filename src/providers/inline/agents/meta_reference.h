// inline::meta-reference for the agents API.
#pragma once

#include "llama_stack/providers/provider.h"

namespace llama_stack::providers::inline_ {

ProviderSpec meta_reference_agents_spec();

}  // namespace llama_stack::providers::inline_
