// HTTP routes per API. Each function adds its routes to the table; handlers
// parse the request into plain structs, call the routing table or router,
// and render JSON. Errors are thrown as ApiError and rendered by the
// dispatcher.
#pragma once

#include "core/server/route_table.h"
#include "core/util/json.h"

namespace llama_stack {
struct Services;
}
namespace llama_stack::config {
struct MetricsSettings;
}

namespace llama_stack::server::routes {

void add_inspect_routes(RouteTable& table, const Services& services);
void add_provider_routes(RouteTable& table, const Services& services);
void add_model_routes(RouteTable& table, const Services& services);
void add_shield_routes(RouteTable& table, const Services& services);
void add_vector_db_routes(RouteTable& table, const Services& services);
void add_inference_routes(RouteTable& table, const Services& services);
// POST /v1/safety/run-shield.
void add_safety_routes(RouteTable& table, const Services& services);
// /v1/toolgroups, /v1/tools, /v1/tool-runtime (list-tools, invoke, rag-tool).
void add_tool_routes(RouteTable& table, const Services& services);
// The Files API (/v1/openai/v1/files, /v1/files).
void add_files_routes(RouteTable& table, const Services& services);
// POST /v1/vector-io/insert and /v1/vector-io/query.
void add_vector_io_routes(RouteTable& table, const Services& services);
// The Agents API of 0.2.x (/v1/agents…).
void add_agents_routes(RouteTable& table, const Services& services);
// The telemetry API of 0.2.x (/v1/telemetry/…).
void add_telemetry_routes(RouteTable& table, const Services& services);
// The OpenAI Responses API and Conversations (/v1/responses, /v1/conversations).
void add_responses_routes(RouteTable& table, const Services& services);
// The OpenAI vector stores API (/v1/vector_stores, /v1/openai/v1/vector_stores).
void add_vector_stores_routes(RouteTable& table, const Services& services);
// GET /.well-known/oauth-protected-resource (RFC 9728), when server.oauth is set.
void add_oauth_metadata_route(RouteTable& table, const Services& services);

// GET /metrics (Prometheus text). Public (no server authentication) when a
// metrics bearer token guards it, when the server has no auth, or when
// require_auth is false.
void add_metrics_route(RouteTable& table, const config::MetricsSettings& settings,
                       bool server_auth);

// Every route of the APIs `services` serves.
RouteTable build_routes(const Services& services);

// Replaces the value of every key that looks secret (api_key, token,
// password, secret, ...) with "********", recursively.
json::value redact_secrets(const json::value& value);

}  // namespace llama_stack::server::routes
