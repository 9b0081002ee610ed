#include "core/server/route_table.h"

#include <gtest/gtest.h>

namespace llama_stack::server {
namespace {

RouteTable make_table() {
  RouteTable t;
  auto noop = [](const std::shared_ptr<Exchange>&) {};
  t.add({"GET", "/v1/models", noop, "models"});
  t.add({"POST", "/v1/models", noop, "models"});
  t.add({"GET", "/v1/models/{model_id:path}", noop, "models"});
  t.add({"DELETE", "/v1/models/{model_id:path}", noop, "models"});
  t.add({"GET", "/v1/providers/{provider_id}", noop, "providers"});
  t.add({"GET", "/v1/openai/v1/models", noop, "models"});
  t.add({"GET", "/v1/things/{id}", noop, "x"});
  t.add({"GET", "/v1/things/special", noop, "x"});
  return t;
}

TEST(RouteTable, MatchesLiteralRoutes) {
  RouteTable t = make_table();
  auto m = t.match("GET", "/v1/models");
  ASSERT_EQ(m.kind, RouteMatch::Kind::kFound);
  EXPECT_EQ(m.route->path, "/v1/models");
  EXPECT_EQ(t.match("POST", "/v1/models").route->method, "POST");
}

TEST(RouteTable, PathParametersTakeTheRestAndAreDecoded) {
  RouteTable t = make_table();
  auto m = t.match("GET", "/v1/models/meta-llama/Llama-3.2-3B-Instruct");
  ASSERT_EQ(m.kind, RouteMatch::Kind::kFound);
  EXPECT_EQ(m.params.at("model_id"), "meta-llama/Llama-3.2-3B-Instruct");
  auto encoded = t.match("GET", "/v1/models/meta-llama%2FLlama%203");
  EXPECT_EQ(encoded.params.at("model_id"), "meta-llama/Llama 3");
}

TEST(RouteTable, SegmentParametersDoNotCrossSlashes) {
  RouteTable t = make_table();
  EXPECT_EQ(t.match("GET", "/v1/providers/a/b").kind, RouteMatch::Kind::kNotFound);
  EXPECT_EQ(t.match("GET", "/v1/providers/a").params.at("provider_id"), "a");
  EXPECT_EQ(t.match("GET", "/v1/providers/").kind, RouteMatch::Kind::kNotFound);
}

TEST(RouteTable, LiteralSegmentsBeatParameters) {
  RouteTable t = make_table();
  EXPECT_EQ(t.match("GET", "/v1/things/special").route->path, "/v1/things/special");
  EXPECT_EQ(t.match("GET", "/v1/things/other").route->path, "/v1/things/{id}");
  EXPECT_EQ(t.match("GET", "/v1/openai/v1/models").route->path, "/v1/openai/v1/models");
}

TEST(RouteTable, WrongMethodListsAllowedMethods) {
  RouteTable t = make_table();
  auto m = t.match("PUT", "/v1/models");
  EXPECT_EQ(m.kind, RouteMatch::Kind::kMethodNotAllowed);
  EXPECT_EQ(m.allowed_methods, (std::vector<std::string>{"GET", "POST"}));
}

TEST(RouteTable, HeadIsServedByGet) {
  RouteTable t = make_table();
  EXPECT_EQ(t.match("HEAD", "/v1/models").kind, RouteMatch::Kind::kFound);
}

TEST(RouteTable, UnknownPathsAreNotFound) {
  RouteTable t = make_table();
  EXPECT_EQ(t.match("GET", "/v2/models").kind, RouteMatch::Kind::kNotFound);
  EXPECT_EQ(t.match("GET", "/").kind, RouteMatch::Kind::kNotFound);
  EXPECT_EQ(t.match("GET", "").kind, RouteMatch::Kind::kNotFound);
}

TEST(PercentDecode, HandlesInvalidEscapes) {
  EXPECT_EQ(percent_decode("a%2"), "a%2");
  EXPECT_EQ(percent_decode("a%zz"), "a%zz");
  EXPECT_EQ(percent_decode("a+b", true), "a b");
  EXPECT_EQ(percent_decode("a+b"), "a+b");
}

}  // namespace
}  // namespace llama_stack::server
