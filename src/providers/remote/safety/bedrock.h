// remote::bedrock: Amazon Bedrock Guardrails as shields. Config keys are
// Llama Stack's (aws_access_key_id, aws_secret_access_key, aws_session_token,
// region_name, connect_timeout, read_timeout; the AWS_* environment variables
// fill in) plus endpoint_url (ours). A shield names the guardrail in
// provider_shield_id and its version in params.guardrailVersion.
//
// Each check is one ApplyGuardrail call (POST
// <endpoint>/guardrail/<id>/version/<version>/apply), SigV4-signed for the
// service "bedrock", with source INPUT (OUTPUT when the last message is the
// assistant's) and one text block per message.
#pragma once

#include <map>
#include <string>

#include "core/util/json.h"
#include "llama_stack/apis/safety.h"
#include "llama_stack/providers/provider.h"

namespace llama_stack::providers::remote {

// What an ApplyGuardrail answer says.
struct BedrockVerdict {
  bool intervened = false;   // action GUARDRAIL_INTERVENED
  std::string user_message;  // the last output's text
  json::object assessment;   // the last assessment (Llama Stack's metadata)
  // What the guardrail acted on, with a score: content filters by type
  // (VIOLENCE, HATE, …) scored by confidence (NONE 0, LOW 1/3, MEDIUM 2/3,
  // HIGH 1); TOPIC:<name>, WORDS, PII:<type>, REGEX:<name>,
  // GROUNDING:<type> scored 1.
  std::map<std::string, double> scores;
};

BedrockVerdict bedrock_verdict(const json::object& response);

// The run-shield answer: an error violation with the guardrail's output
// text, the last assessment as metadata, and metadata.violation_type listing
// the codes of `scores` (GUARDRAIL_INTERVENED when none).
apis::RunShieldResponse bedrock_run_shield_response(const BedrockVerdict& verdict);

ProviderSpec bedrock_safety_spec();

}  // namespace llama_stack::providers::remote
