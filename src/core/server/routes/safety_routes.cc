// POST /v1/safety/run-shield and the OpenAI moderations routes: parse →
// SafetyRouter → render.
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

// OpenAI moderations: {input: string | [string], model?}.
async::Task<void> moderate(const Services& services, Ex ex) {
  json::value value = ex->context().json_body();
  JsonReader body(value);
  std::vector<std::string> inputs;
  const json::value* input = value.as_object().if_contains("input");
  if (input != nullptr && input->is_string()) {
    inputs.emplace_back(input->get_string());
  } else if (input != nullptr && input->is_array() && !input->get_array().empty()) {
    for (std::size_t i = 0; i < input->get_array().size(); ++i) {
      const json::value& item = input->get_array()[i];
      if (!item.is_string()) {
        const std::string path = "input[" + std::to_string(i) + "]";
        throw JsonFieldError(path, "Field '" + path + "' must be a string");
      }
      inputs.emplace_back(item.get_string());
    }
  } else {
    throw JsonFieldError("input", "Field 'input' must be a string or a non-empty list of strings");
  }
  std::optional<std::string> model = body.optional_string("model");
  apis::CallContext call = ex->call_context();
  auto run = services.safety().moderate(call, std::move(inputs), std::move(model));
  apis::ModerationObject response = co_await std::move(run);
  ex->send_json(200, response.to_json());
}

}  // namespace

void add_safety_routes(RouteTable& table, const Services& services) {
  table.add({"POST", "/v1/safety/run-shield",
             [&services](const Ex& ex) { ex->serve(run_shield(services, ex)); }, "safety"});
  for (const std::string path : {"/v1/moderations", "/v1/openai/v1/moderations"}) {
    table.add(
        {"POST", path, [&services](const Ex& ex) { ex->serve(moderate(services, ex)); }, "safety"});
  }
}

}  // namespace llama_stack::server::routes
