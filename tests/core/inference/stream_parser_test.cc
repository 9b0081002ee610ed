#include "core/inference/stream_parser.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/util/json.h"

namespace llama_stack::inference {
namespace {

// What a parser made of a whole input: the events (or lines), whether every
// feed succeeded and, for LineSplitter, the trailing partial line.
struct Outcome {
  std::vector<std::string> items;
  bool ok = true;
  std::string rest;
  bool operator==(const Outcome&) const = default;
};

std::ostream& operator<<(std::ostream& os, const Outcome& o) {
  os << "{ok=" << o.ok << ", rest='" << o.rest << "', items=[";
  for (const auto& i : o.items) os << "'" << i << "' ";
  return os << "]}";
}

// Feeds `input` cut at `cuts` (ascending offsets) and, for SSE, finishes.
Outcome sse(std::string_view input, const std::vector<std::size_t>& cuts = {}) {
  SseParser parser;
  Outcome out;
  auto on_event = [&](std::string_view data) { out.items.emplace_back(data); };
  std::size_t from = 0;
  for (std::size_t cut : cuts) {
    out.ok = out.ok && parser.feed(input.substr(from, cut - from), on_event);
    from = cut;
  }
  out.ok = out.ok && parser.feed(input.substr(from), on_event);
  parser.finish(on_event);
  return out;
}

Outcome lines(std::string_view input, const std::vector<std::size_t>& cuts = {},
              std::size_t max_line = 16 * 1024 * 1024) {
  LineSplitter splitter;
  Outcome out;
  auto on_line = [&](std::string_view line) { out.items.emplace_back(line); };
  std::size_t from = 0;
  // After a refusal the caller stops feeding (as http_inference does).
  for (std::size_t cut : cuts) {
    if (out.ok) out.ok = splitter.feed(input.substr(from, cut - from), on_line, max_line);
    from = cut;
  }
  if (out.ok) out.ok = splitter.feed(input.substr(from), on_line, max_line);
  if (out.ok) out.rest = splitter.rest();
  return out;
}

// The outcome must not depend on where the bytes were cut: one cut at every
// position, two cuts at every pair of positions, and one byte at a time.
template <class Parse>
void expect_same_at_every_split(std::string_view input, const Outcome& expected, Parse parse) {
  ASSERT_EQ(parse(input, {}), expected) << "whole input";
  for (std::size_t i = 0; i <= input.size(); ++i) {
    ASSERT_EQ(parse(input, {i}), expected) << "cut at " << i;
    for (std::size_t j = i; j <= input.size(); ++j) {
      ASSERT_EQ(parse(input, {i, j}), expected) << "cuts at " << i << ", " << j;
    }
  }
  std::vector<std::size_t> every;
  for (std::size_t i = 1; i < input.size(); ++i) every.push_back(i);
  ASSERT_EQ(parse(input, every), expected) << "byte by byte";
}

void expect_sse(std::string_view input, std::vector<std::string> events) {
  expect_same_at_every_split(
      input, Outcome{std::move(events), true, ""},
      [](std::string_view in, const std::vector<std::size_t>& cuts) { return sse(in, cuts); });
}

TEST(SseParser, OneEventPerBlankLineTerminatedBlock) {
  expect_sse("data: {\"a\":1}\n\ndata: {\"b\":2}\n\n", {R"({"a":1})", R"({"b":2})"});
}

TEST(SseParser, StripsOneSpaceAfterTheColonOnly) {
  expect_sse("data:x\n\ndata:  y\n\ndata: \n\n", {"x", " y", ""});
}

TEST(SseParser, JoinsMultiLineDataWithNewlines) {
  expect_sse("data: line one\ndata: line two\ndata:\n\n", {"line one\nline two\n"});
}

TEST(SseParser, CrLfLineEndings) {
  expect_sse("data: a\r\n\r\ndata: b\r\ndata: c\r\n\r\n", {"a", "b\nc"});
}

TEST(SseParser, IgnoresCommentsAndOtherFields) {
  expect_sse(
      ": keep-alive\n\nevent: message\nid: 7\nretry: 100\ndata: x\n: mid-event\n\n"
      ":\n\n",
      {"x"});
}

TEST(SseParser, BlankLinesWithoutDataDispatchNothing) {
  expect_sse("\n\n\r\n\n", {});
  expect_sse("event: ping\n\n", {});
}

TEST(SseParser, AFieldWithoutColonIsAFieldWithAnEmptyValue) {
  expect_sse("data\n\n", {""});
  expect_sse("datax: y\n\n", {});
}

TEST(SseParser, DoneMarkerIsOrdinaryData) {
  // The [DONE] terminator is the caller's business (http_inference skips it).
  expect_sse("data: {\"n\":1}\n\ndata: [DONE]\n\n", {R"({"n":1})", "[DONE]"});
}

TEST(SseParser, FinishFlushesAnUnterminatedEvent) {
  expect_sse("data: a\n\ndata: tail", {"a", "tail"});
  expect_sse("data: a\n\ndata: tail\n", {"a", "tail"});
  expect_sse("data: one\ndata: two", {"one\ntwo"});
  expect_sse("data: a\r", {"a"});
}

TEST(SseParser, FinishIsIdempotentAndKeepsNothing) {
  SseParser parser;
  std::vector<std::string> events;
  auto on_event = [&](std::string_view d) { events.emplace_back(d); };
  ASSERT_TRUE(parser.feed("data: a", on_event));
  parser.finish(on_event);
  parser.finish(on_event);
  EXPECT_EQ(events, std::vector<std::string>{"a"});
  ASSERT_TRUE(parser.feed("data: b\n\n", on_event));
  EXPECT_EQ(events, (std::vector<std::string>{"a", "b"}));
}

TEST(SseParser, RealisticOpenAiStream) {
  const std::string input =
      ": ping\r\n\r\n"
      "data: {\"choices\":[{\"delta\":{\"role\":\"assistant\"}}]}\r\n\r\n"
      "data: {\"choices\":[{\"delta\":{\"content\":\"Hi\"}}]}\r\n\r\n"
      "data: [DONE]\r\n\r\n";
  expect_sse(input, {R"({"choices":[{"delta":{"role":"assistant"}}]})",
                     R"({"choices":[{"delta":{"content":"Hi"}}]})", "[DONE]"});
}

void expect_lines(std::string_view input, std::vector<std::string> items, std::string rest,
                  bool ok = true, std::size_t max_line = 16 * 1024 * 1024) {
  expect_same_at_every_split(input, Outcome{std::move(items), ok, std::move(rest)},
                             [max_line](std::string_view in, const std::vector<std::size_t>& cuts) {
                               return lines(in, cuts, max_line);
                             });
}

TEST(LineSplitter, SplitsOnNewlinesAndKeepsTheTrailingPartialLine) {
  expect_lines("a\nbc\n", {"a", "bc"}, "");
  expect_lines("a\nbc", {"a"}, "bc");
  expect_lines("", {}, "");
}

TEST(LineSplitter, DeliversEmptyLines) {
  expect_lines("\n\na\n\n", {"", "", "a", ""}, "");
}

TEST(LineSplitter, StripsTheCrOfCrLfOnly) {
  expect_lines("a\r\nb\rc\r\n\r\n", {"a", "b\rc", ""}, "");
  // A lone '\r' at the end stays in the partial line until its '\n' comes.
  expect_lines("a\r", {}, "a\r");
}

TEST(LineSplitter, RefusesALineLongerThanTheLimitWhereverTheCutsFall) {
  // Limit 4: "abcd" fits, "abcde" does not; the lines before it are delivered.
  expect_lines("abcd\nxy\n", {"abcd", "xy"}, "", true, 4);
  expect_lines("abcd\r\nxy\r\n", {"abcd", "xy"}, "", true, 4);
  expect_lines("ab\nabcde\nzz\n", {"ab"}, "", false, 4);
  expect_lines("ab\r\nabcde\r\nzz\r\n", {"ab"}, "", false, 4);
  expect_lines("ab\nabcdefghij", {"ab"}, "", false, 4);
}

TEST(LineSplitter, NdjsonRecordsSurviveEveryCut) {
  // An Ollama /api/chat stream: one JSON object per line; blank lines are
  // skipped by the caller; the last record may lack its newline.
  const std::string input =
      "{\"message\":{\"role\":\"assistant\",\"content\":\"Hel\"},\"done\":false}\n"
      "\n"
      "{\"message\":{\"role\":\"assistant\",\"content\":\"lo \\u00e9\\n\"},\"done\":false}\r\n"
      "{\"done\":true,\"eval_count\":2}";
  for (std::size_t i = 0; i <= input.size(); ++i) {
    Outcome o = lines(input, {i});
    ASSERT_TRUE(o.ok);
    std::vector<json::value> records;
    for (const auto& line : o.items) {
      if (!line.empty()) records.push_back(parse_json(line));
    }
    ASSERT_FALSE(o.rest.empty()) << "cut at " << i;
    records.push_back(parse_json(o.rest));
    ASSERT_EQ(records.size(), 3u) << "cut at " << i;
    EXPECT_EQ(records[0].at("message").at("content").as_string(), "Hel");
    EXPECT_EQ(records[1].at("message").at("content").as_string(), "lo \xc3\xa9\n");
    EXPECT_EQ(records[2].at("eval_count").as_int64(), 2);
  }
}

}  // namespace
}  // namespace llama_stack::inference
