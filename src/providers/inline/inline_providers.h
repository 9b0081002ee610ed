// Inline providers built into this binary.
#pragma once

#include "llama_stack/providers/provider.h"

namespace llama_stack::providers::inline_ {

// inline::faiss — vector databases persisted in its kvstore. This build keeps
// the vector DB registry; chunk insert/query arrive with the vector_io API.
ProviderSpec faiss_spec();
ProviderSpec sqlite_vec_spec();             // inline::sqlite-vec
ProviderSpec sqlite_vec_deprecated_spec();  // inline::sqlite_vec

// inline::llama-guard — shields backed by a Llama Guard model served by an
// inference provider (src/providers/inline/safety/llama_guard.cc).
ProviderSpec llama_guard_spec();

// inline::code-scanner — the insecure-code shield: a rule set of our own
// (src/providers/inline/safety/code_scanner.cc).
ProviderSpec code_scanner_spec();

}  // namespace llama_stack::providers::inline_
