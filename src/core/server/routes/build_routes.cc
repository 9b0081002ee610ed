#include "core/server/routes/routes.h"
#include "core/services/services.h"

namespace llama_stack::server::routes {

RouteTable build_routes(const Services& services) {
  RouteTable table;
  add_inspect_routes(table, services);
  add_provider_routes(table, services);
  add_oauth_metadata_route(table, services);
  if (services.serves("inference")) {
    add_model_routes(table, services);
    add_inference_routes(table, services);
  }
  if (services.serves("safety")) {
    add_shield_routes(table, services);
    add_safety_routes(table, services);
  }
  if (services.serves("vector_io")) {
    add_vector_db_routes(table, services);
    add_vector_io_routes(table, services);
    add_vector_stores_routes(table, services);
  }
  if (services.serves("tool_runtime")) add_tool_routes(table, services);
  if (services.serves("files")) add_files_routes(table, services);
  if (services.serves("telemetry")) add_telemetry_routes(table, services);
  if (services.serves("agents")) {
    add_agents_routes(table, services);
    add_responses_routes(table, services);
  }
  return table;
}

}  // namespace llama_stack::server::routes
