// HTTP routes per API. Each function adds its routes to the table; handlers
// parse the request into plain structs, call the routing table or router,
// and render JSON. Errors are thrown as ApiError and rendered by the
// dispatcher.
#pragma once

#include "core/server/route_table.h"

namespace llama_stack {
class Stack;
}

namespace llama_stack::server::routes {

void add_inspect_routes(RouteTable& table, Stack& stack);
void add_provider_routes(RouteTable& table, Stack& stack);
void add_model_routes(RouteTable& table, Stack& stack);
void add_shield_routes(RouteTable& table, Stack& stack);
void add_vector_db_routes(RouteTable& table, Stack& stack);
void add_inference_routes(RouteTable& table, Stack& stack);
// GET /.well-known/oauth-protected-resource (RFC 9728), when server.oauth is set.
void add_oauth_metadata_route(RouteTable& table, Stack& stack);

// Replaces the value of every key that looks secret (api_key, token,
// password, secret, ...) with "********", recursively.
json::value redact_secrets(const json::value& value);

}  // namespace llama_stack::server::routes
