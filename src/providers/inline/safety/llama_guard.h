// inline::llama-guard: Llama Guard 3 shields. The guard model is any
// registered LLM (the shield's provider_shield_id names it), called through
// the inference router (ProviderDeps::inference), so the call is checked,
// limited and audited like any other. The prompt and the verdict parsing are
// Llama Stack's (llama_guard.py), exposed for tests.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/util/json.h"
#include "llama_stack/apis/safety.h"

namespace llama_stack::providers::inline_ {

// "S1: Violent Crimes." … for `guard_model` (S14 only for the 3-8B and
// unknown models), without `excluded` codes (all excluded = none excluded).
std::vector<std::string> llama_guard_categories(const std::string& guard_model,
                                                const std::vector<std::string>& excluded);

// The one user message sent to the guard model. `messages` is the
// conversation (role + content); throws ApiError 400 naming the field when a
// message is malformed or the list is empty.
std::string llama_guard_prompt(const json::array& messages,
                               const std::vector<std::string>& categories);

// "safe" → no violation; "unsafe" then S<n> codes → an error violation (none
// when every code is excluded); anything else → 502 naming the shield.
apis::RunShieldResponse llama_guard_verdict(std::string_view answer, const std::string& shield_id,
                                            const std::vector<std::string>& excluded);

// The probability of "unsafe" from a chat.completion's token logprobs
// (choices[0].logprobs.content: the first non-blank token, or "unsafe" among
// its top_logprobs); nullopt when the answer carries none.
std::optional<double> llama_guard_unsafe_probability(const json::object& response);

// A moderation result from a verdict: `categories` and `category_scores`
// keyed by the Llama Guard category names (those `guard_model` knows) and by
// OpenAI's moderation categories mapped onto them (Llama Stack's map).
// Flagged categories score `unsafe_probability` (1.0 when unknown), the rest
// 0.0; a known probability is also metadata.unsafe_probability.
apis::ModerationResult llama_guard_moderation(const apis::RunShieldResponse& verdict,
                                              const std::string& guard_model,
                                              std::optional<double> unsafe_probability = {});

}  // namespace llama_stack::providers::inline_
