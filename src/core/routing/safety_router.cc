#include "core/routing/safety_router.h"

#include <random>

#include "core/util/api_error.h"

namespace llama_stack::routing {
namespace {

std::string random_id() {
  thread_local std::mt19937_64 engine{std::random_device{}()};
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (int i = 0; i < 24; ++i) out.push_back(kHex[engine() & 0xF]);
  return out;
}

}  // namespace

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

async::Task<apis::ModerationObject> SafetyRouter::moderate(const apis::CallContext& context,
                                                           std::vector<std::string> inputs,
                                                           std::optional<std::string> model) {
  // The shields the caller may use; `model` names one by model or id.
  std::vector<apis::Shield> usable = access_.visible(context, shields_.list());
  std::optional<apis::Shield> shield;
  if (model) {
    for (const auto& s : usable) {
      if (s.provider_resource_id == *model || s.identifier == *model) {
        shield = s;
        break;
      }
    }
    if (!shield) {
      throw ApiError::not_found("No shield for model '" + *model +
                                "'; register one with POST /v1/shields");
    }
  } else if (usable.size() == 1) {
    shield = usable.front();
  } else {
    throw ApiError::bad_request(
        usable.empty() ? std::string("No shield is registered for moderations")
                       : "Field 'model' is required: " + std::to_string(usable.size()) +
                             " shields are registered; name the shield's model");
  }
  providers::SafetyProvider& provider = shields_.provider_for(*shield);
  std::exception_ptr failure;
  apis::ModerationObject result;
  try {
    auto run = provider.moderate(context, *shield, std::move(inputs));
    result.results = co_await std::move(run);
  } catch (...) {
    failure = std::current_exception();
  }
  if (failure) throw to_api_error(failure, "moderation with shield '" + shield->identifier + "'");
  result.id = "modr-" + random_id();
  result.model = model.value_or(shield->provider_resource_id);
  co_return result;
}

}  // namespace llama_stack::routing
