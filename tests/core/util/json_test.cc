#include "core/util/json.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace llama_stack {
namespace {

// Found by fuzz_auth_answers: an introspection "exp" of 1.9e22 was cast to int64 (UB).
TEST(SaturatedInt64, ClampsWhatDoesNotFit) {
  EXPECT_EQ(saturated_int64(parse_json("42")), 42);
  EXPECT_EQ(saturated_int64(parse_json("-7.9")), -7);
  EXPECT_EQ(saturated_int64(parse_json("18999999467440737095599")), INT64_MAX);
  EXPECT_EQ(saturated_int64(parse_json("-1e300")), INT64_MIN);
  EXPECT_EQ(saturated_int64(parse_json("18446744073709551615")), INT64_MAX);
  EXPECT_EQ(saturated_int64(parse_json("9223372036854775807")), INT64_MAX);
  EXPECT_EQ(saturated_int64(parse_json("\"12\"")), 0);
  EXPECT_EQ(saturated_int64(json::value(std::nan(""))), 0);
}

TEST(ToJson, WritesNumbersAsPeopleDo) {
  EXPECT_EQ(to_json(json::value(0.7)), "0.7");
  EXPECT_EQ(to_json(json::value(1.0)), "1.0");
  EXPECT_EQ(to_json(json::value(-2.5e-7)), "-2.5e-07");
  EXPECT_EQ(to_json(json::value(1e100)), "1e+100");
  EXPECT_EQ(to_json(json::value(std::int64_t{42})), "42");
  EXPECT_EQ(to_json(json::value(std::numeric_limits<double>::quiet_NaN())), "null");
  EXPECT_EQ(to_json(json::value(std::numeric_limits<double>::infinity())), "null");
}

TEST(ToJson, EscapesStringsAndKeepsUtf8) {
  EXPECT_EQ(to_json(json::value("a\"b\\c\n\x01")), R"("a\"b\\c\n\u0001")");
  EXPECT_EQ(to_json(json::value("héllo")), "\"héllo\"");
}

TEST(ToJson, RoundTripsThroughParse) {
  json::value v = parse_json(R"({"a":[1,2.25,true,null,"x"],"b":{"c":0.1}})");
  EXPECT_EQ(to_json(v), R"({"a":[1,2.25,true,null,"x"],"b":{"c":0.1}})");
}

TEST(ParseJson, ReportsLineAndColumn) {
  try {
    parse_json("{\n  \"a\": 1,\n  \"b\": }");
    FAIL() << "expected JsonSyntaxError";
  } catch (const JsonSyntaxError& e) {
    EXPECT_EQ(e.line, 3u);
    EXPECT_EQ(e.column, 8u);
    EXPECT_NE(std::string(e.what()).find("line 3, column 8"), std::string::npos) << e.what();
  }
}

TEST(ParseJson, RejectsTrailingGarbageAndTruncation) {
  EXPECT_THROW(parse_json("{} x"), JsonSyntaxError);
  EXPECT_THROW(parse_json("{\"a\": "), JsonSyntaxError);
  EXPECT_THROW(parse_json(""), JsonSyntaxError);
}

TEST(ParseJson, RejectsExcessiveNesting) {
  EXPECT_THROW(parse_json(std::string(1000, '[') + std::string(1000, ']')), JsonSyntaxError);
}

TEST(JsonReader, NamesTheFieldPathOnErrors) {
  json::value v = parse_json(R"({"model_id": 5, "meta": {"x": 1}})");
  JsonReader reader(v, "body");
  try {
    reader.required_string("model_id");
    FAIL();
  } catch (const JsonFieldError& e) {
    EXPECT_EQ(e.path, "body.model_id");
    EXPECT_NE(std::string(e.what()).find("must be a string, got integer"), std::string::npos);
  }
  try {
    reader.required_string("missing");
    FAIL();
  } catch (const JsonFieldError& e) {
    EXPECT_EQ(e.path, "body.missing");
    EXPECT_NE(std::string(e.what()).find("is required"), std::string::npos);
  }
  EXPECT_EQ(reader.optional_object("meta").at("x").as_int64(), 1);
  EXPECT_FALSE(reader.optional_string("absent").has_value());
  EXPECT_THROW(reader.optional_bool("model_id"), JsonFieldError);
}

TEST(JsonReader, NullCountsAsAbsent) {
  json::value v = parse_json(R"({"provider_id": null})");
  JsonReader reader(v);
  EXPECT_FALSE(reader.optional_string("provider_id").has_value());
  EXPECT_THROW(reader.required_string("provider_id"), JsonFieldError);
}

TEST(JsonReader, NestedObjectsAndArraysCarryThePath) {
  json::value v = parse_json(R"({"messages": [{"role": "user", "tool_calls": [{"id": "c"}]}],
                                 "meta": null, "n": 1})");
  JsonReader body(v);
  const json::array& messages = body.required_array("messages");
  JsonReader msg(messages[0], body.element_path("messages", 0));
  EXPECT_EQ(msg.path(), "messages[0]");
  JsonReader call(msg.required_array("tool_calls")[0], msg.element_path("tool_calls", 0));
  try {
    call.required_object("function");
    FAIL();
  } catch (const JsonFieldError& e) {
    EXPECT_EQ(e.path, "messages[0].tool_calls[0].function");
    EXPECT_STREQ(e.what(), "Field 'messages[0].tool_calls[0].function' is required");
  }
  EXPECT_FALSE(body.find_object("meta").has_value()) << "null counts as absent";
  EXPECT_EQ(body.find_array("meta"), nullptr);
  EXPECT_FALSE(msg.find_object("absent").has_value());
  EXPECT_THROW(msg.find_object("role"), JsonFieldError);
}

TEST(JsonReader, NestedAccessorsRejectOtherKinds) {
  json::value v = parse_json(R"({"a": 1, "b": {"c": []}})");
  JsonReader r(v, "x");
  try {
    r.required_object("a");
    FAIL();
  } catch (const JsonFieldError& e) {
    EXPECT_STREQ(e.what(), "Field 'x.a' must be an object, got integer");
  }
  EXPECT_THROW(r.find_object("a"), JsonFieldError);
  EXPECT_THROW(r.required_array("b"), JsonFieldError);
  EXPECT_THROW(r.find_array("a"), JsonFieldError);
  EXPECT_THROW(r.required_array("missing"), JsonFieldError);
  EXPECT_TRUE(r.required_object("b").required_array("c").empty());
  try {
    r.required_object("b").required_object("c");
    FAIL();
  } catch (const JsonFieldError& e) {
    EXPECT_EQ(e.path, "x.b.c");
  }
}

TEST(JsonReader, ReadsAnObjectInPlace) {
  const json::object o = parse_json(R"({"k": "v"})").as_object();
  JsonReader r(o, "o");
  EXPECT_EQ(&r.object(), &o);
  EXPECT_EQ(r.required_string("k"), "v");
}

TEST(JsonReader, RejectsNonObjects) {
  const json::value array = json::array{};
  EXPECT_THROW(JsonReader{array}, JsonFieldError);
}

}  // namespace
}  // namespace llama_stack
