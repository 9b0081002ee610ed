// OpenAI responses and chunks (what providers return) → native Llama Stack
// responses and stream events; malformed provider output is a 502 naming the
// field.
#include <gtest/gtest.h>

#include "support/api_errors.h"

#include <functional>

#include "core/inference/native.h"
#include "core/util/api_error.h"

namespace llama_stack::inference {
namespace {

json::object obj(std::string_view text) {
  return parse_json(text).as_object();
}

json::value parse(std::string_view text) {
  return parse_json(text);
}

TEST(StopReason, FromFinishReason) {
  EXPECT_EQ(stop_reason_of("stop"), "end_of_turn");
  EXPECT_EQ(stop_reason_of("length"), "out_of_tokens");
  EXPECT_EQ(stop_reason_of("tool_calls"), "end_of_message");
  EXPECT_EQ(stop_reason_of("function_call"), "end_of_message");
  EXPECT_EQ(stop_reason_of("content_filter"), "end_of_turn");
}

TEST(NativeMetrics, FromUsage) {
  json::value usage = parse(R"({"prompt_tokens": 3, "completion_tokens": 4, "total_tokens": 7})");
  EXPECT_EQ(json::value(*native_metrics(&usage)), parse(R"([
    {"metric": "prompt_tokens", "value": 3, "unit": null},
    {"metric": "completion_tokens", "value": 4, "unit": null},
    {"metric": "total_tokens", "value": 7, "unit": null}])"));
  json::value partial = parse(R"({"prompt_tokens": 3, "total_tokens": "x"})");
  EXPECT_EQ(json::value(*native_metrics(&partial)).as_array()[1].at("value"), json::value(0));
  EXPECT_FALSE(native_metrics(nullptr).has_value());
  json::value not_object = parse("[]");
  EXPECT_FALSE(native_metrics(&not_object).has_value());
}

TEST(NativeChatResponse, TextAndFinishReasons) {
  json::object r = native_chat_response(obj(R"({
    "id": "x", "object": "chat.completion",
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hi!"},
                 "finish_reason": "length"}],
    "usage": {"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3}})"));
  EXPECT_EQ(json::value(r), parse(R"({
    "metrics": [{"metric": "prompt_tokens", "value": 1, "unit": null},
                {"metric": "completion_tokens", "value": 2, "unit": null},
                {"metric": "total_tokens", "value": 3, "unit": null}],
    "completion_message": {"role": "assistant", "content": "Hi!", "stop_reason": "out_of_tokens",
                           "tool_calls": []},
    "logprobs": null})"));
  json::object bare = native_chat_response(obj(R"({"choices": [{"message": {"content": null}}]})"));
  EXPECT_EQ(bare.at("metrics"), json::value(nullptr));
  EXPECT_EQ(bare.at("completion_message").at("content"), json::value(""));
  EXPECT_EQ(bare.at("completion_message").at("stop_reason"), json::value("end_of_turn"));
}

TEST(NativeChatResponse, ToolCalls) {
  json::object r = native_chat_response(obj(R"({
    "choices": [{"message": {"role": "assistant", "content": null, "tool_calls": [
      {"id": "c1", "type": "function", "function": {"name": "get_weather",
                                                    "arguments": "{\"location\":\"Paris\"}"}},
      {"id": "c2", "type": "function", "function": {"name": "broken", "arguments": "{oops"}},
      {"type": "function", "function": {"name": "obj", "arguments": {"a": 1}}},
      {"id": "c4", "function": {"name": "none"}}
    ]}, "finish_reason": "tool_calls"}]})"));
  const auto& message = r.at("completion_message");
  EXPECT_EQ(message.at("stop_reason"), json::value("end_of_message"));
  EXPECT_EQ(message.at("tool_calls"), parse(R"([
    {"call_id": "c1", "tool_name": "get_weather", "arguments": {"location": "Paris"},
     "arguments_json": "{\"location\":\"Paris\"}"},
    {"call_id": "c2", "tool_name": "broken", "arguments": "{oops", "arguments_json": "{oops"},
    {"call_id": "", "tool_name": "obj", "arguments": {"a": 1}, "arguments_json": "{\"a\":1}"},
    {"call_id": "c4", "tool_name": "none", "arguments": {}, "arguments_json": "{}"}])"));
}

TEST(NativeCompletionResponse, TextStopReasonAndMetrics) {
  json::object r = native_completion_response(obj(R"({
    "choices": [{"text": "Once", "finish_reason": "stop"}],
    "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}})"));
  EXPECT_EQ(r.at("content"), json::value("Once"));
  EXPECT_EQ(r.at("stop_reason"), json::value("end_of_turn"));
  EXPECT_EQ(r.at("metrics").as_array().size(), 3u);
}

TEST(NativeEmbeddingsResponse, Vectors) {
  json::object r = native_embeddings_response(obj(R"({"object": "list", "data": [
    {"object": "embedding", "index": 0, "embedding": [0.5, 1]},
    {"object": "embedding", "index": 1, "embedding": [2]}]})"));
  EXPECT_EQ(json::value(r), parse(R"({"embeddings": [[0.5, 1], [2]]})"));
}

TEST(EmbeddingBase64, LittleEndianFloat32) {
  // 1.0f = 0x3f800000 → bytes 00 00 80 3f; 2.0f = 0x40000000 → 00 00 00 40.
  EXPECT_EQ(embedding_base64(parse("[1.0, 2]").as_array()),
            base64_encode(std::string("\x00\x00\x80\x3f\x00\x00\x00\x40", 8)));
  EXPECT_EQ(embedding_base64(json::array{}), "");
}

// Collects the events of a stream fed `chunks` (JSON texts), then finished.
std::vector<json::object> chat_events(std::initializer_list<std::string_view> chunks) {
  NativeChatStream stream;
  std::vector<json::object> events;
  for (auto c : chunks) {
    for (auto& e : stream.on_chunk(obj(c))) events.push_back(std::move(e));
  }
  for (auto& e : stream.finish()) events.push_back(std::move(e));
  return events;
}

std::string type_of(const json::object& e) {
  return std::string(e.at("event").at("event_type").as_string());
}

TEST(NativeChatStream, StartProgressCompleteWithMetrics) {
  auto events = chat_events({
      R"({"choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}}]})",
      R"({"choices": [{"index": 0, "delta": {"content": "Hel"}}]})",
      R"({"choices": [{"index": 0, "delta": {"content": "lo"}, "finish_reason": null}]})",
      R"({"choices": [{"index": 0, "delta": {}, "finish_reason": "length"}]})",
      R"({"choices": [], "usage": {"prompt_tokens": 2, "completion_tokens": 2, "total_tokens": 4}})",
  });
  ASSERT_EQ(events.size(), 4u);
  EXPECT_EQ(json::value(events[0]), parse(R"({"metrics": null, "event": {"event_type": "start",
    "delta": {"type": "text", "text": ""}, "logprobs": null, "stop_reason": null}})"));
  EXPECT_EQ(type_of(events[1]), "progress");
  EXPECT_EQ(events[1].at("event").at("delta"), parse(R"({"type": "text", "text": "Hel"})"));
  EXPECT_EQ(events[2].at("event").at("delta").at("text"), json::value("lo"));
  EXPECT_EQ(type_of(events[3]), "complete");
  EXPECT_EQ(events[3].at("event").at("stop_reason"), json::value("out_of_tokens"));
  EXPECT_EQ(events[3].at("metrics").as_array()[2],
            parse(R"({"metric": "total_tokens", "value": 4, "unit": null})"));
}

TEST(NativeChatStream, ToolCallDeltasAssembledAtTheEnd) {
  auto events = chat_events({
      R"({"choices": [{"delta": {"role": "assistant", "content": null, "tool_calls": [
         {"index": 0, "id": "c1", "type": "function",
          "function": {"name": "get_", "arguments": ""}}]}}]})",
      R"({"choices": [{"delta": {"tool_calls": [
         {"index": 0, "function": {"name": "weather", "arguments": "{\"loc"}}]}}]})",
      R"({"choices": [{"delta": {"tool_calls": [
         {"index": 1, "id": "c2", "function": {"name": "bad", "arguments": "{no"}},
         {"index": 0, "function": {"arguments": "ation\":\"Paris\"}"}}]}}]})",
      R"({"choices": [{"delta": {}, "finish_reason": "tool_calls"}]})",
  });
  ASSERT_EQ(events.size(), 4u);
  EXPECT_EQ(type_of(events[0]), "start");
  EXPECT_EQ(json::value(events[1]), parse(R"({"metrics": null, "event": {
    "event_type": "progress",
    "delta": {"type": "tool_call", "parse_status": "succeeded",
              "tool_call": {"call_id": "c1", "tool_name": "get_weather",
                            "arguments": {"location": "Paris"},
                            "arguments_json": "{\"location\":\"Paris\"}"}},
    "logprobs": null, "stop_reason": "end_of_message"}})"));
  EXPECT_EQ(events[2].at("event").at("delta"),
            parse(R"({"type": "tool_call", "tool_call": "{no", "parse_status": "failed"})"));
  EXPECT_EQ(type_of(events[3]), "complete");
  EXPECT_EQ(events[3].at("event").at("stop_reason"), json::value("end_of_message"));
  EXPECT_EQ(events[3].at("metrics"), json::value(nullptr)) << "no usage chunk, no metrics";
}

TEST(NativeChatStream, AnEmptyStreamStillStartsAndCompletes) {
  auto events = chat_events({});
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(type_of(events[0]), "start");
  EXPECT_EQ(type_of(events[1]), "complete");
  EXPECT_EQ(events[1].at("event").at("stop_reason"), json::value("end_of_turn"));
}

TEST(NativeCompletionStream, DeltasThenTheStopReasonAndMetrics) {
  NativeCompletionStream stream;
  std::vector<json::object> events;
  for (auto c : {R"({"choices": [{"text": "Once"}]})", R"({"choices": [{"text": ""}]})",
                 R"({"choices": [{"text": " upon", "finish_reason": "length"}]})",
                 R"({"choices": [], "usage": {"prompt_tokens": 1, "completion_tokens": 2}})"}) {
    for (auto& e : stream.on_chunk(obj(c))) events.push_back(std::move(e));
  }
  for (auto& e : stream.finish()) events.push_back(std::move(e));
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(json::value(events[0]), parse(R"({"metrics": null, "delta": "Once",
                                               "stop_reason": null, "logprobs": null})"));
  EXPECT_EQ(events[1].at("delta"), json::value(" upon"));
  EXPECT_EQ(events[2].at("delta"), json::value(""));
  EXPECT_EQ(events[2].at("stop_reason"), json::value("out_of_tokens"));
  EXPECT_EQ(events[2].at("metrics").as_array()[1].at("value"), json::value(2));
}

// --- malformed provider output: 502, and the message names the field -------

using testing::error_of;

struct Malformed {
  const char* response;
  const char* path;
};

void expect_502(const std::function<void()>& f, const Malformed& m) {
  ApiError e = error_of(f);
  EXPECT_EQ(e.status(), 502) << m.response << " → " << e.what();
  EXPECT_NE(std::string(e.what()).find(m.path), std::string::npos)
      << "'" << e.what() << "' does not name " << m.path;
}

TEST(NativeChatResponse, MalformedUpstreamIs502NamingTheField) {
  const Malformed cases[] = {
      {R"({})", "choices"},
      {R"({"choices": {}})", "choices"},
      {R"({"choices": []})", "choices"},
      {R"({"choices": [1]})", "choices[0]"},
      {R"({"choices": [{}]})", "choices[0].message"},
      {R"({"choices": [{"message": "hi"}]})", "choices[0].message"},
      {R"({"choices": [{"message": {"tool_calls": {}}}]})", "choices[0].message.tool_calls"},
      {R"({"choices": [{"message": {"tool_calls": [1]}}]})", "choices[0].message.tool_calls[0]"},
      {R"({"choices": [{"message": {"tool_calls": [{"id": "c"}]}}]})",
       "choices[0].message.tool_calls[0].function"},
      {R"({"choices": [{"message": {"tool_calls": [{"function": []}]}}]})",
       "choices[0].message.tool_calls[0].function"},
      {R"({"choices": [{"message": {"tool_calls": [{"function": {}}]}}]})",
       "choices[0].message.tool_calls[0].function.name"},
      {R"({"choices": [{"message": {"tool_calls": [{"function": {"name": 1}}]}}]})",
       "choices[0].message.tool_calls[0].function.name"},
      {R"({"choices": [{"message": {"tool_calls": [{"id": 7, "function": {"name": "f"}}]}}]})",
       "choices[0].message.tool_calls[0].id"},
  };
  for (const auto& m : cases) expect_502([&] { native_chat_response(obj(m.response)); }, m);
}

TEST(NativeCompletionAndEmbeddingsResponse, MalformedUpstreamIs502NamingTheField) {
  for (const Malformed& m : std::initializer_list<Malformed>{
           {R"({"choices": []})", "choices"}, {R"({"choices": ["x"]})", "choices[0]"}}) {
    expect_502([&] { native_completion_response(obj(m.response)); }, m);
  }
  for (const Malformed& m : std::initializer_list<Malformed>{
           {R"({})", "data"},
           {R"({"data": {}})", "data"},
           {R"({"data": [1]})", "data[0]"},
           {R"({"data": [{}]})", "data[0].embedding"},
           {R"({"data": [{"embedding": "AAAA"}]})", "data[0].embedding"}}) {
    expect_502([&] { native_embeddings_response(obj(m.response)); }, m);
  }
  expect_502([] { embedding_base64(parse(R"([1, "x"])").as_array()); },
             {"[1, \"x\"]", "embedding[1]"});
}

TEST(NativeStreams, MalformedChunksAre502NamingTheField) {
  const Malformed chat_cases[] = {
      {R"({"choices": {}})", "choices"},
      {R"({"choices": [1]})", "choices[0]"},
      {R"({"choices": [{"delta": 1}]})", "choices[0].delta"},
      {R"({"choices": [{"delta": {"tool_calls": {}}}]})", "choices[0].delta.tool_calls"},
      {R"({"choices": [{"delta": {"tool_calls": [1]}}]})", "choices[0].delta.tool_calls[0]"},
      {R"({"choices": [{"delta": {"tool_calls": [{"index": "0"}]}}]})",
       "choices[0].delta.tool_calls[0].index"},
      {R"({"choices": [{"delta": {"tool_calls": [{"id": 1}]}}]})",
       "choices[0].delta.tool_calls[0].id"},
      {R"({"choices": [{"delta": {"tool_calls": [{"function": 1}]}}]})",
       "choices[0].delta.tool_calls[0].function"},
      {R"({"choices": [{"delta": {"tool_calls": [{"function": {"arguments": {}}}]}}]})",
       "choices[0].delta.tool_calls[0].function.arguments"},
  };
  for (const auto& m : chat_cases) {
    NativeChatStream stream;
    expect_502([&] { stream.on_chunk(obj(m.response)); }, m);
  }
  for (const Malformed& m : std::initializer_list<Malformed>{
           {R"({"choices": {}})", "choices"}, {R"({"choices": [[]]})", "choices[0]"}}) {
    NativeCompletionStream stream;
    expect_502([&] { stream.on_chunk(obj(m.response)); }, m);
  }
}

}  // namespace
}  // namespace llama_stack::inference
