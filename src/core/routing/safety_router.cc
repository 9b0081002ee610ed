#include "core/routing/safety_router.h"

#include "core/util/api_error.h"

namespace llama_stack::routing {

async::Task<apis::RunShieldResponse> SafetyRouter::run_shield(const apis::CallContext& context,
                                                              const std::string& shield_id,
                                                              json::array messages,
                                                              json::object params) {
  const apis::Shield shield = shields_.get(shield_id);  // 404 naming the shield
  access_.check_read(context, "shield", shield.identifier, shield.owner,
                     ApiError::not_found("Shield '" + shield_id +
                                         "' not found. Register it with POST /v1/shields"));
  access_.check_scope(context, shield);
  providers::SafetyProvider& provider = shields_.provider_for(shield);
  std::exception_ptr failure;
  apis::RunShieldResponse result;
  try {
    auto run = provider.run_shield(context, shield, std::move(messages), std::move(params));
    result = co_await std::move(run);
  } catch (...) {
    failure = std::current_exception();
  }
  if (failure) throw to_api_error(failure, "shield '" + shield_id + "'");
  co_return result;
}

}  // namespace llama_stack::routing
