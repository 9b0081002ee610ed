// The fake model server's endpoints: OpenAI-compatible (/v1/...), Ollama
// native (/api/...), and the control API (/control...). See README.md.
#pragma once

#include <memory>

#include "control.h"
#include "core/server/route_table.h"

namespace llama_stack::fake {

void add_openai_routes(server::RouteTable& routes, const std::shared_ptr<State>& state);
void add_ollama_routes(server::RouteTable& routes, const std::shared_ptr<State>& state);

// Every route of the fake model server.
server::RouteTable make_routes(const std::shared_ptr<State>& state);

}  // namespace llama_stack::fake
