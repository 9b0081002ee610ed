#include "core/routing/safety_router.h"

#include "core/routing/child_span.h"
#include "core/util/metrics.h"

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

ApiError shield_not_found(const std::string& shield_id) {
  return ApiError::not_found("Shield '" + shield_id +
                             "' not found. Register it with POST /v1/shields");
}

// Runs `call` (a provider's Task), mapping whatever it throws.
template <class T>
async::Task<T> mapped(async::Task<T> call, std::string where) {
  std::exception_ptr failure;
  std::optional<T> result;
  try {
    result.emplace(co_await std::move(call));
  } catch (...) {
    failure = std::current_exception();
  }
  if (failure) throw to_api_error(failure, where);
  co_return std::move(*result);
}

}  // namespace

void SafetyRouter::check_size(std::size_t chars, const std::string& what) const {
  if (chars > static_cast<std::size_t>(settings_.max_input_chars)) {
    throw ApiError(413, what + " has " + std::to_string(chars) +
                            " characters of text; shields judge at most " +
                            std::to_string(settings_.max_input_chars) +
                            " (safety.max_input_chars)");
  }
}

async::Task<apis::RunShieldResponse> SafetyRouter::run_shield(const apis::CallContext& context,
                                                              const std::string& shield_id,
                                                              json::array messages,
                                                              json::object params) {
  const apis::Shield shield = shields_.get(shield_id);  // 404 naming the shield
  access_.check_read(context, "shield", shield.identifier, shield.owner,
                     shield_not_found(shield_id));
  access_.check_scope(context, shield);
  check_size(json_text_size(messages), "'messages'");
  providers::SafetyProvider& provider = shields_.provider_for(shield);
  ChildSpan span(telemetry_, context, "safety.run_shield");
  span.attributes()["shield_id"] = shield.identifier;
  span.attributes()["provider_id"] = shield.provider_id;
  apis::RunShieldResponse out;
  std::exception_ptr failure;
  try {
    auto run =
        mapped(provider.run_shield(span.context(), shield, std::move(messages), std::move(params)),
               "shield '" + shield_id + "'");
    out = co_await std::move(run);
  } catch (...) {
    failure = std::current_exception();
  }
  span.attributes()["violation"] = out.violation ? out.violation->violation_level : "none";
  span.finish(failure);
  if (out.violation && metrics::enabled()) {
    std::string_view category;
    if (const auto* t = out.violation->metadata.if_contains("violation_type");
        t != nullptr && t->is_string()) {
      category = t->get_string();
    }
    metrics::catalog().safety_violations.with({shield.identifier, category}).inc();
  }
  if (failure) std::rethrow_exception(failure);
  co_return out;
}

apis::Shield SafetyRouter::moderation_shield(const apis::CallContext& context,
                                             const std::optional<std::string>& model) const {
  // The shields the caller may use; `model` names one by model or id.
  std::vector<apis::Shield> usable = access_.visible(context, shields_.list());
  if (model) {
    for (const auto& s : usable) {
      if (s.provider_resource_id == *model || s.identifier == *model) return s;
    }
    throw ApiError::not_found("No shield for model '" + *model +
                              "'; register one with POST /v1/shields");
  }
  if (settings_.default_shield_id) {
    for (const auto& s : usable) {
      if (s.identifier == *settings_.default_shield_id) return s;
    }
    throw ApiError::not_found("The default shield '" + *settings_.default_shield_id +
                              "' (safety.default_shield_id) is not registered");
  }
  if (usable.size() == 1) return usable.front();
  throw ApiError::bad_request(usable.empty()
                                  ? std::string("No shield is registered for moderations")
                                  : "Field 'model' is required: " + std::to_string(usable.size()) +
                                        " shields are registered; name the shield's model, or set "
                                        "safety.default_shield_id");
}

async::Task<apis::ModerationObject> SafetyRouter::moderate(const apis::CallContext& context,
                                                           std::vector<std::string> inputs,
                                                           std::optional<std::string> model) {
  const apis::Shield shield = moderation_shield(context, model);
  access_.check_scope(context, shield);
  std::size_t chars = 0;
  for (const auto& input : inputs) chars += input.size();
  check_size(chars, "'input'");
  providers::SafetyProvider& provider = shields_.provider_for(shield);
  auto run = mapped(provider.moderate(context, shield, std::move(inputs)),
                    "moderation with shield '" + shield.identifier + "'");
  apis::ModerationObject result;
  result.results = co_await std::move(run);
  result.id = "modr-" + random_id();
  result.model = model.value_or(shield.provider_resource_id);
  co_return result;
}

async::Task<apis::ShieldAssessment> SafetyRouter::assess(const apis::CallContext& context,
                                                         const std::string& shield_id,
                                                         json::array messages) {
  const apis::Shield shield = shields_.get(shield_id);  // 404 naming the shield
  check_size(json_text_size(messages), "The text to check");
  providers::SafetyProvider& provider = shields_.provider_for(shield);
  auto run =
      mapped(provider.assess(context, shield, std::move(messages)), "shield '" + shield_id + "'");
  co_return co_await std::move(run);
}

}  // namespace llama_stack::routing
