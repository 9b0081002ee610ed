// inline::rag-runtime: the RAG tool (builtin::rag). See rag_runtime.cc.
#pragma once

#include "llama_stack/providers/provider.h"

namespace llama_stack::providers::inline_ {

ProviderSpec rag_runtime_spec();

}  // namespace llama_stack::providers::inline_
