// server.oauth content-safety keys and the safety: section, parsed as
// `validate` and `run` parse them.
#include "core/security/content_safety_config.h"

#include <gtest/gtest.h>

#include "core/config/stack_config.h"
#include "core/security/server_security.h"

namespace llama_stack::security {
namespace {

struct Parsed {
  config::StackRunConfig config;
  ServerSecurity security;
  config::Diagnostics diagnostics;
  std::string errors() const {
    std::string out;
    for (const auto& e : diagnostics.errors()) out += e.format() + "\n";
    return out;
  }
};

Parsed parse(const std::string& yaml) {
  Parsed p;
  config::EnvLookup env = [](const std::string&) -> std::optional<std::string> {
    return std::nullopt;
  };
  config::ConfigNode root = config::load_yaml(yaml, "run.yaml", env, p.diagnostics);
  p.config = config::parse_stack_config(root, p.diagnostics);
  p.security = parse_server_security(p.config, "/tmp", p.diagnostics);
  return p;
}

constexpr const char* kShields = R"(
version: 2
apis: [safety]
providers: {}
shields:
- {shield_id: llama-guard, provider_shield_id: meta-llama/Llama-Guard-3-8B}
)";

TEST(ContentSafetyConfig, DefaultsAreTheSeedsLevels) {
  Parsed p = parse(std::string(kShields) + "server:\n  oauth:\n    enforce_content_safety: true\n");
  ASSERT_FALSE(p.diagnostics.has_errors()) << p.errors();
  const auto& s = p.security.oauth.content_safety;
  EXPECT_TRUE(s.enforce);
  EXPECT_EQ(s.shields, std::vector<std::string>{"llama-guard"});  // every run.yaml shield
  EXPECT_DOUBLE_EQ(s.levels.at("basic_user").max_violence_score, 0.3);
  EXPECT_EQ(s.levels.at("premium_user").blocked_categories, std::vector<std::string>{"illegal"});
  EXPECT_TRUE(s.levels.at("research_user").blocked_categories.empty());
  EXPECT_EQ(s.level_for({"premium_access"}), "premium_user");
  EXPECT_EQ(s.level_for({"premium_access", "research_access"}), "research_user");
  EXPECT_EQ(s.level_for({"basic_access"}), "basic_user");
  EXPECT_EQ(s.stream_window_chars, 200u);
}

TEST(ContentSafetyConfig, ConfiguredLevelsReplaceTheDefaults) {
  Parsed p = parse(std::string(kShields) + R"(
server:
  oauth:
    enforce_content_safety: true
    default_safety_level: strict
    content_safety_shields: [llama-guard]
    safety_stream_window_chars: 64
    safety_level_scopes: {trusted: relaxed}
    safety_levels:
      strict: {blocked_categories: [harmful]}
      relaxed: {max_violence_score: 0.9, check_output: false}
)");
  ASSERT_FALSE(p.diagnostics.has_errors()) << p.errors();
  const auto& s = p.security.oauth.content_safety;
  EXPECT_EQ(s.levels.size(), 2u);
  EXPECT_DOUBLE_EQ(s.levels.at("strict").max_violence_score, 0.0);
  EXPECT_FALSE(s.levels.at("relaxed").check_output);
  EXPECT_TRUE(s.levels.at("relaxed").check_input);
  EXPECT_EQ(s.level_for({"trusted"}), "relaxed");
  EXPECT_EQ(s.level_for({}), "strict");
  EXPECT_EQ(s.stream_window_chars, 64u);
}

TEST(ContentSafetyConfig, LevelsWithoutScopesKeepTheDefaultMappingsThatStillApply) {
  Parsed p = parse(std::string(kShields) + R"(
server:
  oauth:
    default_safety_level: user
    safety_levels:
      user: {}
      premium_user: {max_violence_score: 0.5}
)");
  ASSERT_FALSE(p.diagnostics.has_errors()) << p.errors();
  const auto& s = p.security.oauth.content_safety;
  ASSERT_EQ(s.level_scopes.size(), 1u);
  EXPECT_EQ(s.level_for({"premium_access"}), "premium_user");
  EXPECT_EQ(s.level_for({"research_access"}), "user");
}

TEST(ContentSafetyConfig, ErrorsNameTheKey) {
  Parsed unknown_level = parse(std::string(kShields) + R"(
server:
  oauth:
    default_safety_level: nope
    safety_level_scopes: {x: missing}
    safety_levels:
      only: {max_hate_score: 1.5}
)");
  const std::string e = unknown_level.errors();
  EXPECT_NE(e.find("default_safety_level 'nope' is not a safety level"), std::string::npos) << e;
  EXPECT_NE(e.find("unknown level 'missing'"), std::string::npos) << e;
  EXPECT_NE(e.find("max_hate_score must be between 0 and 1"), std::string::npos) << e;

  Parsed no_shield =
      parse("version: 2\nproviders: {}\nserver:\n  oauth:\n    enforce_content_safety: true\n");
  EXPECT_NE(no_shield.errors().find("enforce_content_safety needs a shield"), std::string::npos)
      << no_shield.errors();
}

TEST(SafetySection, DefaultShieldAndSizeLimit) {
  Parsed p = parse(std::string(kShields) +
                   "safety: {default_shield_id: llama-guard, max_input_chars: 5000}\n");
  ASSERT_FALSE(p.diagnostics.has_errors()) << p.errors();
  EXPECT_EQ(p.config.safety.default_shield_id, "llama-guard");
  EXPECT_EQ(p.config.safety.max_input_chars, 5000);
  Parsed bad = parse("version: 2\nproviders: {}\nsafety: {max_input_chars: 0, other: 1}\n");
  EXPECT_TRUE(bad.diagnostics.has_errors());
}

TEST(SafetySection, AShieldWithoutIdIsKnownByItsProviderShieldId) {
  // The guide's Bedrock example.
  Parsed p = parse(R"(
version: 2
providers: {}
shields:
- provider_id: bedrock
  params: {guardrailVersion: "1"}
  provider_shield_id: gr-123
)");
  ASSERT_FALSE(p.diagnostics.has_errors()) << p.errors();
  ASSERT_EQ(p.config.shields.size(), 1u);
  EXPECT_EQ(p.config.shields[0].shield_id, "gr-123");
  Parsed neither = parse("version: 2\nproviders: {}\nshields:\n- {provider_id: bedrock}\n");
  EXPECT_NE(neither.errors().find("shield_id"), std::string::npos) << neither.errors();
}

}  // namespace
}  // namespace llama_stack::security
