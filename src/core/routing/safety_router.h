// SafetyRouter: the safety API (apis::SafetyApi) for every caller — the
// run-shield and moderation routes, content-safety enforcement around
// inference, and providers or orchestrators (ProviderDeps::safety).
// Resolves the shield (404 when unknown or not readable by the caller, 403
// when the token's scopes do not cover it; assess() skips both, the server
// chose the shield), refuses text over `safety.max_input_chars` (413) and
// runs its provider; any exception becomes an ApiError (to_api_error).
#pragma once

#include "core/config/stack_config.h"
#include "core/routing/resource_access.h"
#include "core/routing/routing_tables.h"
#include "llama_stack/apis/safety.h"
#include "llama_stack/apis/telemetry.h"

namespace llama_stack::routing {

class SafetyRouter final : public apis::SafetyApi {
 public:
  // Startup only: where each shield run's span goes (null: not recorded).
  void set_telemetry(apis::TelemetryApi* telemetry) { telemetry_ = telemetry; }
  SafetyRouter(ShieldsRoutingTable& shields, const ResourceAccess& access,
               config::SafetySettings settings)
      : shields_(shields), access_(access), settings_(std::move(settings)) {}

  async::Task<apis::RunShieldResponse> run_shield(const apis::CallContext& context,
                                                  const std::string& shield_id,
                                                  json::array messages,
                                                  json::object params) override;
  // Without `model`: safety.default_shield_id, else the only usable shield.
  async::Task<apis::ModerationObject> moderate(const apis::CallContext& context,
                                               std::vector<std::string> inputs,
                                               std::optional<std::string> model) override;
  async::Task<apis::ShieldAssessment> assess(const apis::CallContext& context,
                                             const std::string& shield_id,
                                             json::array messages) override;

  const config::SafetySettings& settings() const { return settings_; }

 private:
  apis::TelemetryApi* telemetry_ = nullptr;
  // 413 when `text` is longer than max_input_chars.
  void check_size(std::size_t chars, const std::string& what) const;
  apis::Shield moderation_shield(const apis::CallContext& context,
                                 const std::optional<std::string>& model) const;

  ShieldsRoutingTable& shields_;
  const ResourceAccess& access_;
  const config::SafetySettings settings_;
};

}  // namespace llama_stack::routing
