// remote::tavily-search and remote::brave-search (web_search.cc).
#pragma once

#include "llama_stack/providers/provider.h"

namespace llama_stack::providers::remote {

ProviderSpec tavily_search_spec();
ProviderSpec brave_search_spec();

}  // namespace llama_stack::providers::remote
