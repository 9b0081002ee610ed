// The safety API: run a shield over a conversation. Callers (the
// run-shield route, and later inference guarding and agents) use SafetyApi —
// the safety router (src/core/routing/safety_router.h), which resolves the
// shield (404 unknown or not readable, 403 scopes) and calls its provider.
#pragma once

#include <boost/json.hpp>

#include <optional>
#include <string>

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
};

}  // namespace llama_stack::apis
