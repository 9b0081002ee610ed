// Content-safety enforcement (core/routing/content_safety.h) without HTTP: a
// scripted shield and a scripted generation, so the level arithmetic, the
// input/output checks and the stream windows are seen exactly.
#include "core/routing/content_safety.h"

#include <gtest/gtest.h>

#include "core/routing/inference_router.h"
#include "llama_stack/async/spawn.h"
#include "support/api_errors.h"

namespace llama_stack::routing {
namespace {

using security::SafetyLevel;

apis::ShieldAssessment flagged(std::map<std::string, double> scores) {
  apis::ShieldAssessment a;
  a.violation = apis::SafetyViolation{"error", "no", {}};
  a.scores = std::move(scores);
  return a;
}

TEST(ContentSafetyLevels, FamiliesAreScoredAgainstTheLevelsMaximum) {
  const SafetyLevel basic{0.3, 0.2, 0.2, {"illegal", "harmful"}};
  const SafetyLevel premium{0.5, 0.4, 0.4, {"illegal"}};
  const SafetyLevel research{0.8, 0.7, 0.7, {}};
  const auto violent = flagged({{"S1", 0.4}});
  EXPECT_EQ(violated_categories(basic, violent), std::vector<std::string>{"violence"});
  EXPECT_TRUE(violated_categories(premium, violent).empty());
  EXPECT_TRUE(violated_categories(research, violent).empty());
  // S9 is violence and illegal; S10 hate.
  EXPECT_EQ(violated_categories(premium, flagged({{"S9", 0.45}})),
            std::vector<std::string>{"illegal"});
  EXPECT_EQ(violated_categories(research, flagged({{"S10", 0.9}, {"S1", 0.1}})),
            std::vector<std::string>{"hate"});
  // Blocked categories by family or by the shield's own code.
  EXPECT_EQ(violated_categories(basic, flagged({{"S7", 0.1}})),
            std::vector<std::string>{"harmful"});
  EXPECT_TRUE(violated_categories(premium, flagged({{"S7", 0.1}})).empty());
  const SafetyLevel by_code{1.0, 1.0, 1.0, {"weak-hash"}};
  EXPECT_EQ(violated_categories(by_code, flagged({{"weak-hash", 1.0}})),
            std::vector<std::string>{"weak-hash"});
  // Flagged without any code: harmful; nothing flagged: allowed by any level.
  EXPECT_EQ(violated_categories(basic, flagged({})), std::vector<std::string>{"harmful"});
  EXPECT_TRUE(violated_categories(SafetyLevel{}, apis::ShieldAssessment{}).empty());
  // A level without maximums blocks any flagged score of the family.
  EXPECT_EQ(violated_categories(SafetyLevel{}, flagged({{"S12", 0.01}})),
            std::vector<std::string>{"sexual"});
}

TEST(ContentSafetyLevels, CategoryFamilies) {
  using V = std::vector<std::string_view>;
  EXPECT_EQ(families_of_category("S1"), V{"violence"});
  EXPECT_EQ(families_of_category("S4"), (V{"sexual", "illegal"}));
  EXPECT_EQ(families_of_category("S11"), (V{"violence", "harmful"}));
  EXPECT_EQ(families_of_category("HATE"), V{"hate"});
  EXPECT_EQ(families_of_category("MISCONDUCT"), V{"illegal"});
  EXPECT_EQ(families_of_category("PROMPT_ATTACK"), V{"harmful"});
}

// A shield that flags the last message when it contains "bad" (S1, 0.9) and
// records what it was asked.
class ScriptedSafety final : public apis::SafetyApi {
 public:
  std::vector<json::array> asked;
  bool fail = false;

  async::Task<apis::RunShieldResponse> run_shield(const apis::CallContext&, const std::string&,
                                                  json::array, json::object) override {
    co_return apis::RunShieldResponse{};
  }
  async::Task<apis::ModerationObject> moderate(const apis::CallContext&, std::vector<std::string>,
                                               std::optional<std::string>) override {
    co_return apis::ModerationObject{};
  }
  async::Task<apis::ShieldAssessment> assess(const apis::CallContext&, const std::string&,
                                             json::array messages) override {
    if (fail) throw ApiError::unavailable("guard down");
    asked.push_back(messages);
    const auto& last = messages.back().as_object();
    const std::string text = json::value_to<std::string>(last.at("content"));
    if (text.find("bad") != std::string::npos) co_return flagged({{"S1", 0.9}});
    co_return apis::ShieldAssessment{};
  }
};

security::ContentSafetySettings settings(std::size_t window) {
  security::ContentSafetySettings s = security::default_content_safety();
  s.enforce = true;
  s.shields = {"guard"};
  s.stream_window_chars = window;
  s.levels["output_only"] = SafetyLevel{0.0, 0.0, 0.0, {}, /*check_input=*/false, true};
  s.level_scopes.emplace_back("output_only_access", "output_only");
  return s;
}

json::object chunk(const std::string& text) {
  return json::object{{"id", "c1"},
                      {"object", "chat.completion.chunk"},
                      {"created", 7},
                      {"model", "m"},
                      {"choices", json::array{json::object{
                                      {"index", 0}, {"delta", json::object{{"content", text}}}}}}};
}

// A generation streaming `pieces` (or answering them joined, not streamed).
struct ScriptedGeneration {
  std::vector<std::string> pieces;
  int calls = 0;
  bool saw_stop = false;

  ContentSafety::Generate fn() {
    return [this](const apis::CallContext& context, json::object request,
                  apis::ChunkSink sink) -> async::Task<json::object> {
      ++calls;
      std::string all;
      for (const auto& p : pieces) {
        if (sink) sink(chunk(p));
        all += p;
      }
      saw_stop = context.stop.stop_requested();
      json::object message{{"role", "assistant"}, {"content", all}};
      co_return json::object{
          {"object", "chat.completion"},
          {"model", request["model"]},
          {"choices", json::array{json::object{{"index", 0}, {"message", message}}}}};
    };
  }
};

struct Outcome {
  std::optional<ContentSafety::Guarded> guarded;
  std::optional<ApiError> error;
  std::vector<json::object> sent;
};

Outcome run(const ContentSafety& safety, ScriptedGeneration& generation, const std::string& scope,
            const std::string& text, bool stream) {
  Outcome out;
  apis::CallContext context;
  if (!scope.empty()) context.scopes = {scope};
  json::object request{{"model", "m"},
                       {"messages", json::array{json::object{{"role", "user"}, {"content", text}}}},
                       {"stream", stream}};
  apis::ChunkSink sink = [&out](json::object c) { out.sent.push_back(std::move(c)); };
  auto body = [&]() -> async::Task<void> {
    try {
      auto guarded = safety.run(InferenceKind::kChat, context, "m", std::move(request),
                                std::move(sink), generation.fn());
      out.guarded = co_await std::move(guarded);
    } catch (const ApiError& e) {
      out.error = e;
    }
  };
  bool finished = false;
  async::spawn(body(), [&](std::exception_ptr error) {
    finished = true;
    if (!error) return;
    try {
      std::rethrow_exception(error);
    } catch (const std::exception& e) {
      ADD_FAILURE() << "unexpected exception: " << e.what();
    }
  });
  EXPECT_TRUE(finished) << "the scripted run completes synchronously";
  return out;
}

TEST(ContentSafetyRun, AnInputViolationIs400ContentFilterAndCancelsTheGeneration) {
  ScriptedSafety shield;
  ContentSafety safety(settings(100), shield, nullptr);
  ScriptedGeneration generation{{"fine"}};
  Outcome r = run(safety, generation, "", "a bad question", false);
  ASSERT_TRUE(r.error);
  EXPECT_EQ(r.error->status(), 400);
  EXPECT_EQ(r.error->code(), "content_filter");
  EXPECT_NE(std::string(r.error->what()).find("basic_user"), std::string::npos);
  EXPECT_EQ(generation.calls, 1);  // started alongside the check
}

TEST(ContentSafetyRun, TheOutputIsJudgedWithTheConversation) {
  ScriptedSafety shield;
  ContentSafety safety(settings(100), shield, nullptr);
  ScriptedGeneration generation{{"a bad answer"}};
  Outcome r = run(safety, generation, "", "a question", false);
  ASSERT_TRUE(r.error);
  EXPECT_EQ(r.error->code(), "content_filter");
  ASSERT_EQ(shield.asked.size(), 2u);  // input, then output
  EXPECT_EQ(shield.asked[1].size(), 2u);
  EXPECT_EQ(shield.asked[1][1].at("role"), "assistant");

  ScriptedGeneration fine{{"a good answer"}};
  Outcome ok = run(safety, fine, "", "a question", false);
  ASSERT_TRUE(ok.guarded) << (ok.error ? ok.error->what() : "");
  EXPECT_FALSE(ok.guarded->filtered);
}

TEST(ContentSafetyRun, StreamsAreReleasedInJudgedWindows) {
  ScriptedSafety shield;
  ContentSafety safety(settings(10), shield, nullptr);
  // Windows of >= 10 characters: "0123456789" passes, "abcdefghij" passes,
  // "bad…" is flagged: the third window is never sent.
  ScriptedGeneration generation{{"01234", "56789", "abcde", "fghij", "bad", " end"}};
  Outcome r = run(safety, generation, "output_only_access", "q", true);
  ASSERT_TRUE(r.guarded) << (r.error ? r.error->what() : "");
  EXPECT_TRUE(r.guarded->filtered);
  ASSERT_EQ(r.sent.size(), 5u);
  std::string text;
  for (std::size_t i = 0; i + 1 < r.sent.size(); ++i) {
    text += json::value_to<std::string>(r.sent[i].at("choices").at(0).at("delta").at("content"));
  }
  EXPECT_EQ(text, "0123456789abcdefghij");
  const auto& last = r.sent.back();
  EXPECT_EQ(last.at("id"), "c1");
  EXPECT_EQ(last.at("choices").at(0).at("finish_reason"), "content_filter");
  // Each window was judged with the one before it as context.
  ASSERT_EQ(shield.asked.size(), 3u);  // output_only: no input check
  EXPECT_EQ(shield.asked[2][1].at("content"), "abcdefghijbad end");
}

TEST(ContentSafetyRun, AGuardFailureFailsClosed) {
  ScriptedSafety shield;
  shield.fail = true;
  ContentSafety safety(settings(10), shield, nullptr);
  ScriptedGeneration generation{{"hello"}};
  for (bool stream : {false, true}) {
    Outcome r = run(safety, generation, "", "q", stream);
    ASSERT_TRUE(r.error);
    EXPECT_EQ(r.error->status(), 503);
    EXPECT_TRUE(r.sent.empty()) << "nothing unchecked is sent";
  }
}

TEST(ContentSafetyRun, GuardCallsAreExempt) {
  ScriptedSafety shield;
  ContentSafety safety(settings(10), shield, nullptr);
  apis::CallContext guard;
  guard.content_safety_exempt = true;
  EXPECT_FALSE(safety.applies(guard));
  EXPECT_TRUE(safety.applies(apis::CallContext{}));
}

}  // namespace
}  // namespace llama_stack::routing
