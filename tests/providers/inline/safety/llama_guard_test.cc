// Llama Guard 3 prompt and verdict (inline::llama-guard), as Llama Stack builds them.
#include "providers/inline/safety/llama_guard.h"

#include <gtest/gtest.h>

#include <cmath>

#include "support/api_errors.h"

namespace llama_stack::providers::inline_ {
namespace {

using testing::error_of;

json::array conversation(std::initializer_list<std::pair<const char*, const char*>> turns) {
  json::array out;
  for (const auto& [role, content] : turns) {
    out.push_back(json::object{{"role", role}, {"content", content}});
  }
  return out;
}

TEST(LlamaGuardPrompt, IsLlamaGuard3sTemplate) {
  const auto categories = llama_guard_categories("meta-llama/Llama-Guard-3-8B", {});
  ASSERT_EQ(categories.size(), 14u);
  EXPECT_EQ(categories.front(), "S1: Violent Crimes.");
  EXPECT_EQ(categories.back(), "S14: Code Interpreter Abuse.");
  const std::string prompt =
      llama_guard_prompt(conversation({{"user", "hi"}, {"assistant", "hello"}}),
                         {"S1: Violent Crimes.", "S2: Non-Violent Crimes."});
  EXPECT_EQ(prompt,
            "Task: Check if there is unsafe content in 'Assistant' messages in conversations "
            "according our safety policy with the below categories.\n\n"
            "<BEGIN UNSAFE CONTENT CATEGORIES>\nS1: Violent Crimes.\nS2: Non-Violent Crimes.\n"
            "<END UNSAFE CONTENT CATEGORIES>\n\n<BEGIN CONVERSATION>\n\nUser: hi\n\nAssistant: "
            "hello\n\n<END CONVERSATION>\n\nProvide your safety assessment for ONLY THE LAST "
            "Assistant message in the above conversation:\n - First line must read 'safe' or "
            "'unsafe'.\n - If unsafe, a second line must include a comma-separated list of "
            "violated categories.");
}

TEST(LlamaGuardPrompt, CategoriesFollowTheModelAndTheExclusions) {
  EXPECT_EQ(llama_guard_categories("meta-llama/Llama-Guard-3-1B", {}).size(), 13u);
  const auto some = llama_guard_categories("guard", {"S1", "S14"});
  ASSERT_EQ(some.size(), 12u);
  EXPECT_EQ(some.front(), "S2: Non-Violent Crimes.");
  // Excluding everything excludes nothing (as Llama Stack).
  std::vector<std::string> all;
  for (int i = 1; i <= 14; ++i) all.push_back("S" + std::to_string(i));
  EXPECT_EQ(llama_guard_categories("guard", all).size(), 14u);
}

TEST(LlamaGuardPrompt, TheConversationStartsWithTheUser) {
  // A first message of another role becomes the user's; of two leading user
  // messages the first is dropped; content items are text, images <image>.
  json::array messages = conversation({{"system", "be nice"}, {"user", "hi"}});
  json::array parts{json::object{{"type", "text"}, {"text", "look"}},
                    json::object{{"type", "image"}, {"image", json::object{}}}};
  messages.push_back(json::object{{"role", "assistant"}, {"content", std::move(parts)}});
  const std::string prompt = llama_guard_prompt(messages, {});
  EXPECT_NE(prompt.find("<BEGIN CONVERSATION>\n\nUser: hi\n\nAssistant: look <image>\n\n"),
            std::string::npos)
      << prompt;
}

TEST(LlamaGuardPrompt, MalformedMessagesAre400NamingTheField) {
  EXPECT_EQ(error_of([] { llama_guard_prompt(json::array{}, {}); }).status(), 400);
  ApiError e = error_of([] {
    llama_guard_prompt(json::array{json::object{{"content", "x"}}}, {});
  });
  EXPECT_EQ(e.status(), 400);
  EXPECT_NE(std::string(e.what()).find("messages[0].role"), std::string::npos) << e.what();
  e = error_of([] {
    llama_guard_prompt(json::array{json::object{{"role", "user"}, {"content", 5}}}, {});
  });
  EXPECT_EQ(e.status(), 400);
  EXPECT_NE(std::string(e.what()).find("messages[0].content"), std::string::npos) << e.what();
}

TEST(LlamaGuardVerdict, SafeUnsafeAndNeither) {
  EXPECT_FALSE(llama_guard_verdict(" safe\n", "g", {}).violation.has_value());
  auto v = llama_guard_verdict("unsafe\nS1,S10", "g", {}).violation;
  ASSERT_TRUE(v.has_value());
  EXPECT_EQ(v->violation_level, "error");
  EXPECT_EQ(v->metadata.at("violation_type"), "S1,S10");
  // Tolerant: codes on the same line, spaces, repeats.
  v = llama_guard_verdict("unsafe S3, S3 S11", "g", {}).violation;
  ASSERT_TRUE(v.has_value());
  EXPECT_EQ(v->metadata.at("violation_type"), "S3,S11");
  // Every code excluded: no violation; some excluded: still one.
  EXPECT_FALSE(llama_guard_verdict("unsafe\nS1", "g", {"S1"}).violation.has_value());
  EXPECT_TRUE(llama_guard_verdict("unsafe\nS1,S2", "g", {"S1"}).violation.has_value());
  // "unsafe" without a code still blocks.
  EXPECT_TRUE(llama_guard_verdict("unsafe", "g", {}).violation.has_value());
  ApiError e = error_of([] { llama_guard_verdict("I think it is fine", "my-shield", {}); });
  EXPECT_EQ(e.status(), 502);
  EXPECT_NE(std::string(e.what()).find("my-shield"), std::string::npos);
}

}  // namespace
}  // namespace llama_stack::providers::inline_

namespace llama_stack::providers::inline_ {
namespace {

json::object with_logprobs(json::array content) {
  return json::object{
      {"choices", json::array{json::object{{"logprobs", json::object{{"content", content}}}}}}};
}

TEST(LlamaGuardScores, UnsafeProbabilityFromTheFirstToken) {
  auto entry = [](const char* token, double p, json::array top = {}) {
    json::object e{{"token", token}, {"logprob", std::log(p)}};
    if (!top.empty()) e["top_logprobs"] = std::move(top);
    return e;
  };
  // Leading white-space tokens are skipped (Llama Guard 3 starts with "\n\n").
  auto p = llama_guard_unsafe_probability(
      with_logprobs(json::array{entry("\n\n", 0.99), entry("unsafe", 0.7)}));
  ASSERT_TRUE(p);
  EXPECT_NEAR(*p, 0.7, 1e-9);
  // "safe" first: the alternatives' "unsafe", else the rest of the mass.
  p = llama_guard_unsafe_probability(with_logprobs(
      json::array{entry("safe", 0.9, json::array{entry("safe", 0.9), entry(" unsafe", 0.08)})}));
  ASSERT_TRUE(p);
  EXPECT_NEAR(*p, 0.08, 1e-9);
  p = llama_guard_unsafe_probability(with_logprobs(json::array{entry("safe", 0.75)}));
  ASSERT_TRUE(p);
  EXPECT_NEAR(*p, 0.25, 1e-9);
  // No logprobs, or an answer that is neither: unknown.
  EXPECT_FALSE(llama_guard_unsafe_probability(json::object{{"choices", json::array{}}}));
  EXPECT_FALSE(llama_guard_unsafe_probability(with_logprobs(json::array{entry("maybe", 0.5)})));
  EXPECT_FALSE(llama_guard_unsafe_probability(
      json::object{{"choices", json::array{json::object{{"logprobs", nullptr}}}}}));
}

TEST(LlamaGuardScores, ModerationScoresUseTheProbability) {
  const auto verdict = llama_guard_verdict("unsafe\nS10", "g", {});
  const auto scored = llama_guard_moderation(verdict, "meta-llama/Llama-Guard-3-8B", 0.6);
  EXPECT_DOUBLE_EQ(scored.category_scores.at("Hate").as_double(), 0.6);
  EXPECT_DOUBLE_EQ(scored.category_scores.at("hate").as_double(), 0.6);
  EXPECT_DOUBLE_EQ(scored.category_scores.at("Elections").as_double(), 0.0);
  EXPECT_DOUBLE_EQ(scored.metadata.at("unsafe_probability").as_double(), 0.6);
  const auto plain = llama_guard_moderation(verdict, "meta-llama/Llama-Guard-3-8B");
  EXPECT_DOUBLE_EQ(plain.category_scores.at("Hate").as_double(), 1.0);
  EXPECT_FALSE(plain.metadata.contains("unsafe_probability"));
}

}  // namespace
}  // namespace llama_stack::providers::inline_
