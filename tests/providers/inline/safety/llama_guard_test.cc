// Llama Guard 3 prompt and verdict (inline::llama-guard), as Llama Stack builds them.
#include "providers/inline/safety/llama_guard.h"

#include <gtest/gtest.h>

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
