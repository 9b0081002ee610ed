// The safety API: run a shield over a conversation. Callers (the
// run-shield route, and later inference guarding and agents) use SafetyApi —
// the safety router (src/core/routing/safety_router.h), which resolves the
// shield (404 unknown or not readable, 403 scopes) and calls its provider.
#pragma once

#include <boost/json.hpp>

#include <algorithm>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "llama_stack/apis/call_context.h"
#include "llama_stack/async/task.h"

namespace llama_stack::apis {

struct SafetyViolation {
  std::string violation_level = "error";  // "info" | "warn" | "error"
  std::string user_message;
  boost::json::object metadata;

  boost::json::object to_json() const {
    return boost::json::object{{"violation_level", violation_level},
                               {"user_message", user_message},
                               {"metadata", metadata}};
  }
};

struct RunShieldResponse {
  std::optional<SafetyViolation> violation;

  boost::json::object to_json() const {
    return boost::json::object{
        {"violation", violation ? boost::json::value(violation->to_json()) : nullptr}};
  }
};

// One moderated input (OpenAI's moderation result, plus Llama Stack's
// user_message and metadata).
struct ModerationResult {
  bool flagged = false;
  boost::json::object categories;                    // name → flagged
  boost::json::object category_scores;               // name → 0..1
  boost::json::object category_applied_input_types;  // name → ["text"] when flagged
  std::string user_message;
  boost::json::object metadata;

  boost::json::object to_json() const {
    return boost::json::object{
        {"flagged", flagged},
        {"categories", categories},
        {"category_scores", category_scores},
        {"category_applied_input_types", category_applied_input_types},
        {"user_message",
         user_message.empty() ? boost::json::value(nullptr) : boost::json::value(user_message)},
        {"metadata", metadata}};
  }
};

struct ModerationObject {
  std::string id;                         // "modr-…"
  std::string model;                      // the shield's model
  std::vector<ModerationResult> results;  // one per input, in order

  boost::json::object to_json() const {
    boost::json::array out;
    for (const auto& r : results) out.push_back(r.to_json());
    return boost::json::object{{"id", id}, {"model", model}, {"results", std::move(out)}};
  }
};

// A shield's judgement of one conversation with scores, for server-side
// content-safety enforcement (security::ContentSafety): the verdict, and a
// score in [0, 1] for every category the shield flagged, keyed by the
// shield's own category codes ("S1" … for Llama Guard, "VIOLENCE" … for
// Bedrock, rule ids for the code scanner).
struct ShieldAssessment {
  std::optional<SafetyViolation> violation;
  std::map<std::string, double> scores;
};

// The codes of metadata.violation_type ("S1,S10" → {"S1", "S10"}).
inline std::vector<std::string> violation_codes(const SafetyViolation& violation) {
  std::vector<std::string> codes;
  const auto* type = violation.metadata.if_contains("violation_type");
  if (type == nullptr || !type->is_string()) return codes;
  const std::string_view text = type->get_string();
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t comma = std::min(text.find(',', start), text.size());
    if (comma > start) codes.emplace_back(text.substr(start, comma - start));
    start = comma + 1;
  }
  return codes;
}

// A verdict as an assessment: every flagged code scored `score`.
inline ShieldAssessment assessment_of(RunShieldResponse verdict, double score = 1.0) {
  ShieldAssessment out;
  if (verdict.violation) {
    for (auto& code : violation_codes(*verdict.violation)) out.scores[std::move(code)] = score;
  }
  out.violation = std::move(verdict.violation);
  return out;
}

class SafetyApi {
 public:
  virtual ~SafetyApi() = default;
  // `messages`: the conversation, as objects with `role` and `content`
  // (a string, a content item, or a list of items; Llama Stack or OpenAI
  // shapes). Throws ApiError (404, 403, 400, 502/503/504 from the guard).
  virtual async::Task<RunShieldResponse> run_shield(const CallContext& context,
                                                    const std::string& shield_id,
                                                    boost::json::array messages,
                                                    boost::json::object params) = 0;
  // OpenAI moderations: `model` picks the shield whose provider_resource_id
  // or identifier it is; without it, the only shield the caller may use.
  virtual async::Task<ModerationObject> moderate(const CallContext& context,
                                                 std::vector<std::string> inputs,
                                                 std::optional<std::string> model) = 0;
  // Scores `messages` with `shield_id` for content-safety enforcement. The
  // server chose the shield, so the caller's shield access is not checked
  // (the guard model's call is the caller's, as always). 404 unknown shield;
  // guard failures as for run_shield.
  virtual async::Task<ShieldAssessment> assess(const CallContext& context,
                                               const std::string& shield_id,
                                               boost::json::array messages) = 0;
};

}  // namespace llama_stack::apis
