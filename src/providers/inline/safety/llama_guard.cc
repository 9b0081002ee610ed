#include "providers/inline/safety/llama_guard.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>

#include "core/config/config_node.h"
#include "core/log/log.h"
#include "core/util/api_error.h"
#include "core/util/message_text.h"
#include "llama_stack/async/when_all.h"
#include "llama_stack/common/errors.h"
#include "llama_stack/providers/provider.h"
#include "providers/inline/inline_providers.h"

namespace llama_stack::providers::inline_ {
namespace {

using config::ConfigNode;
using config::Diagnostics;
using config::MapReader;

constexpr std::array<std::string_view, 14> kCategoryNames = {"Violent Crimes",
                                                             "Non-Violent Crimes",
                                                             "Sex Crimes",
                                                             "Child Exploitation",
                                                             "Defamation",
                                                             "Specialized Advice",
                                                             "Privacy",
                                                             "Intellectual Property",
                                                             "Indiscriminate Weapons",
                                                             "Hate",
                                                             "Self-Harm",
                                                             "Sexual Content",
                                                             "Elections",
                                                             "Code Interpreter Abuse"};

constexpr std::string_view kCannedResponse = "I can't answer that. Can I help with something else?";

bool is_code(std::string_view code) {
  for (std::size_t i = 1; i <= kCategoryNames.size(); ++i) {
    if (code == "S" + std::to_string(i)) return true;
  }
  return false;
}

struct LlamaGuardConfig {
  std::vector<std::string> excluded_categories;
  // Ask the guard model for token logprobs (moderation scores, graded
  // content-safety thresholds). Off for servers that refuse `logprobs`.
  bool logprobs = true;

  static LlamaGuardConfig parse(const ConfigNode& node, Diagnostics& diagnostics) {
    LlamaGuardConfig c;
    MapReader r(node, diagnostics);
    c.excluded_categories = r.string_list("excluded_categories");
    c.logprobs = r.boolean("logprobs").value_or(true);
    r.finish();
    for (const auto& code : c.excluded_categories) {
      if (!is_code(code)) {
        const ConfigNode* at = node.find("excluded_categories");
        diagnostics.error(
            at != nullptr ? *at : node,
            "excluded_categories: '" + code + "' is not a Llama Guard category (S1 … S14)");
      }
    }
    return c;
  }
};

std::string capitalized(std::string_view role) {
  std::string out(role);
  if (!out.empty()) out[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(out[0])));
  return out;
}

struct Turn {
  std::string role;
  std::string text;
};

class LlamaGuardSafety final : public SafetyProvider {
 public:
  LlamaGuardSafety(ProviderContext context, LlamaGuardConfig config)
      : context_(std::move(context)), config_(std::move(config)) {}

  apis::Shield register_shield(apis::Shield shield) override {
    if (shield.provider_resource_id.empty()) {
      throw ApiError::bad_request("Shield '" + shield.identifier + "' of provider '" +
                                  context_.provider_id +
                                  "' (inline::llama-guard) needs provider_shield_id: the model "
                                  "that runs Llama Guard (e.g. meta-llama/Llama-Guard-3-8B)");
    }
    return shield;
  }

  async::Task<apis::RunShieldResponse> run_shield(const apis::CallContext& context,
                                                  const apis::Shield& shield, json::array messages,
                                                  json::object /*params*/) override {
    auto answer = ask_guard(context, shield, std::move(messages), /*logprobs=*/false);
    GuardAnswer guard = co_await std::move(answer);
    co_return std::move(guard.verdict);
  }

  // One guard call per input, all at once.
  async::Task<std::vector<apis::ModerationResult>> moderate(
      const apis::CallContext& context, const apis::Shield& shield,
      std::vector<std::string> inputs) override {
    std::vector<async::Task<apis::ModerationResult>> checks;
    for (auto& input : inputs) checks.push_back(moderate_one(context, shield, std::move(input)));
    auto all = async::when_all(std::move(checks));
    co_return co_await std::move(all);
  }

  // Flagged codes scored with the probability of "unsafe" when the guard
  // model returned logprobs, else 1.0.
  async::Task<apis::ShieldAssessment> assess(const apis::CallContext& context,
                                             const apis::Shield& shield,
                                             json::array messages) override {
    auto answer = ask_guard(context, shield, std::move(messages), config_.logprobs);
    GuardAnswer guard = co_await std::move(answer);
    co_return apis::assessment_of(std::move(guard.verdict), guard.unsafe_probability.value_or(1.0));
  }

 private:
  struct GuardAnswer {
    apis::RunShieldResponse verdict;
    std::optional<double> unsafe_probability;
  };

  async::Task<apis::ModerationResult> moderate_one(const apis::CallContext& context,
                                                   const apis::Shield& shield, std::string input) {
    json::array messages{json::object{{"role", "user"}, {"content", std::move(input)}}};
    auto answer = ask_guard(context, shield, std::move(messages), config_.logprobs);
    GuardAnswer guard = co_await std::move(answer);
    co_return llama_guard_moderation(guard.verdict, shield.provider_resource_id,
                                     guard.unsafe_probability);
  }

  // The guard model's verdict on `messages`, through the inference router.
  async::Task<GuardAnswer> ask_guard(const apis::CallContext& context, const apis::Shield& shield,
                                     json::array messages, bool logprobs) {
    apis::InferenceApi* inference = context_.deps != nullptr ? context_.deps->inference : nullptr;
    if (inference == nullptr) {
      throw ApiError::unavailable("Shield '" + shield.identifier + "': no inference router");
    }
    const std::string prompt = llama_guard_prompt(
        messages, llama_guard_categories(shield.provider_resource_id, config_.excluded_categories));
    json::object request{
        {"model", shield.provider_resource_id},
        {"messages", json::array{json::object{{"role", "user"}, {"content", prompt}}}},
        {"temperature", 0},
        {"stream", false},
        {"store", false}};  // guard verdicts are not chat completions to keep
    if (logprobs) {
      request["logprobs"] = true;
      request["top_logprobs"] = 5;
    }
    // The guard call is the caller's call (checked, audited), but its tokens
    // are not the caller's inference reservation, and it is not itself
    // subject to content-safety enforcement.
    apis::CallContext guard_context = context;
    guard_context.settle_tokens = {};
    guard_context.content_safety_exempt = true;
    auto call = inference->chat_completion(guard_context, std::move(request));
    json::object response;
    std::exception_ptr failure;
    try {
      response = co_await std::move(call);
    } catch (...) {
      failure = std::current_exception();
    }
    if (failure) {
      ApiError error = to_api_error(failure, "shield " + shield.identifier);
      throw ApiError(error.status(), "Shield '" + shield.identifier + "': guard model '" +
                                         shield.provider_resource_id + "' failed: " + error.what());
    }
    std::string answer;
    if (const auto* choices = response.if_contains("choices");
        choices && choices->is_array() && !choices->get_array().empty()) {
      const auto* choice = choices->get_array()[0].if_object();
      const auto* message = choice != nullptr ? choice->if_contains("message") : nullptr;
      const auto* content = message != nullptr && message->is_object()
                                ? message->get_object().if_contains("content")
                                : nullptr;
      if (content != nullptr && content->is_string()) answer = content->get_string();
    }
    co_return GuardAnswer{
        llama_guard_verdict(answer, shield.identifier, config_.excluded_categories),
        logprobs ? llama_guard_unsafe_probability(response) : std::nullopt};
  }

  ProviderContext context_;
  LlamaGuardConfig config_;
};

}  // namespace

std::vector<std::string> llama_guard_categories(const std::string& guard_model,
                                                const std::vector<std::string>& excluded) {
  // The 1B and vision models know S1–S13; the 8B (and unknown models) S1–S14.
  const bool thirteen = guard_model.find("Guard-3-1B") != std::string::npos ||
                        guard_model.find("Vision") != std::string::npos ||
                        guard_model.find("Guard-4") != std::string::npos;
  const std::size_t count = thirteen ? 13 : 14;
  std::vector<std::string> codes_excluded = excluded;
  if (codes_excluded.size() >= kCategoryNames.size()) codes_excluded.clear();
  std::vector<std::string> out;
  for (std::size_t i = 0; i < count; ++i) {
    const std::string code = "S" + std::to_string(i + 1);
    if (std::find(codes_excluded.begin(), codes_excluded.end(), code) != codes_excluded.end()) {
      continue;
    }
    out.push_back(code + ": " + std::string(kCategoryNames[i]) + ".");
  }
  return out;
}

std::string llama_guard_prompt(const json::array& messages,
                               const std::vector<std::string>& categories) {
  if (messages.empty()) throw JsonFieldError("messages", "Field 'messages' must not be empty");
  std::vector<Turn> turns;
  for (std::size_t i = 0; i < messages.size(); ++i) {
    const std::string path = "messages[" + std::to_string(i) + "]";
    const json::object* m = messages[i].if_object();
    if (m == nullptr) throw JsonFieldError(path, "Field '" + path + "' must be an object");
    const json::value* role = m->if_contains("role");
    if (role == nullptr || !role->is_string() || role->get_string().empty()) {
      throw JsonFieldError(path + ".role", "Field '" + path + ".role' is required");
    }
    const json::value* content = m->if_contains("content");
    std::string text;
    if (content != nullptr && !content->is_null()) text = message_text(*content, path + ".content");
    turns.push_back({std::string(role->get_string()), std::move(text)});
  }
  // As Llama Stack: the conversation must start with the user (a first
  // message of another role becomes one), and of two leading user messages
  // the first is dropped.
  turns.front().role = "user";
  if (turns.size() >= 2 && turns[1].role == "user") turns.erase(turns.begin());

  std::string categories_text;
  for (std::size_t i = 0; i < categories.size(); ++i) {
    if (i > 0) categories_text += '\n';
    categories_text += categories[i];
  }
  std::string conversation;
  for (std::size_t i = 0; i < turns.size(); ++i) {
    if (i > 0) conversation += "\n\n";
    conversation += capitalized(turns[i].role) + ": " + turns[i].text;
  }
  const std::string agent = capitalized(turns.back().role);
  return "Task: Check if there is unsafe content in '" + agent +
         "' messages in conversations according our safety policy with the below categories."
         "\n\n<BEGIN UNSAFE CONTENT CATEGORIES>\n" +
         categories_text + "\n<END UNSAFE CONTENT CATEGORIES>\n\n<BEGIN CONVERSATION>\n\n" +
         conversation +
         "\n\n<END CONVERSATION>\n\nProvide your safety assessment for ONLY THE LAST " + agent +
         " message in the above conversation:\n - First line must read 'safe' or 'unsafe'.\n"
         " - If unsafe, a second line must include a comma-separated list of violated "
         "categories.";
}

apis::RunShieldResponse llama_guard_verdict(std::string_view answer, const std::string& shield_id,
                                            const std::vector<std::string>& excluded) {
  auto trim = [](std::string_view s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
    return s;
  };
  std::string_view text = trim(answer);
  if (text == "safe") return {};
  if (!text.starts_with("unsafe")) {
    std::string shown(text.substr(0, 200));
    throw ApiError::bad_gateway("Shield '" + shield_id +
                                "': the guard model answered neither 'safe' nor 'unsafe': '" +
                                shown + "'");
  }
  // Every S<n> code after "unsafe", in order, without duplicates.
  std::vector<std::string> codes;
  std::string_view rest = text.substr(6);
  for (std::size_t i = 0; i < rest.size(); ++i) {
    if (rest[i] != 'S' || i + 1 >= rest.size() ||
        !std::isdigit(static_cast<unsigned char>(rest[i + 1]))) {
      continue;
    }
    std::size_t j = i + 1;
    while (j < rest.size() && std::isdigit(static_cast<unsigned char>(rest[j]))) ++j;
    std::string code(rest.substr(i, j - i));
    if (std::find(codes.begin(), codes.end(), code) == codes.end()) codes.push_back(code);
    i = j - 1;
  }
  if (!codes.empty() && std::all_of(codes.begin(), codes.end(), [&](const std::string& c) {
        return std::find(excluded.begin(), excluded.end(), c) != excluded.end();
      })) {
    return {};
  }
  std::string joined;
  for (const auto& c : codes) joined += (joined.empty() ? "" : ",") + c;
  apis::SafetyViolation violation;
  violation.violation_level = "error";
  violation.user_message = std::string(kCannedResponse);
  // "unsafe" with no code still blocks: a guard that says unsafe is never a pass.
  violation.metadata["violation_type"] = joined.empty() ? "unknown" : joined;
  return apis::RunShieldResponse{std::move(violation)};
}

std::optional<double> llama_guard_unsafe_probability(const json::object& response) {
  const auto* choices = json_field(response, "choices");
  if (choices == nullptr || !choices->is_array() || choices->get_array().empty()) {
    return std::nullopt;
  }
  const auto* choice = choices->get_array()[0].if_object();
  const auto* logprobs = choice != nullptr ? json_field(*choice, "logprobs") : nullptr;
  const auto* content = logprobs != nullptr && logprobs->is_object()
                            ? json_field(logprobs->get_object(), "content")
                            : nullptr;
  if (content == nullptr || !content->is_array()) return std::nullopt;
  auto trimmed = [](const json::value* token) -> std::string_view {
    if (token == nullptr || !token->is_string()) return {};
    std::string_view t = token->get_string();
    while (!t.empty() && std::isspace(static_cast<unsigned char>(t.front()))) t.remove_prefix(1);
    while (!t.empty() && std::isspace(static_cast<unsigned char>(t.back()))) t.remove_suffix(1);
    return t;
  };
  auto probability = [](const json::object& entry) -> std::optional<double> {
    const auto* lp = json_field(entry, "logprob");
    if (lp == nullptr || !lp->is_number()) return std::nullopt;
    const double p = std::exp(lp->to_number<double>());
    return std::isfinite(p) ? std::optional<double>(std::clamp(p, 0.0, 1.0)) : std::nullopt;
  };
  // The first token that is not white space decides: "unsafe" → its own
  // probability; "safe" → that of "unsafe" among the alternatives, else the
  // rest of the mass.
  for (const auto& item : content->get_array()) {
    const auto* entry = item.if_object();
    if (entry == nullptr) return std::nullopt;
    const std::string_view token = trimmed(json_field(*entry, "token"));
    if (token.empty()) continue;
    if (token.starts_with("uns")) return probability(*entry);
    if (!token.starts_with("safe")) return std::nullopt;
    if (const auto* top = json_field(*entry, "top_logprobs"); top != nullptr && top->is_array()) {
      for (const auto& alt : top->get_array()) {
        const auto* a = alt.if_object();
        if (a != nullptr && trimmed(json_field(*a, "token")).starts_with("uns")) {
          return probability(*a);
        }
      }
    }
    const auto p_safe = probability(*entry);
    if (!p_safe) return std::nullopt;
    return 1.0 - *p_safe;
  }
  return std::nullopt;
}

apis::ModerationResult llama_guard_moderation(const apis::RunShieldResponse& verdict,
                                              const std::string& guard_model,
                                              std::optional<double> unsafe_probability) {
  // Llama Stack's OPENAI_TO_LLAMA_CATEGORIES_MAP, by category code.
  static const std::vector<std::pair<std::string_view, std::vector<std::string_view>>> kOpenAi = {
      {"violence", {"S1"}},
      {"violence/graphic", {"S1"}},
      {"harassment", {"S4"}},
      {"harassment/threatening", {"S1", "S4"}},
      {"hate", {"S10"}},
      {"hate/threatening", {"S10", "S1"}},
      {"illicit", {"S2"}},
      {"illicit/violent", {"S1", "S9"}},
      {"sexual", {"S3", "S12"}},
      {"sexual/minors", {"S4"}},
      {"self-harm", {"S11"}},
      {"self-harm/intent", {"S11"}},
      {"self-harm/instructions", {"S11", "S6"}},
      {"custom/defamation", {"S5"}},
      {"custom/specialized_advice", {"S6"}},
      {"custom/privacy_violation", {"S7"}},
      {"custom/intellectual_property", {"S8"}},
      {"custom/weapons", {"S9"}},
      {"custom/elections", {"S13"}},
      {"custom/code_interpreter_abuse", {"S14"}},
  };
  const std::vector<std::string> flagged_codes =
      verdict.violation ? apis::violation_codes(*verdict.violation) : std::vector<std::string>{};
  // Flagged categories score the probability of "unsafe" (1.0 without
  // logprobs); the others 0.0 — the guard names no score per category.
  const double flagged_score = unsafe_probability.value_or(1.0);
  auto is_flagged = [&](std::string_view code) {
    return std::find(flagged_codes.begin(), flagged_codes.end(), code) != flagged_codes.end();
  };
  apis::ModerationResult result;
  result.flagged = verdict.violation.has_value();
  auto set = [&](std::string name, bool on) {
    result.categories[name] = on;
    result.category_scores[name] = on ? flagged_score : 0.0;
    if (on) result.category_applied_input_types[name] = json::array{"text"};
  };
  const std::size_t known = llama_guard_categories(guard_model, {}).size();
  for (std::size_t i = 0; i < known; ++i) {
    set(std::string(kCategoryNames[i]), is_flagged("S" + std::to_string(i + 1)));
  }
  for (const auto& [name, codes] : kOpenAi) {
    set(std::string(name), std::any_of(codes.begin(), codes.end(), is_flagged));
  }
  if (verdict.violation) {
    result.user_message = verdict.violation->user_message;
    result.metadata = verdict.violation->metadata;
  }
  if (unsafe_probability) result.metadata["unsafe_probability"] = *unsafe_probability;
  return result;
}

ProviderSpec llama_guard_spec() {
  ProviderSpec spec;
  spec.api = "safety";
  spec.provider_type = "inline::llama-guard";
  spec.description = "Llama Guard safety shields (model served by an inference provider)";
  spec.api_dependencies = {"inference"};
  spec.validate_config = [](const ConfigNode& node, Diagnostics& d) {
    LlamaGuardConfig::parse(node, d);
  };
  spec.create = [](const ProviderContext& context, const ConfigNode& node) {
    Diagnostics ignored;  // validated before
    return std::unique_ptr<Provider>(
        new LlamaGuardSafety(context, LlamaGuardConfig::parse(node, ignored)));
  };
  return spec;
}

}  // namespace llama_stack::providers::inline_
