// inline::meta-reference for the telemetry API (meta_reference.cc).
#pragma once

#include "llama_stack/providers/provider.h"

namespace llama_stack::providers::inline_ {

ProviderSpec meta_reference_telemetry_spec();

}  // namespace llama_stack::providers::inline_
