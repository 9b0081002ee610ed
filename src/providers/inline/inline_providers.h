// Inline providers built into this binary.
#pragma once

#include "llama_stack/providers/provider.h"

namespace llama_stack::providers::inline_ {

// inline::faiss — vector databases persisted in its kvstore. This build keeps
// the vector DB registry; chunk insert/query arrive with the vector_io API.
ProviderSpec faiss_spec();

// inline::llama-guard — shields backed by a Llama Guard model served by an
// inference provider. This build registers shields; run-shield arrives with
// the safety API.
ProviderSpec llama_guard_spec();

}  // namespace llama_stack::providers::inline_
