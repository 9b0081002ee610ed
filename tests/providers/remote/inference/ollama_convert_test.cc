// remote::ollama's conversions: OpenAI requests → /api/chat, /api/generate,
// /api/embed bodies (400 naming every malformed field) and Ollama's answers
// and NDJSON records → OpenAI responses and chunks (502 naming the field).
#include "providers/remote/inference/ollama_convert.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/api_errors.h"

#include <functional>

#include "core/util/api_error.h"

namespace llama_stack::providers::remote::ollama {
namespace {

using ::testing::MatchesRegex;

json::object obj(std::string_view text) {
  return parse_json(text).as_object();
}

json::value parse(std::string_view text) {
  return parse_json(text);
}

const ResponseIds kIds{"ollama", "llama3.2:3b", "chatcmpl-1", 1700000000};

TEST(OllamaChatRequest, MessagesOfEveryRole) {
  json::object body = chat_request(obj(R"({
    "model": "llama3.2:3b",
    "messages": [
      {"role": "developer", "content": "be brief"},
      {"role": "system", "content": [{"type": "text", "text": "one"}, {"type": "text", "text": "two"}]},
      {"role": "user", "content": [
        {"type": "text", "text": "what is this?"},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,QUJD"}}]},
      {"role": "assistant", "content": null, "tool_calls": [
        {"id": "c1", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}},
        {"id": "c2", "type": "function", "function": {"name": "now", "arguments": {"tz": "UTC"}}},
        {"id": "c3", "type": "function", "function": {"name": "bare"}}]},
      {"role": "tool", "tool_call_id": "c1", "name": "get_weather", "content": "sunny"},
      {"role": "user"}
    ]})"));
  EXPECT_EQ(body.at("model"), json::value("llama3.2:3b"));
  EXPECT_EQ(body.at("stream"), json::value(false));
  EXPECT_EQ(body.at("options"), json::value(json::object{}));
  EXPECT_EQ(body.at("messages"), parse(R"([
    {"role": "system", "content": "be brief"},
    {"role": "system", "content": "one\ntwo"},
    {"role": "user", "content": "what is this?", "images": ["QUJD"]},
    {"role": "assistant", "content": "", "tool_calls": [
      {"function": {"name": "get_weather", "arguments": {"city": "Paris"}}},
      {"function": {"name": "now", "arguments": {"tz": "UTC"}}},
      {"function": {"name": "bare", "arguments": {}}}]},
    {"role": "tool", "content": "sunny", "tool_name": "get_weather"},
    {"role": "user", "content": ""}
  ])"));
  EXPECT_FALSE(body.contains("tools"));
  EXPECT_FALSE(body.contains("format"));
}

TEST(OllamaChatRequest, SamplingOptions) {
  json::object options = convert_options(obj(R"({
    "temperature": 0.2, "top_p": 0.9, "top_k": 40, "seed": 7, "frequency_penalty": 0.1,
    "presence_penalty": 0, "repetition_penalty": 1.1, "max_tokens": 3, "stop": "END"})"));
  EXPECT_EQ(json::value(options), parse(R"({
    "temperature": 0.2, "top_p": 0.9, "top_k": 40, "seed": 7, "frequency_penalty": 0.1,
    "presence_penalty": 0, "repeat_penalty": 1.1, "num_predict": 3, "stop": ["END"]})"));
  // max_completion_tokens wins over max_tokens; integral doubles become integers.
  json::object o2 = convert_options(
      obj(R"({"max_tokens": 3, "max_completion_tokens": 5.0, "stop": ["a", "b"]})"));
  EXPECT_TRUE(o2.at("num_predict").is_int64());
  EXPECT_EQ(o2.at("num_predict"), json::value(5));
  EXPECT_EQ(o2.at("stop"), parse(R"(["a", "b"])"));
}

TEST(OllamaChatRequest, ToolsToolChoiceFormatAndStream) {
  const char* tools = R"([{"type": "function", "function": {"name": "get_weather",
      "parameters": {"type": "object", "properties": {"location": {"type": "string"}}}}}])";
  auto request = [&](std::string_view extra) {
    return obj(R"({"model": "m", "messages": [{"role": "user", "content": "x"}], "tools": )" +
               std::string(tools) + std::string(extra) + "}");
  };
  EXPECT_EQ(chat_request(request("")).at("tools"), parse(tools));
  EXPECT_EQ(chat_request(request(R"(, "tool_choice": "auto")")).at("tools"), parse(tools));
  EXPECT_FALSE(chat_request(request(R"(, "tool_choice": "none")")).contains("tools"));
  EXPECT_FALSE(chat_request(obj(R"({"model": "m", "messages": [{"role": "user", "content": "x"}],
                                    "tools": []})"))
                   .contains("tools"));

  EXPECT_EQ(format_of(obj(R"({"response_format": {"type": "json_object"}})")), json::value("json"));
  EXPECT_EQ(format_of(obj(R"({"response_format": {"type": "json_schema",
                               "json_schema": {"name": "r", "schema": {"type": "object"}}}})")),
            parse(R"({"type": "object"})"));
  EXPECT_EQ(format_of(obj(R"({"response_format": {"type": "json_schema", "json_schema": {}}})")),
            json::value("json"));
  EXPECT_EQ(format_of(obj(R"({"response_format": {"type": "text"}})")), json::value(nullptr));
  EXPECT_EQ(format_of(obj("{}")), json::value(nullptr));
  EXPECT_EQ(chat_request(request(R"(, "response_format": {"type": "json_object"})")).at("format"),
            json::value("json"));

  json::object streamed = request(R"(, "stream": true, "stream_options": {"include_usage": true})");
  EXPECT_TRUE(wants_stream(streamed));
  EXPECT_TRUE(wants_usage(streamed));
  EXPECT_EQ(chat_request(streamed).at("stream"), json::value(true));
  EXPECT_FALSE(wants_usage(request(R"(, "stream": true)")));
  EXPECT_FALSE(wants_stream(request("")));
}

TEST(OllamaGenerateRequest, PromptSuffixOptionsFormat) {
  json::object body = generate_request(obj(R"({"model": "m", "prompt": ["Once"], "suffix": "end",
      "max_tokens": 4, "stream": true, "response_format": {"type": "json_object"}})"));
  EXPECT_EQ(json::value(body), parse(R"({"model": "m", "prompt": "Once", "stream": true,
      "options": {"num_predict": 4}, "suffix": "end", "format": "json"})"));
  EXPECT_EQ(generate_request(obj(R"({"model": "m", "prompt": "x"})")).at("prompt"),
            json::value("x"));
}

TEST(OllamaEmbedRequest, InputAndDimensions) {
  EXPECT_EQ(
      json::value(embed_request(obj(R"({"model": "e", "input": ["a", "b"], "dimensions": 4})"))),
      parse(R"({"model": "e", "input": ["a", "b"], "dimensions": 4})"));
  EXPECT_EQ(embed_request(obj(R"({"model": "e", "input": "a"})")).at("input"), json::value("a"));
}

// The ids are random: check their shape, then drop them.
void expect_call_ids(json::array& calls, std::size_t first) {
  for (auto& c : calls) {
    auto& call = c.as_object();
    EXPECT_THAT(std::string(call.at("id").as_string()),
                MatchesRegex("call_" + std::to_string(first++) + "_[0-9a-f]{8}"));
    call.erase("id");
  }
}

TEST(OllamaChatResponse, TextUsageAndFinishReason) {
  json::object r = chat_response(parse(R"({"model": "llama3.2:3b", "message": {"role": "assistant",
      "content": "Hi"}, "done": true, "done_reason": "length", "prompt_eval_count": 2,
      "eval_count": 5})"),
                                 kIds);
  EXPECT_EQ(json::value(r), parse(R"({"id": "chatcmpl-1", "object": "chat.completion",
      "created": 1700000000, "model": "llama3.2:3b",
      "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hi"},
                   "finish_reason": "length", "logprobs": null}],
      "usage": {"prompt_tokens": 2, "completion_tokens": 5, "total_tokens": 7}})"));
  json::object stop = chat_response(parse(R"({"message": {}, "done_reason": "stop"})"), kIds);
  EXPECT_EQ(stop.at("choices").at(0).at("finish_reason"), json::value("stop"));
  EXPECT_EQ(stop.at("choices").at(0).at("message").at("content"), json::value(""));
  EXPECT_EQ(stop.at("usage"), parse(R"({"prompt_tokens": 0, "completion_tokens": 0,
                                        "total_tokens": 0})"));
}

TEST(OllamaChatResponse, ToolCalls) {
  json::object r = chat_response(parse(R"({"message": {"role": "assistant", "content": "",
      "tool_calls": [{"function": {"name": "get_weather", "arguments": {"location": "Paris"}}},
                     {"function": {"name": "raw", "arguments": "{\"a\":1}"}},
                     {"function": {"name": "none"}}]}, "done_reason": "stop"})"),
                                 kIds);
  auto& choice = r.at("choices").as_array()[0].as_object();
  EXPECT_EQ(choice.at("finish_reason"), json::value("tool_calls"));
  auto& message = choice.at("message").as_object();
  EXPECT_EQ(message.at("content"), json::value(nullptr));
  expect_call_ids(message.at("tool_calls").as_array(), 0);
  EXPECT_EQ(message.at("tool_calls"), parse(R"([
    {"type": "function", "function": {"name": "get_weather", "arguments": "{\"location\":\"Paris\"}"}},
    {"type": "function", "function": {"name": "raw", "arguments": "{\"a\":1}"}},
    {"type": "function", "function": {"name": "none", "arguments": "{}"}}])"));
}

TEST(OllamaGenerateResponse, TextAndUsage) {
  json::object r = generate_response(
      parse(R"({"response": "Once", "done": true, "prompt_eval_count": 1, "eval_count": 1})"),
      ResponseIds{"ollama", "m", "cmpl-1", 5});
  EXPECT_EQ(json::value(r), parse(R"({"id": "cmpl-1", "object": "text_completion", "created": 5,
      "model": "m", "choices": [{"text": "Once", "index": 0, "logprobs": null,
                                 "finish_reason": "stop"}],
      "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}})"));
}

TEST(OllamaEmbedResponse, Vectors) {
  json::object r =
      embed_response(parse(R"({"embeddings": [[0.5, 1], [2]], "prompt_eval_count": 3})"), kIds);
  EXPECT_EQ(json::value(r), parse(R"({"object": "list", "model": "llama3.2:3b",
      "data": [{"object": "embedding", "index": 0, "embedding": [0.5, 1]},
               {"object": "embedding", "index": 1, "embedding": [2]}],
      "usage": {"prompt_tokens": 3, "total_tokens": 3}})"));
}

std::vector<json::object> feed(ChatStream& stream,
                               std::initializer_list<std::string_view> records) {
  std::vector<json::object> out;
  for (auto r : records) {
    for (auto& c : stream.on_record(parse(r))) out.push_back(std::move(c));
  }
  return out;
}

json::value delta_of(const json::object& chunk) {
  return chunk.at("choices").at(0).at("delta");
}

TEST(OllamaChatStream, RoleThenContentThenFinishAndUsage) {
  ChatStream stream(kIds, true);
  auto chunks =
      feed(stream, {R"({"message": {"role": "assistant", "content": "Hel"}, "done": false})",
                    R"({"message": {"role": "assistant", "content": ""}, "done": false})",
                    R"({"message": {"role": "assistant", "content": "lo"}, "done": false})"});
  EXPECT_FALSE(stream.done());
  auto last = feed(stream, {R"({"message": {"role": "assistant", "content": ""}, "done": true,
      "done_reason": "length", "prompt_eval_count": 2, "eval_count": 2})"});
  EXPECT_TRUE(stream.done());
  chunks.insert(chunks.end(), last.begin(), last.end());
  ASSERT_EQ(chunks.size(), 5u);
  EXPECT_EQ(json::value(chunks[0]), parse(R"({"id": "chatcmpl-1", "object": "chat.completion.chunk",
      "created": 1700000000, "model": "llama3.2:3b",
      "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}, "logprobs": null,
                   "finish_reason": null}]})"));
  EXPECT_EQ(delta_of(chunks[1]), parse(R"({"content": "Hel"})"));
  EXPECT_EQ(delta_of(chunks[2]), parse(R"({"content": "lo"})"));
  EXPECT_EQ(delta_of(chunks[3]), parse("{}"));
  EXPECT_EQ(chunks[3].at("choices").at(0).at("finish_reason"), json::value("length"));
  EXPECT_EQ(json::value(chunks[4]), parse(R"({"id": "chatcmpl-1", "object": "chat.completion.chunk",
      "created": 1700000000, "model": "llama3.2:3b", "choices": [],
      "usage": {"prompt_tokens": 2, "completion_tokens": 2, "total_tokens": 4}})"));
}

TEST(OllamaChatStream, ToolCallDeltasAreIndexedAcrossRecords) {
  ChatStream stream(kIds, false);
  auto chunks = feed(
      stream,
      {
          R"({"message": {"role": "assistant", "content": "", "tool_calls": [
          {"function": {"name": "a", "arguments": {"x": 1}}}]}, "done": false})",
          R"({"message": {"role": "assistant", "content": "", "tool_calls": [
          {"function": {"name": "b", "arguments": {}}}, {"function": {"name": "c"}}]}, "done": false})",
          R"({"message": {"role": "assistant", "content": "", "tool_calls": []}, "done": false})",
          R"({"done": true, "done_reason": "stop"})",
      });
  ASSERT_EQ(chunks.size(), 4u) << "role, two tool-call chunks, finish; no usage chunk";
  json::array first = delta_of(chunks[1]).at("tool_calls").as_array();
  json::array second = delta_of(chunks[2]).at("tool_calls").as_array();
  expect_call_ids(first, 0);
  expect_call_ids(second, 1);
  EXPECT_EQ(json::value(first), parse(R"([{"type": "function", "index": 0,
      "function": {"name": "a", "arguments": "{\"x\":1}"}}])"));
  EXPECT_EQ(json::value(second), parse(R"([
      {"type": "function", "index": 1, "function": {"name": "b", "arguments": "{}"}},
      {"type": "function", "index": 2, "function": {"name": "c", "arguments": "{}"}}])"));
  EXPECT_EQ(chunks[3].at("choices").at(0).at("finish_reason"), json::value("tool_calls"));
  EXPECT_TRUE(stream.done());
}

TEST(OllamaGenerateStream, TextChunksThenFinishAndUsage) {
  GenerateStream stream(ResponseIds{"ollama", "m", "cmpl-1", 5}, true);
  std::vector<json::object> chunks;
  for (auto r : {R"({"response": "Once", "done": false})", R"({"response": "", "done": false})",
                 R"({"response": " upon", "done": true, "done_reason": "length",
                     "prompt_eval_count": 1, "eval_count": 2})"}) {
    for (auto& c : stream.on_record(parse(r))) chunks.push_back(std::move(c));
  }
  EXPECT_TRUE(stream.done());
  ASSERT_EQ(chunks.size(), 4u);
  EXPECT_EQ(json::value(chunks[0]), parse(R"({"id": "cmpl-1", "object": "text_completion",
      "created": 5, "model": "m", "choices": [{"text": "Once", "index": 0, "logprobs": null,
                                               "finish_reason": null}]})"));
  EXPECT_EQ(chunks[1].at("choices").at(0).at("text"), json::value(" upon"));
  EXPECT_EQ(chunks[2].at("choices").at(0).at("text"), json::value(""));
  EXPECT_EQ(chunks[2].at("choices").at(0).at("finish_reason"), json::value("length"));
  EXPECT_EQ(chunks[3].at("usage").at("total_tokens"), json::value(3));
  EXPECT_EQ(chunks[3].at("choices"), json::value(json::array{}));
}

// --- malformed client requests: 400 naming the field ----------------------

using testing::error_of;

struct Malformed {
  const char* json;
  const char* path;  // must appear in the message
};

class OllamaChatRequestMalformed : public ::testing::TestWithParam<Malformed> {};

TEST_P(OllamaChatRequestMalformed, Is400NamingTheField) {
  const Malformed& m = GetParam();
  ApiError e = error_of([&] { chat_request(obj(m.json)); });
  EXPECT_EQ(e.status(), 400) << m.json << " → " << e.what();
  EXPECT_NE(std::string(e.what()).find(m.path), std::string::npos)
      << "'" << e.what() << "' does not name " << m.path;
}

#define MSG(x) R"({"model": "m", "messages": [{"role": "user", "content": "x"}, )" x "]}"
#define BODY(x) R"({"model": "m", "messages": [{"role": "user", "content": "x"}], )" x "}"
#define CALL(x) MSG(R"({"role": "assistant", "tool_calls": [)" x "]}")

INSTANTIATE_TEST_SUITE_P(
    EveryField, OllamaChatRequestMalformed,
    ::testing::Values(
        // The live defect of issue 9: a tool call without "function".
        Malformed{CALL(R"({"id": "c1", "type": "function"})"),
                  "Field 'messages[1].tool_calls[0].function' is required"},
        Malformed{CALL(R"({"id": "c1", "function": "f"})"), "messages[1].tool_calls[0].function"},
        Malformed{CALL(R"({"function": {"arguments": "{}"}})"),
                  "messages[1].tool_calls[0].function.name"},
        Malformed{CALL(R"({"function": {"name": 7}})"), "messages[1].tool_calls[0].function.name"},
        Malformed{CALL(R"({"function": {"name": "f", "arguments": "{oops"}})"),
                  "messages[1].tool_calls[0].function.arguments"},
        Malformed{CALL(R"({"function": {"name": "f", "arguments": "[1]"}})"),
                  "messages[1].tool_calls[0].function.arguments"},
        Malformed{CALL(R"({"function": {"name": "f", "arguments": 5}})"),
                  "messages[1].tool_calls[0].function.arguments"},
        Malformed{CALL(R"({"function": {"name": "f"}}, 3)"), "messages[1].tool_calls[1]"},
        Malformed{MSG(R"({"role": "assistant", "tool_calls": {}})"), "messages[1].tool_calls"},
        Malformed{R"({"model": "m"})", "messages"},
        Malformed{R"({"model": "m", "messages": []})", "messages"},
        Malformed{R"({"model": "m", "messages": "hi"})", "messages"},
        Malformed{R"({"messages": [{"role": "user", "content": "x"}]})", "model"},
        Malformed{R"({"model": 1, "messages": [{"role": "user", "content": "x"}]})", "model"},
        Malformed{MSG("[]"), "messages[1]"}, Malformed{MSG("{}"), "messages[1].role"},
        Malformed{MSG(R"({"role": 1})"), "messages[1].role"},
        Malformed{MSG(R"({"role": "user", "content": 5})"), "messages[1].content"},
        Malformed{MSG(R"({"role": "user", "content": {"text": "x"}})"), "messages[1].content"},
        Malformed{MSG(R"({"role": "user", "content": ["x"]})"), "messages[1].content[0]"},
        Malformed{MSG(R"({"role": "user", "content": [{"type": 1}]})"),
                  "messages[1].content[0].type"},
        Malformed{MSG(R"({"role": "user", "content": [{"type": "text", "text": 1}]})"),
                  "messages[1].content[0].text"},
        Malformed{MSG(R"({"role": "user", "content": [{"type": "image_url"}]})"),
                  "messages[1].content[0].image_url"},
        Malformed{MSG(R"({"role": "user", "content": [{"type": "image_url", "image_url": "u"}]})"),
                  "messages[1].content[0].image_url"},
        Malformed{MSG(R"({"role": "user", "content": [{"type": "image_url", "image_url": {}}]})"),
                  "messages[1].content[0].image_url.url"},
        Malformed{MSG(R"({"role": "user",
                          "content": [{"type": "image_url", "image_url": {"url": 1}}]})"),
                  "messages[1].content[0].image_url.url"},
        Malformed{MSG(R"({"role": "user",
                          "content": [{"type": "image_url", "image_url": {"url": "https://x"}}]})"),
                  "messages[1].content[0].image_url.url"},
        Malformed{MSG(R"({"role": "tool", "content": "x", "name": 1})"), "messages[1].name"},
        Malformed{BODY(R"("temperature": "hot")"), "temperature"},
        Malformed{BODY(R"("top_p": [])"), "top_p"}, Malformed{BODY(R"("top_k": 1.5)"), "top_k"},
        Malformed{BODY(R"("seed": "s")"), "seed"},
        Malformed{BODY(R"("frequency_penalty": true)"), "frequency_penalty"},
        Malformed{BODY(R"("presence_penalty": {})"), "presence_penalty"},
        Malformed{BODY(R"("repetition_penalty": "x")"), "repetition_penalty"},
        Malformed{BODY(R"("max_tokens": "many")"), "max_tokens"},
        Malformed{BODY(R"("max_completion_tokens": -0.5)"), "max_completion_tokens"},
        Malformed{BODY(R"("stop": 1)"), "stop"}, Malformed{BODY(R"("stop": ["a", 2])"), "stop[1]"},
        Malformed{BODY(R"("n": "two")"), "n"}, Malformed{BODY(R"("n": 2)"), "n=1"},
        Malformed{BODY(R"("stream": "yes")"), "stream"}, Malformed{BODY(R"("tools": {})"), "tools"},
        Malformed{BODY(R"("tools": [1])"), "tools[0]"},
        Malformed{BODY(R"("tools": [{"type": "function"}])"), "tools[0].function"},
        Malformed{BODY(R"("tools": [{"function": {}}])"), "tools[0].function.name"},
        Malformed{BODY(R"("tools": [{"function": {"name": "f", "parameters": 1}}])"),
                  "tools[0].function.parameters"},
        Malformed{BODY(R"("tools": [{"function": {"name": "f", "description": 1}}])"),
                  "tools[0].function.description"},
        Malformed{BODY(R"("tools": [{"type": 1, "function": {"name": "f"}}])"), "tools[0].type"},
        Malformed{BODY(R"("tool_choice": 1)"), "tool_choice"},
        Malformed{BODY(R"("response_format": "json")"), "response_format"},
        Malformed{BODY(R"("response_format": {})"), "response_format.type"},
        Malformed{BODY(R"("response_format": {"type": "grammar"})"), "response_format.type"},
        Malformed{BODY(R"("response_format": {"type": "json_schema", "json_schema": 1})"),
                  "response_format.json_schema"},
        Malformed{BODY(R"("response_format": {"type": "json_schema",
                                               "json_schema": {"schema": "x"}})"),
                  "response_format.json_schema.schema"}));

TEST(OllamaRequests, WantsStreamAndUsageCheckTheirFields) {
  EXPECT_EQ(error_of([] { wants_usage(obj(R"({"stream_options": true})")); }).status(), 400);
  EXPECT_EQ(
      error_of([] { wants_usage(obj(R"({"stream_options": {"include_usage": 1}})")); }).status(),
      400);
  EXPECT_EQ(error_of([] { wants_stream(obj(R"({"stream": 1})")); }).status(), 400);
}

TEST(OllamaGenerateAndEmbedRequest, MalformedFieldsAre400NamingTheField) {
  for (const Malformed& m : std::initializer_list<Malformed>{
           {R"({"model": "m"})", "prompt"},
           {R"({"model": "m", "prompt": 1})", "prompt"},
           {R"({"model": "m", "prompt": ["a", "b"]})", "prompt"},
           {R"({"model": "m", "prompt": [1]})", "prompt"},
           {R"({"prompt": "x"})", "model"},
           {R"({"model": "m", "prompt": "x", "suffix": 1})", "suffix"},
           {R"({"model": "m", "prompt": "x", "max_tokens": "x"})", "max_tokens"},
           {R"({"model": "m", "prompt": "x", "n": 3})", "n=1"},
           {R"({"model": "m", "prompt": "x", "response_format": {"type": 1}})",
            "response_format.type"}}) {
    ApiError e = error_of([&] { generate_request(obj(m.json)); });
    EXPECT_EQ(e.status(), 400) << m.json << " → " << e.what();
    EXPECT_NE(std::string(e.what()).find(m.path), std::string::npos) << e.what();
  }
  for (const Malformed& m : std::initializer_list<Malformed>{
           {R"({"model": "e"})", "input"},
           {R"({"model": "e", "input": 1})", "input"},
           {R"({"model": "e", "input": ["a", [1, 2]]})", "input[1]"},
           {R"({"input": "a"})", "model"},
           {R"({"model": "e", "input": "a", "dimensions": "x"})", "dimensions"}}) {
    ApiError e = error_of([&] { embed_request(obj(m.json)); });
    EXPECT_EQ(e.status(), 400) << m.json << " → " << e.what();
    EXPECT_NE(std::string(e.what()).find(m.path), std::string::npos) << e.what();
  }
}

// --- malformed upstream answers: 502 naming the provider and the field -----

void expect_502(const std::function<void()>& f, const Malformed& m) {
  ApiError e = error_of(f);
  EXPECT_EQ(e.status(), 502) << m.json << " → " << e.what();
  const std::string message = e.what();
  EXPECT_NE(message.find("Provider 'ollama' sent a malformed response"), std::string::npos)
      << message;
  EXPECT_NE(message.find(m.path), std::string::npos)
      << "'" << message << "' does not name " << m.path;
}

TEST(OllamaResponses, MalformedUpstreamIs502NamingTheField) {
  const Malformed chat[] = {
      {"[]", "not a JSON object"},
      {R"({"done": true})", "Field 'message' is required"},
      {R"({"message": "hi"})", "message"},
      {R"({"message": {"tool_calls": {}}})", "message.tool_calls"},
      {R"({"message": {"tool_calls": [1]}})", "message.tool_calls[0]"},
      {R"({"message": {"tool_calls": [{}]}})", "message.tool_calls[0].function"},
      {R"({"message": {"tool_calls": [{"function": {"arguments": {}}}]}})",
       "message.tool_calls[0].function.name"},
      {R"({"message": {"tool_calls": [{"function": {"name": ["f"]}}]}})",
       "message.tool_calls[0].function.name"},
  };
  for (const auto& m : chat) expect_502([&] { chat_response(parse(m.json), kIds); }, m);
  for (const auto& m : chat) {
    if (std::string_view(m.json).find("tool_calls") == std::string_view::npos) continue;
    ChatStream stream(kIds, false);
    expect_502([&] { stream.on_record(parse(m.json)); }, m);
  }
  ChatStream stream(kIds, false);
  expect_502([&] { stream.on_record(parse(R"("text")")); }, {"\"text\"", "not a JSON object"});

  GenerateStream generate(kIds, false);
  expect_502([&] { generate.on_record(parse("1")); }, {"1", "not a JSON object"});
  expect_502([] { generate_response(parse("null"), kIds); }, {"null", "not a JSON object"});

  for (const Malformed& m :
       std::initializer_list<Malformed>{{"[]", "not a JSON object"},
                                        {R"({})", "Field 'embeddings' is required"},
                                        {R"({"embeddings": {}})", "embeddings"},
                                        {R"({"embeddings": [[1], "x"]})", "embeddings[1]"}}) {
    expect_502([&] { embed_response(parse(m.json), kIds); }, m);
  }
}

}  // namespace
}  // namespace llama_stack::providers::remote::ollama
