// SafetyRouter: the safety API (apis::SafetyApi) for every caller — the
// run-shield route, and providers or orchestrators (ProviderDeps::safety).
// Resolves the shield (404 when unknown or not readable by the caller, 403
// when the token's scopes do not cover it) and runs its provider; any
// exception becomes an ApiError (to_api_error).
#pragma once

#include "core/routing/resource_access.h"
#include "core/routing/routing_tables.h"
#include "llama_stack/apis/safety.h"

namespace llama_stack::routing {

class SafetyRouter final : public apis::SafetyApi {
 public:
  SafetyRouter(ShieldsRoutingTable& shields, const ResourceAccess& access)
      : shields_(shields), access_(access) {}

  async::Task<apis::RunShieldResponse> run_shield(const apis::CallContext& context,
                                                  const std::string& shield_id,
                                                  json::array messages,
                                                  json::object params) override;
  async::Task<apis::ModerationObject> moderate(const apis::CallContext& context,
                                               std::vector<std::string> inputs,
                                               std::optional<std::string> model) override;

 private:
  ShieldsRoutingTable& shields_;
  const ResourceAccess& access_;
};

}  // namespace llama_stack::routing
