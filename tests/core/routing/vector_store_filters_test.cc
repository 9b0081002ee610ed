// OpenAI attribute filters: every operator, compounds, type mismatches, and
// invalid filters as 400s naming the field.
#include "core/routing/vector_store_filters.h"

#include <gtest/gtest.h>

#include "core/util/json.h"
#include "support/api_errors.h"

namespace llama_stack::routing {
namespace {

bool matches(std::string_view filter, std::string_view attributes) {
  return AttributeFilter::parse(parse_json(filter)).matches(parse_json(attributes).as_object());
}

TEST(AttributeFilter, Comparisons) {
  const char* attrs = R"({"lang": "go", "year": 2021, "score": 0.5, "draft": false})";
  EXPECT_TRUE(matches(R"({"type":"eq","key":"lang","value":"go"})", attrs));
  EXPECT_FALSE(matches(R"({"type":"eq","key":"lang","value":"python"})", attrs));
  EXPECT_TRUE(matches(R"({"type":"ne","key":"lang","value":"python"})", attrs));
  EXPECT_TRUE(matches(R"({"type":"gt","key":"year","value":2020})", attrs));
  EXPECT_FALSE(matches(R"({"type":"gt","key":"year","value":2021})", attrs));
  EXPECT_TRUE(matches(R"({"type":"gte","key":"year","value":2021.0})", attrs));
  EXPECT_TRUE(matches(R"({"type":"lt","key":"score","value":1})", attrs));
  EXPECT_TRUE(matches(R"({"type":"lte","key":"score","value":0.5})", attrs));
  EXPECT_TRUE(
      matches(R"({"type":"lt","key":"lang","value":"rust"})", attrs));  // strings: lexicographic
  EXPECT_TRUE(matches(R"({"type":"eq","key":"draft","value":false})", attrs));
  EXPECT_TRUE(matches(R"({"type":"in","key":"lang","value":["go","rust"]})", attrs));
  EXPECT_FALSE(matches(R"({"type":"nin","key":"lang","value":["go","rust"]})", attrs));
  // A missing key matches nothing, ne and nin included; mixed types never compare.
  EXPECT_FALSE(matches(R"({"type":"ne","key":"missing","value":"x"})", attrs));
  EXPECT_FALSE(matches(R"({"type":"nin","key":"missing","value":["x"]})", attrs));
  EXPECT_FALSE(matches(R"({"type":"gt","key":"lang","value":1})", attrs));
  EXPECT_FALSE(matches(R"({"type":"eq","key":"year","value":"2021"})", attrs));
  EXPECT_TRUE(matches(R"({"type":"ne","key":"year","value":"2021"})", attrs));
}

TEST(AttributeFilter, Compounds) {
  const char* attrs = R"({"lang": "go", "year": 2021})";
  EXPECT_TRUE(matches(R"({"type":"and","filters":[{"type":"eq","key":"lang","value":"go"},
                          {"type":"lt","key":"year","value":2022}]})",
                      attrs));
  EXPECT_FALSE(matches(R"({"type":"and","filters":[{"type":"eq","key":"lang","value":"go"},
                           {"type":"gt","key":"year","value":2022}]})",
                       attrs));
  EXPECT_TRUE(matches(R"({"type":"or","filters":[{"type":"eq","key":"lang","value":"rust"},
                          {"type":"and","filters":[{"type":"eq","key":"year","value":2021}]}]})",
                      attrs));
  EXPECT_TRUE(matches(R"({"type":"and","filters":[]})", attrs));
  EXPECT_FALSE(matches(R"({"type":"or","filters":[]})", attrs));
}

TEST(AttributeFilter, InvalidFiltersAre400sNamingTheField) {
  const std::pair<const char*, const char*> cases[] = {
      {R"("eq")", "filters"},
      {R"({"key":"a","value":1})", "filters.type"},
      {R"({"type":"like","key":"a","value":1})", "filters.type"},
      {R"({"type":"eq","value":1})", "filters.key"},
      {R"({"type":"eq","key":"a"})", "filters.value"},
      {R"({"type":"eq","key":"a","value":{"x":1}})", "filters.value"},
      {R"({"type":"gt","key":"a","value":true})", "filters.value"},
      {R"({"type":"in","key":"a","value":"x"})", "filters.value"},
      {R"({"type":"and","filters":{"type":"eq"}})", "filters.filters"},
      {R"({"type":"or","filters":[{"type":"eq","key":"a","value":1},{"type":"bad"}]})",
       "filters.filters[1].type"},
  };
  for (const auto& c : cases) {
    const char* filter = c.first;  // (clang 14 cannot capture structured bindings)
    const ApiError e = testing::error_of([&] { AttributeFilter::parse(parse_json(filter)); });
    EXPECT_EQ(e.status(), 400) << filter;
    EXPECT_NE(std::string(e.what()).find(c.second), std::string::npos)
        << filter << ": " << e.what();
  }
  std::string deep = R"({"type":"eq","key":"a","value":1})";
  for (int i = 0; i < 40; ++i) deep = R"({"type":"and","filters":[)" + deep + "]}";
  EXPECT_EQ(testing::status_of([&] { AttributeFilter::parse(parse_json(deep)); }), 400);
}

}  // namespace
}  // namespace llama_stack::routing
