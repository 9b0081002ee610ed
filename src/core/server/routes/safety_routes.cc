// POST /v1/safety/run-shield: parse → SafetyRouter → render.
#include "core/server/exchange.h"
#include "core/server/routes/routes.h"
#include "core/services/services.h"

namespace llama_stack::server::routes {
namespace {

using Ex = std::shared_ptr<Exchange>;

// Body (Llama Stack 0.2.x): {shield_id, messages, params?}. Messages are
// checked by the shield (400 naming the field); here only their presence.
async::Task<void> run_shield(const Services& services, Ex ex) {
  json::value value = ex->context().json_body();
  JsonReader body(value);
  const std::string shield_id = body.required_string("shield_id");
  json::array messages = body.required_array("messages");
  if (messages.empty()) throw JsonFieldError("messages", "Field 'messages' must not be empty");
  json::object params = body.optional_object("params");
  apis::CallContext call = ex->call_context();
  auto run = services.safety().run_shield(call, shield_id, std::move(messages), std::move(params));
  apis::RunShieldResponse response = co_await std::move(run);
  ex->send_json(200, response.to_json());
}

}  // namespace

void add_safety_routes(RouteTable& table, const Services& services) {
  table.add({"POST", "/v1/safety/run-shield",
             [&services](const Ex& ex) { ex->serve(run_shield(services, ex)); }, "safety"});
}

}  // namespace llama_stack::server::routes
