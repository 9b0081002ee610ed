#include "core/config/config_node.h"

#include <gtest/gtest.h>

#include <map>

namespace llama_stack::config {
namespace {

EnvLookup fake_env(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

std::optional<std::string> subst(std::string_view text, const EnvLookup& env) {
  std::string missing, syntax;
  return substitute_env(text, env, missing, syntax);
}

TEST(SubstituteEnv, AllForms) {
  auto env = fake_env({{"SET", "value"}, {"EMPTY", ""}});
  EXPECT_EQ(subst("${env.SET}", env), "value");
  EXPECT_EQ(subst("${env.UNSET:fallback}", env), "fallback");
  EXPECT_EQ(subst("${env.UNSET:=fallback}", env), "fallback");
  EXPECT_EQ(subst("${env.EMPTY:=fallback}", env), "fallback");
  EXPECT_EQ(subst("${env.SET:=fallback}", env), "value");
  EXPECT_EQ(subst("${env.SET+on}", env), "on");
  EXPECT_EQ(subst("${env.EMPTY+on}", env), "on");  // '+' means "is set", even if empty
  EXPECT_EQ(subst("${env.UNSET+on}", env), "");
  EXPECT_EQ(subst("${env.SET:+on}", env), "on");
  EXPECT_EQ(subst("${env.EMPTY:+on}", env), "");
  EXPECT_EQ(subst("${env.UNSET:+on}", env), "");
  EXPECT_EQ(subst("${env.UNSET:=}", env), "");
}

TEST(SubstituteEnv, SeveralPerStringAndDefaultsWithColons) {
  auto env = fake_env({{"HOST", "h"}, {"PORT", "1"}});
  EXPECT_EQ(subst("http://${env.HOST}:${env.PORT}/x", env), "http://h:1/x");
  EXPECT_EQ(subst("${env.URL:=http://localhost:11434}", env), "http://localhost:11434");
}

TEST(SubstituteEnv, MissingVariableIsNamed) {
  auto env = fake_env({{"EMPTY", ""}});
  std::string missing, syntax;
  EXPECT_FALSE(substitute_env("a ${env.NOPE} b", env, missing, syntax).has_value());
  EXPECT_EQ(missing, "NOPE");
  missing.clear();
  EXPECT_FALSE(substitute_env("${env.EMPTY}", env, missing, syntax).has_value());
  EXPECT_EQ(missing, "EMPTY");
}

TEST(SubstituteEnv, MalformedReferencesAreSyntaxErrors) {
  auto env = fake_env({});
  std::string missing, syntax;
  EXPECT_FALSE(substitute_env("${env.}", env, missing, syntax).has_value());
  EXPECT_FALSE(syntax.empty());
  syntax.clear();
  EXPECT_FALSE(substitute_env("${env.X", env, missing, syntax).has_value());
  EXPECT_FALSE(syntax.empty());
  syntax.clear();
  EXPECT_FALSE(substitute_env("${env.X?y}", env, missing, syntax).has_value());
  EXPECT_FALSE(syntax.empty());
}

TEST(LoadYaml, ErrorsCarryFileLineColumnAndPath) {
  Diagnostics d;
  ConfigNode root =
      load_yaml("a:\n  b:\n  - x: ok\n  - x: ${env.MISSING_VAR}\n", "run.yaml", fake_env({}), d);
  ASSERT_TRUE(d.has_errors());
  const Diagnostic e = d.errors().front();
  EXPECT_EQ(e.location.file, "run.yaml");
  EXPECT_EQ(e.location.line, 4);
  EXPECT_EQ(e.location.column, 8);
  EXPECT_EQ(e.path, "a.b[1].x");
  EXPECT_NE(e.format().find("run.yaml:4:8: a.b[1].x: environment variable 'MISSING_VAR'"),
            std::string::npos)
      << e.format();
}

TEST(LoadYaml, SyntaxErrorsHavePositions) {
  Diagnostics d;
  load_yaml("a: [1, 2\nb: c\n", "bad.yaml", fake_env({}), d);
  ASSERT_TRUE(d.has_errors());
  EXPECT_EQ(d.errors().front().location.file, "bad.yaml");
  EXPECT_GT(d.errors().front().location.line, 0);
}

TEST(LoadYaml, DuplicateKeysAreErrors) {
  Diagnostics d;
  load_yaml("a: 1\na: 2\n", "dup.yaml", fake_env({}), d);
  ASSERT_TRUE(d.has_errors());
  EXPECT_NE(d.errors().front().message.find("duplicate key 'a'"), std::string::npos);
}

TEST(LoadYaml, EmptySubstitutionBecomesNull) {
  Diagnostics d;
  ConfigNode root = load_yaml("id: ${env.UNSET:+x}\nkeep: \"\"\n", "f", fake_env({}), d);
  EXPECT_FALSE(d.has_errors());
  EXPECT_TRUE(root.find("id")->is_null());
  EXPECT_TRUE(root.find("keep")->is_scalar());
}

TEST(ConfigNode, ToJsonInfersPlainScalarsOnly) {
  Diagnostics d;
  ConfigNode root =
      load_yaml("i: 8321\nf: 0.5\nb: true\nn: null\ns: \"8321\"\nt: text\n", "f", fake_env({}), d);
  json::value v = root.to_json();
  EXPECT_TRUE(v.at("i").is_int64());
  EXPECT_TRUE(v.at("f").is_double());
  EXPECT_TRUE(v.at("b").is_bool());
  EXPECT_TRUE(v.at("n").is_null());
  EXPECT_TRUE(v.at("s").is_string());
  EXPECT_EQ(v.at("t").as_string(), "text");
}

TEST(MapReader, WarnsAboutUnknownKeysAndChecksTypes) {
  Diagnostics d;
  ConfigNode root = load_yaml("port: abc\nurl: x\ntypo_key: 1\n", "f", fake_env({}), d);
  MapReader reader(root, d);
  EXPECT_FALSE(reader.integer("port", 0, 65535).has_value());
  EXPECT_EQ(reader.string("url"), "x");
  reader.finish();
  ASSERT_EQ(d.errors().size(), 1u);
  EXPECT_EQ(d.errors()[0].path, "port");
  ASSERT_EQ(d.warnings().size(), 1u);
  EXPECT_NE(d.warnings()[0].message.find("unknown key 'typo_key'"), std::string::npos);
}

TEST(MapReader, RangeAndRequiredChecks) {
  Diagnostics d;
  ConfigNode root = load_yaml("port: 70000\n", "f", fake_env({}), d);
  MapReader reader(root, d);
  EXPECT_FALSE(reader.integer("port", 0, 65535).has_value());
  EXPECT_FALSE(reader.string("name", /*required=*/true).has_value());
  ASSERT_EQ(d.errors().size(), 2u);
  EXPECT_NE(d.errors()[0].message.find("out of range"), std::string::npos);
  EXPECT_EQ(d.errors()[1].path, "name");
}

TEST(ExpandUser, ExpandsLeadingTilde) {
  ::setenv("HOME", "/home/test", 1);
  EXPECT_EQ(expand_user("~/.llama/x.db"), "/home/test/.llama/x.db");
  EXPECT_EQ(expand_user("/abs/~/x"), "/abs/~/x");
}

}  // namespace
}  // namespace llama_stack::config
