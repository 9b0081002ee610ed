// Native Llama Stack requests (/v1/inference/*) → OpenAI requests, and the
// 400 (naming the field) for every malformed field the conversion reads.
#include <gtest/gtest.h>

#include "support/api_errors.h"

#include <functional>

#include "core/inference/native.h"
#include "core/util/api_error.h"

namespace llama_stack::inference {
namespace {

json::value parse(std::string_view text) {
  return parse_json(text);
}

json::array messages_of(const NativeRequest& r) {
  return r.openai.at("messages").as_array();
}

TEST(NativeChatRequest, MessagesOfEveryRole) {
  NativeRequest r = native_chat_request(parse(R"({
    "model_id": "m",
    "messages": [
      {"role": "system", "content": "be brief"},
      {"role": "user", "content": "what is the weather?"},
      {"role": "assistant", "content": "",
       "tool_calls": [
         {"call_id": "c1", "tool_name": "get_weather", "arguments": {"city": "Paris"}},
         {"call_id": "c2", "tool_name": "now", "arguments": {}, "arguments_json": "{\"tz\":\"UTC\"}"},
         {"call_id": "c3", "tool_name": "raw", "arguments": "{\"x\":1}"},
         {"call_id": "c4", "tool_name": "bare"}
       ]},
      {"role": "tool", "call_id": "c1", "content": "sunny"}
    ]})"));
  EXPECT_EQ(r.model_id, "m");
  EXPECT_FALSE(r.stream);
  EXPECT_EQ(json::value(messages_of(r)), parse(R"([
    {"role": "system", "content": "be brief"},
    {"role": "user", "content": "what is the weather?"},
    {"role": "assistant", "content": "", "tool_calls": [
      {"id": "c1", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}},
      {"id": "c2", "type": "function", "function": {"name": "now", "arguments": "{\"tz\":\"UTC\"}"}},
      {"id": "c3", "type": "function", "function": {"name": "raw", "arguments": "{\"x\":1}"}},
      {"id": "c4", "type": "function", "function": {"name": "bare", "arguments": "{}"}}
    ]},
    {"role": "tool", "content": "sunny", "tool_call_id": "c1"}
  ])"));
  EXPECT_EQ(r.openai.at("stream"), json::value(false));
  EXPECT_FALSE(r.openai.contains("stream_options"));
  EXPECT_FALSE(r.openai.contains("model"));
}

TEST(NativeChatRequest, InterleavedContent) {
  NativeRequest r = native_chat_request(parse(R"({
    "model_id": "m",
    "messages": [
      {"role": "user", "content": [{"type": "text", "text": "a"}, "b", {"type": "text", "text": "c"}]},
      {"role": "user", "content": {"type": "text", "text": "single"}},
      {"role": "user", "content": [
        {"type": "text", "text": "look"},
        {"type": "image", "image": {"url": {"uri": "https://x/cat.png"}}},
        {"type": "image", "image": {"data": "QUJD"}}
      ]},
      {"role": "user"}
    ]})"));
  const json::array m = messages_of(r);
  EXPECT_EQ(m[0].at("content"), json::value("abc"));
  EXPECT_EQ(m[1].at("content"), json::value("single"));
  EXPECT_EQ(m[2].at("content"), parse(R"([
    {"type": "text", "text": "look"},
    {"type": "image_url", "image_url": {"url": "https://x/cat.png"}},
    {"type": "image_url", "image_url": {"url": "data:image/png;base64,QUJD"}}
  ])"));
  EXPECT_EQ(m[3].at("content"), json::value(""));
}

TEST(NativeChatRequest, ToolDefinitionsAndToolChoice) {
  const char* body = R"({
    "model_id": "m",
    "messages": [{"role": "user", "content": "hi"}],
    "tools": [
      {"tool_name": "get_weather", "description": "Weather",
       "parameters": {
         "city": {"param_type": "str", "description": "City"},
         "days": {"param_type": "int", "required": false, "default": 1},
         "hot": {"param_type": "bool"}, "temp": {"param_type": "float"},
         "tags": {"param_type": "list"}, "meta": {"param_type": "dict"}, "any": {}
       }},
      {"tool_name": "now"}
    ]%s})";
  auto with = [&](std::string_view extra) {
    std::string text(body);
    text.replace(text.find("%s"), 2, extra);
    return native_chat_request(parse(text));
  };
  NativeRequest r = with("");
  EXPECT_EQ(json::value(r.openai.at("tools")), parse(R"([
    {"type": "function", "function": {"name": "get_weather", "description": "Weather",
      "parameters": {"type": "object", "properties": {
        "city": {"type": "string", "description": "City"},
        "days": {"type": "integer", "default": 1},
        "hot": {"type": "boolean"}, "temp": {"type": "number"},
        "tags": {"type": "array"}, "meta": {"type": "object"}, "any": {"type": "string"}},
        "required": ["city", "hot", "temp", "tags", "meta", "any"]}}},
    {"type": "function", "function": {"name": "now",
      "parameters": {"type": "object", "properties": {}, "required": []}}}
  ])"));
  EXPECT_FALSE(r.openai.contains("tool_choice"));

  EXPECT_EQ(with(R"(, "tool_choice": "required")").openai.at("tool_choice"),
            json::value("required"));
  EXPECT_EQ(with(R"(, "tool_config": {"tool_choice": "auto"})").openai.at("tool_choice"),
            json::value("auto"));
  EXPECT_EQ(with(R"(, "tool_choice": "now")").openai.at("tool_choice"),
            parse(R"({"type": "function", "function": {"name": "now"}})"));
  NativeRequest none = with(R"(, "tool_choice": "none")");
  EXPECT_FALSE(none.openai.contains("tools"));
  EXPECT_FALSE(none.openai.contains("tool_choice"));

  EXPECT_THROW(with(R"(, "tool_choice": "auto", "tool_config": {"tool_choice": "required"})"),
               ApiError);
  EXPECT_THROW(with(R"(, "tool_choice": "nope")"), ApiError);
}

TEST(NativeChatRequest, SamplingParams) {
  auto sampling = [](std::string_view params) {
    return native_chat_request(
               parse(R"({"model_id": "m", "messages": [{"role": "user", "content": "x"}],
                         "sampling_params": )" +
                     std::string(params) + "}"))
        .openai;
  };
  json::object greedy = sampling(R"({"strategy": {"type": "greedy"}, "max_tokens": 0})");
  EXPECT_EQ(greedy.at("temperature"), json::value(0.0));
  EXPECT_FALSE(greedy.contains("max_tokens")) << "max_tokens 0 means no limit";
  EXPECT_FALSE(sampling("{}").contains("temperature")) << "no strategy: the provider's default";

  json::object top_p = sampling(
      R"({"strategy": {"type": "top_p", "temperature": 0.7, "top_p": 0.9}, "max_tokens": 100,
          "repetition_penalty": 1.2, "stop": ["END"]})");
  EXPECT_EQ(top_p.at("temperature"), json::value(0.7));
  EXPECT_EQ(top_p.at("top_p"), json::value(0.9));
  EXPECT_EQ(top_p.at("max_tokens"), json::value(100));
  EXPECT_EQ(top_p.at("repetition_penalty"), json::value(1.2));
  EXPECT_EQ(top_p.at("stop"), parse(R"(["END"])"));
  EXPECT_EQ(sampling(R"({"strategy": {"type": "top_p", "temperature": 0.5}})").at("top_p"),
            json::value(0.95));

  json::object top_k = sampling(R"({"strategy": {"type": "top_k", "top_k": 40},
                                    "repetition_penalty": 1.0})");
  EXPECT_EQ(top_k.at("top_k"), json::value(40));
  EXPECT_FALSE(top_k.contains("temperature"));
  EXPECT_FALSE(top_k.contains("repetition_penalty")) << "1.0 is no penalty";
}

TEST(NativeChatRequest, ResponseFormatStreamAndLogprobs) {
  NativeRequest r = native_chat_request(parse(R"({
    "model_id": "m", "messages": [{"role": "user", "content": "x"}], "stream": true,
    "response_format": {"type": "json_schema", "json_schema": {"type": "object"}},
    "logprobs": {"top_k": 3}})"));
  EXPECT_TRUE(r.stream);
  EXPECT_EQ(r.openai.at("response_format"), parse(R"({"type": "json_schema",
                      "json_schema": {"name": "response", "schema": {"type": "object"}}})"));
  EXPECT_EQ(r.openai.at("stream"), json::value(true));
  EXPECT_EQ(r.openai.at("stream_options"), parse(R"({"include_usage": true})"));
  EXPECT_EQ(r.openai.at("logprobs"), json::value(true));
  EXPECT_EQ(r.openai.at("top_logprobs"), json::value(3));

  try {
    native_chat_request(parse(R"({"model_id": "m", "messages": [{"role": "user", "content": "x"}],
                                  "response_format": {"type": "grammar", "bnf": {}}})"));
    FAIL() << "grammar is not supported";
  } catch (const ApiError& e) {
    EXPECT_EQ(e.status(), 501);
  }
}

TEST(NativeCompletionRequest, ContentSamplingAndLogprobs) {
  NativeRequest r = native_completion_request(parse(R"({
    "model_id": "m", "content": [{"type": "text", "text": "Once "}, "upon"],
    "sampling_params": {"strategy": {"type": "top_k", "top_k": 5}, "max_tokens": 9},
    "logprobs": {"top_k": 2}, "stream": true})"));
  EXPECT_EQ(r.model_id, "m");
  EXPECT_EQ(r.openai.at("prompt"), json::value("Once upon"));
  EXPECT_EQ(r.openai.at("top_k"), json::value(5));
  EXPECT_EQ(r.openai.at("max_tokens"), json::value(9));
  EXPECT_EQ(r.openai.at("logprobs"), json::value(2));
  EXPECT_EQ(r.openai.at("stream_options"), parse(R"({"include_usage": true})"));
}

TEST(NativeEmbeddingsRequest, ContentsAndDimension) {
  NativeRequest r = native_embeddings_request(parse(R"({
    "model_id": "e", "contents": ["a", {"type": "text", "text": "b"}], "output_dimension": 4,
    "text_truncation": "end"})"));
  EXPECT_EQ(r.model_id, "e");
  EXPECT_EQ(r.openai.at("input"), parse(R"(["a", "b"])"));
  EXPECT_EQ(r.openai.at("dimensions"), json::value(4));
}

// --- malformed fields: 400, and the message names the field ---------------

using testing::error_of;

struct Malformed {
  const char* body;
  const char* path;  // must appear in the message
};

class NativeChatMalformed : public ::testing::TestWithParam<Malformed> {};

TEST_P(NativeChatMalformed, Is400NamingTheField) {
  const Malformed& m = GetParam();
  ApiError e = error_of([&] { native_chat_request(parse(m.body)); });
  EXPECT_EQ(e.status(), 400) << m.body << " → " << e.what();
  EXPECT_NE(std::string(e.what()).find(m.path), std::string::npos)
      << "'" << e.what() << "' does not name " << m.path;
}

#define MSG(x) R"({"model_id": "m", "messages": [{"role": "user", "content": "x"}, )" x "]}"
#define BODY(x) R"({"model_id": "m", "messages": [{"role": "user", "content": "x"}], )" x "}"

INSTANTIATE_TEST_SUITE_P(
    EveryField, NativeChatMalformed,
    ::testing::Values(
        Malformed{"[]", "body"}, Malformed{R"({"messages": []})", "model_id"},
        Malformed{R"({"model_id": 1, "messages": []})", "model_id"},
        Malformed{R"({"model_id": "m", "messages": []})", "messages"},
        Malformed{R"({"model_id": "m", "messages": {}})", "messages"},
        Malformed{BODY(R"("stream": "yes")"), "stream"}, Malformed{MSG("3"), "messages[1]"},
        Malformed{MSG(R"({"content": "x"})"), "messages[1].role"},
        Malformed{MSG(R"({"role": 5})"), "messages[1].role"},
        Malformed{MSG(R"({"role": "robot"})"), "messages[1].role"},
        Malformed{MSG(R"({"role": "user", "content": 5})"), "messages[1].content"},
        Malformed{MSG(R"({"role": "user", "content": [5]})"), "messages[1].content[0]"},
        Malformed{MSG(R"({"role": "user", "content": [{"text": "x"}]})"),
                  "messages[1].content[0].type"},
        Malformed{MSG(R"({"role": "user", "content": [{"type": "video"}]})"),
                  "messages[1].content[0].type"},
        Malformed{MSG(R"({"role": "user", "content": [{"type": "text"}]})"),
                  "messages[1].content[0].text"},
        Malformed{MSG(R"({"role": "user", "content": [{"type": "text", "text": 1}]})"),
                  "messages[1].content[0].text"},
        Malformed{MSG(R"({"role": "user", "content": [{"type": "image"}]})"),
                  "messages[1].content[0].image"},
        Malformed{MSG(R"({"role": "user", "content": [{"type": "image", "image": {}}]})"),
                  "messages[1].content[0].image"},
        Malformed{MSG(R"({"role": "user", "content": [{"type": "image", "image": {"url": "x"}}]})"),
                  "messages[1].content[0].image.url"},
        Malformed{MSG(R"({"role": "user", "content": [{"type": "image", "image": {"url": {}}}]})"),
                  "messages[1].content[0].image.url.uri"},
        Malformed{MSG(R"({"role": "user", "content": [{"type": "image", "image": {"data": 1}}]})"),
                  "messages[1].content[0].image.data"},
        Malformed{MSG(R"({"role": "tool", "content": "x"})"), "messages[1].call_id"},
        Malformed{MSG(R"({"role": "assistant", "tool_calls": {}})"), "messages[1].tool_calls"},
        Malformed{MSG(R"({"role": "assistant", "tool_calls": [1]})"), "messages[1].tool_calls[0]"},
        Malformed{MSG(R"({"role": "assistant", "tool_calls": [{"tool_name": "f"}]})"),
                  "messages[1].tool_calls[0].call_id"},
        Malformed{MSG(R"({"role": "assistant", "tool_calls": [{"call_id": "c"}]})"),
                  "messages[1].tool_calls[0].tool_name"},
        Malformed{MSG(R"({"role": "assistant", "tool_calls": [{"call_id": "c", "tool_name": 1}]})"),
                  "messages[1].tool_calls[0].tool_name"},
        Malformed{MSG(R"({"role": "assistant",
                          "tool_calls": [{"call_id": "c", "tool_name": "f", "arguments": 1}]})"),
                  "messages[1].tool_calls[0].arguments"},
        Malformed{MSG(R"({"role": "assistant",
                          "tool_calls": [{"call_id": "c", "tool_name": "f", "arguments_json": {}}]})"),
                  "messages[1].tool_calls[0].arguments_json"},
        Malformed{BODY(R"("sampling_params": 1)"), "sampling_params"},
        Malformed{BODY(R"("sampling_params": {"strategy": 1})"), "sampling_params.strategy"},
        Malformed{BODY(R"("sampling_params": {"strategy": {"type": 1}})"),
                  "sampling_params.strategy.type"},
        Malformed{BODY(R"("sampling_params": {"strategy": {"type": "beam"}})"),
                  "sampling_params.strategy.type"},
        Malformed{BODY(R"("sampling_params": {"strategy": {"type": "top_p"}})"),
                  "sampling_params.strategy.temperature"},
        Malformed{BODY(R"("sampling_params": {"strategy": {"type": "top_p", "temperature": "x"}})"),
                  "sampling_params.strategy.temperature"},
        Malformed{BODY(R"("sampling_params": {"strategy": {"type": "top_p", "temperature": 1,
                                                           "top_p": "x"}})"),
                  "sampling_params.strategy.top_p"},
        Malformed{BODY(R"("sampling_params": {"strategy": {"type": "top_k", "top_k": 0}})"),
                  "sampling_params.strategy.top_k"},
        Malformed{BODY(R"("sampling_params": {"max_tokens": "many"})"),
                  "sampling_params.max_tokens"},
        Malformed{BODY(R"("sampling_params": {"repetition_penalty": "x"})"),
                  "sampling_params.repetition_penalty"},
        Malformed{BODY(R"("sampling_params": {"stop": "END"})"), "sampling_params.stop"},
        Malformed{BODY(R"("sampling_params": {"stop": ["a", 1]})"), "sampling_params.stop[1]"},
        Malformed{BODY(R"("tools": {})"), "tools"}, Malformed{BODY(R"("tools": [1])"), "tools[0]"},
        Malformed{BODY(R"("tools": [{}])"), "tools[0].tool_name"},
        Malformed{BODY(R"("tools": [{"tool_name": "f", "description": 1}])"),
                  "tools[0].description"},
        Malformed{BODY(R"("tools": [{"tool_name": "f", "parameters": []}])"),
                  "tools[0].parameters"},
        Malformed{BODY(R"("tools": [{"tool_name": "f", "parameters": {"a": 1}}])"),
                  "tools[0].parameters.a"},
        Malformed{BODY(R"("tools": [{"tool_name": "f", "parameters": {"a": {"param_type": 1}}}])"),
                  "tools[0].parameters.a.param_type"},
        Malformed{BODY(R"("tools": [{"tool_name": "f", "parameters": {"a": {"required": "y"}}}])"),
                  "tools[0].parameters.a.required"},
        Malformed{BODY(R"("tool_choice": 1)"), "tool_choice"},
        Malformed{BODY(R"("tool_config": 1)"), "tool_config"},
        Malformed{BODY(R"("tool_config": {"tool_choice": 1})"), "tool_config.tool_choice"},
        Malformed{BODY(R"("response_format": "json")"), "response_format"},
        Malformed{BODY(R"("response_format": {})"), "response_format.type"},
        Malformed{BODY(R"("response_format": {"type": "yaml"})"), "response_format.type"},
        Malformed{BODY(R"("response_format": {"type": "json_schema"})"),
                  "response_format.json_schema"},
        Malformed{BODY(R"("response_format": {"type": "json_schema", "json_schema": "x"})"),
                  "response_format.json_schema"},
        Malformed{BODY(R"("logprobs": true)"), "logprobs"},
        Malformed{BODY(R"("logprobs": {"top_k": "x"})"), "logprobs.top_k"}));

TEST(NativeCompletionRequest, MalformedFieldsAre400NamingTheField) {
  const Malformed cases[] = {
      {R"({"content": "x"})", "model_id"},
      {R"({"model_id": "m"})", "content"},
      {R"({"model_id": "m", "content": 5})", "content"},
      {R"({"model_id": "m", "content": [{"type": "image", "image": {"data": "QQ=="}}]})",
       "content"},
      {R"({"model_id": "m", "content": "x", "stream": 1})", "stream"},
      {R"({"model_id": "m", "content": "x", "sampling_params": {"max_tokens": []}})",
       "sampling_params.max_tokens"},
      {R"({"model_id": "m", "content": "x", "response_format": {"type": 1}})",
       "response_format.type"},
      {R"({"model_id": "m", "content": "x", "logprobs": {"top_k": true}})", "logprobs.top_k"},
  };
  for (const auto& m : cases) {
    ApiError e = error_of([&] { native_completion_request(parse(m.body)); });
    EXPECT_EQ(e.status(), 400) << m.body << " → " << e.what();
    EXPECT_NE(std::string(e.what()).find(m.path), std::string::npos) << e.what();
  }
}

TEST(NativeEmbeddingsRequest, MalformedFieldsAre400NamingTheField) {
  const Malformed cases[] = {
      {R"({"contents": ["a"]})", "model_id"},
      {R"({"model_id": "e"})", "contents"},
      {R"({"model_id": "e", "contents": []})", "contents"},
      {R"({"model_id": "e", "contents": "a"})", "contents"},
      {R"({"model_id": "e", "contents": ["a", 1]})", "contents[1]"},
      {R"({"model_id": "e", "contents": ["a"], "output_dimension": "x"})", "output_dimension"},
      {R"({"model_id": "e", "contents": ["a"], "text_truncation": 1})", "text_truncation"},
      {R"({"model_id": "e", "contents": ["a"], "text_truncation": "middle"})", "text_truncation"},
  };
  for (const auto& m : cases) {
    ApiError e = error_of([&] { native_embeddings_request(parse(m.body)); });
    EXPECT_EQ(e.status(), 400) << m.body << " → " << e.what();
    EXPECT_NE(std::string(e.what()).find(m.path), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace llama_stack::inference
