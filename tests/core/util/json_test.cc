#include "core/util/json.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace llama_stack {
namespace {

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

TEST(JsonReader, RejectsNonObjects) {
  EXPECT_THROW(JsonReader(json::value(json::array{})), JsonFieldError);
}

}  // namespace
}  // namespace llama_stack
