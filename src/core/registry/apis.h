// The Llama Stack API names (the `Api` enum of the Python server) and the
// provider types Llama Stack defines, so that a type we don't build can be
// told apart from a typo.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace llama_stack::registry {

// APIs a provider can implement (keys of run.yaml `providers`).
std::vector<std::string> providable_api_names();
bool is_providable_api(std::string_view api);
// APIs served by a routing table (models, shields, vector_dbs, ...).
bool is_routing_table_api(std::string_view api);
// Any API name, including inspect/providers and routing-table APIs.
bool is_known_api(std::string_view api);

// Every provider type the Python server (v0.2.10) registers for `api`.
const std::vector<std::string_view>& llama_stack_provider_types(std::string_view api);
bool is_llama_stack_provider_type(std::string_view api, std::string_view provider_type);

}  // namespace llama_stack::registry
