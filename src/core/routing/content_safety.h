// ContentSafety: scope-based content-safety enforcement around inference
// (server.oauth.enforce_content_safety; security::ContentSafetySettings).
// One step of the inference router's pipeline, for every caller whose
// context is not a guard's own call:
//
//   level          from the token's scopes (safety_level_scopes, else
//                  default_safety_level)
//   input check    the request's conversation (chat messages, the
//                  completion prompt, the embedding inputs), judged by every
//                  content-safety shield at once, started alongside the
//                  generation: nothing of the answer leaves before it passes,
//                  and a violation cancels the upstream call → 400 with
//                  error.code "content_filter" and the categories
//   output check   non-streamed: the answer (with the conversation) → the
//                  same 400 instead of the answer; streamed: in windows of
//                  safety_stream_window_chars, each held until judged (with
//                  the window before it as context); a violation ends the
//                  stream with a chunk whose finish_reason is
//                  "content_filter", nothing of the flagged window sent
//   fail closed    a guard that fails (unreachable, slow, garbage) fails the
//                  call with the guard's status (502/503/504): no unchecked
//                  output is returned
//   audit          one safety_violation event per violation (level, shield,
//                  categories, direction, model; the content only with
//                  audit_log.include_content)
//
// Scores: each shield scores the categories it flagged (apis::
// ShieldAssessment); categories map onto the seed's families — violence,
// hate, sexual (scored against the level's maximum) and illegal, harmful
// (blocked when listed) — by family_of_category() (docs/security.md).
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/security/audit_log.h"
#include "core/security/content_safety_config.h"
#include "llama_stack/apis/inference.h"
#include "llama_stack/apis/safety.h"

namespace llama_stack::routing {

enum class InferenceKind;

// The families a shield category code belongs to (Llama Guard S1…S14,
// Bedrock filter types; anything else is "harmful").
std::vector<std::string_view> families_of_category(std::string_view code);

// What a level makes of one assessment: the violated families and blocked
// categories, in a stable order (empty: allowed).
std::vector<std::string> violated_categories(const security::SafetyLevel& level,
                                             const apis::ShieldAssessment& assessment);

class ContentSafety {
 public:
  // `safety` and `audit` (may be null) must outlive this.
  ContentSafety(security::ContentSafetySettings settings, apis::SafetyApi& safety,
                security::AuditLog* audit)
      : settings_(std::move(settings)), safety_(safety), audit_(audit) {}

  bool applies(const apis::CallContext& context) const {
    return settings_.enforce && !context.content_safety_exempt;
  }

  // The upstream call being guarded (the router's provider call).
  using Generate = std::function<async::Task<json::object>(
      const apis::CallContext& context, json::object request, apis::ChunkSink sink)>;

  struct Guarded {
    json::object result;    // the upstream result (empty when filtered)
    bool filtered = false;  // a stream ended with finish_reason content_filter
  };

  // Runs `generate` for `request` under the caller's level (see the file
  // comment). Throws the 400 content_filter error, or the guard's failure.
  async::Task<Guarded> run(InferenceKind kind, const apis::CallContext& context,
                           std::string model_id, json::object request, apis::ChunkSink sink,
                           Generate generate) const;

  const security::ContentSafetySettings& settings() const { return settings_; }

 private:
  struct Finding {
    std::string shield;
    std::vector<std::string> categories;
    std::string user_message;
  };

  // Every shield judges `conversation`; the first (in shield order) whose
  // assessment the level refuses is the finding, audited.
  async::Task<std::optional<Finding>> check(const apis::CallContext& context,
                                            const std::string& level_name,
                                            const std::string& model_id, json::array conversation,
                                            std::string direction) const;

  async::Task<Guarded> run_stream(InferenceKind kind, const apis::CallContext& context,
                                  const std::string& level_name, const security::SafetyLevel& level,
                                  const std::string& model_id, json::array conversation,
                                  json::object request, apis::ChunkSink sink,
                                  Generate generate) const;

  const security::ContentSafetySettings settings_;
  apis::SafetyApi& safety_;
  security::AuditLog* audit_;
};

}  // namespace llama_stack::routing
