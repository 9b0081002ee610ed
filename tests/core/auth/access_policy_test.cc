#include "core/auth/access_policy.h"

#include <gtest/gtest.h>

#include <initializer_list>
#include <map>
#include <sstream>
#include <utility>

namespace llama_stack::auth {
namespace {

config::EnvLookup fake_env() {
  return [](const std::string&) -> std::optional<std::string> { return std::nullopt; };
}

// Parses `rules` (a YAML list written at column 0) as server.auth.access_policy
// of a run.yaml, so that key paths and lines are those a user would see.
AccessPolicy parse_policy(const std::string& rules, config::Diagnostics& diagnostics) {
  std::string text = "version: 2\nserver:\n  auth:\n    access_policy:\n";
  std::istringstream lines(rules);
  for (std::string line; std::getline(lines, line);) text += "      " + line + "\n";
  config::ConfigNode root = config::load_yaml(text, "run.yaml", fake_env(), diagnostics);
  static const config::ConfigNode kAbsent;
  const config::ConfigNode* node = root.find("server");
  if (node != nullptr) node = node->find("auth");
  if (node != nullptr) node = node->find("access_policy");
  return AccessPolicy::parse(node != nullptr ? *node : kAbsent, diagnostics);
}

// Parses a policy that must be valid.
AccessPolicy valid_policy(const std::string& rules) {
  config::Diagnostics diagnostics;
  AccessPolicy policy = parse_policy(rules, diagnostics);
  EXPECT_FALSE(diagnostics.has_errors()) << diagnostics.error_report();
  return policy;
}

// The first error of a policy that must be invalid.
config::Diagnostic first_error(const std::string& rules) {
  config::Diagnostics diagnostics;
  AccessPolicy policy = parse_policy(rules, diagnostics);
  EXPECT_EQ(policy.rule_count(), 0u) << "an invalid policy must deny everything";
  EXPECT_TRUE(diagnostics.has_errors());
  if (!diagnostics.has_errors()) return {};
  return diagnostics.errors().front();
}

using Attributes = std::map<std::string, std::vector<std::string>>;

apis::Owner user(std::string principal, const Attributes& attributes = {}) {
  apis::Owner owner;
  owner.principal = std::move(principal);
  for (const auto& [name, values] : attributes) {
    json::array list;
    for (const auto& value : values) list.emplace_back(value);
    owner.attributes[name] = std::move(list);
  }
  return owner;
}

ResourceRef model(std::string id, const apis::Owner* owner = nullptr) {
  return ResourceRef{"model", std::move(id), owner};
}

// ---- parsing ----

TEST(AccessPolicyParse, ActionsAreOneActionOrAList) {
  AccessPolicy policy = valid_policy(R"(- permit:
    actions: read
- forbid:
    actions: [create, update, delete]
)");
  ASSERT_EQ(policy.rule_count(), 2u);
  EXPECT_EQ(policy.rules()[0].effect, AccessRule::Effect::kPermit);
  EXPECT_EQ(policy.rules()[0].actions, std::vector<Action>{Action::kRead});
  EXPECT_EQ(policy.rules()[1].effect, AccessRule::Effect::kForbid);
  EXPECT_EQ(policy.rules()[1].actions,
            (std::vector<Action>{Action::kCreate, Action::kUpdate, Action::kDelete}));
  EXPECT_FALSE(policy.is_default());
}

TEST(AccessPolicyParse, WhenIsAStringOrAList) {
  AccessPolicy policy = valid_policy(R"(- permit:
    principal: alice
    actions: [read]
    resource: model::*
  when: user is owner
  description: alice reads her models
- permit:
    actions: [read]
  when:
  - user with admin in roles
  - user in owners teams
- forbid:
    actions: delete
  unless: user with admin in roles
)");
  ASSERT_EQ(policy.rule_count(), 3u);
  const AccessRule& first = policy.rules()[0];
  EXPECT_EQ(first.principal, "alice");
  EXPECT_EQ(first.resource, "model::*");
  EXPECT_EQ(first.description, "alice reads her models");
  ASSERT_EQ(first.when.size(), 1u);
  EXPECT_EQ(first.when[0].kind, Condition::Kind::kUserIsOwner);
  ASSERT_EQ(policy.rules()[1].when.size(), 2u);
  EXPECT_EQ(policy.rules()[1].when[1].to_string(), "user in owners teams");
  ASSERT_EQ(policy.rules()[2].unless.size(), 1u);
  EXPECT_TRUE(policy.rules()[2].when.empty());
}

TEST(AccessPolicyParse, PermitAndForbidTogetherIsAnError) {
  auto error = first_error(R"(- permit:
    actions: [read]
  forbid:
    actions: [read]
)");
  EXPECT_EQ(error.path, "server.auth.access_policy[0]");
  EXPECT_NE(error.message.find("mutually exclusive"), std::string::npos) << error.message;
}

TEST(AccessPolicyParse, NeitherPermitNorForbidIsAnError) {
  auto error = first_error(R"(- permit:
    actions: [read]
- description: nothing to decide
)");
  EXPECT_EQ(error.path, "server.auth.access_policy[1]");
  EXPECT_NE(error.message.find("one of permit or forbid is required"), std::string::npos);
}

TEST(AccessPolicyParse, WhenAndUnlessTogetherIsAnError) {
  auto error = first_error(R"(- permit:
    actions: [read]
  when: user is owner
  unless: user with admin in roles
)");
  EXPECT_EQ(error.path, "server.auth.access_policy[0]");
  EXPECT_NE(error.message.find("when and unless are mutually exclusive"), std::string::npos);
}

TEST(AccessPolicyParse, BadConditionNamesItsPathAndLine) {
  auto error = first_error(R"(- permit:
    actions: [read]
- permit:
    actions: [read]
  when:
  - user is owner
  - user in owner teams
)");
  EXPECT_EQ(error.path, "server.auth.access_policy[1].when[1]");
  EXPECT_EQ(error.location.file, "run.yaml");
  EXPECT_EQ(error.location.line, 11);  // 4 header lines + the 7th line of the list
  EXPECT_NE(error.message.find("invalid condition 'user in owner teams'"), std::string::npos)
      << error.message;
  EXPECT_NE(error.format().find("run.yaml:11:"), std::string::npos) << error.format();

  auto scalar = first_error(R"(- forbid:
    actions: [read]
  unless: user is admin
)");
  EXPECT_EQ(scalar.path, "server.auth.access_policy[0].unless");
}

TEST(AccessPolicyParse, UnknownAttributeIsAnError) {
  auto error = first_error(R"(- permit:
    actions: [read]
  when: user with admin in groups
)");
  EXPECT_EQ(error.path, "server.auth.access_policy[0].when");
  EXPECT_NE(error.message.find("unknown attribute 'groups'"), std::string::npos) << error.message;
}

TEST(AccessPolicyParse, OldMapConditionsAreErrors) {
  // The v0.2.x-before-conditions form {user_in: resource.roles} is not accepted.
  auto error = first_error(R"(- permit:
    actions: [read]
  when:
    user_in: resource.roles
)");
  EXPECT_EQ(error.path, "server.auth.access_policy[0].when");
}

TEST(AccessPolicyParse, BadActionIsAnError) {
  auto error = first_error(R"(- permit:
    actions: [read, write]
)");
  EXPECT_EQ(error.path, "server.auth.access_policy[0].permit.actions[1]");
  EXPECT_NE(error.message.find("unknown action 'write'"), std::string::npos) << error.message;

  auto upper = first_error(R"(- permit:
    actions: READ
)");
  EXPECT_EQ(upper.path, "server.auth.access_policy[0].permit.actions");
}

TEST(AccessPolicyParse, MissingActionsIsAnError) {
  auto error = first_error(R"(- forbid:
    resource: model::*
)");
  EXPECT_EQ(error.path, "server.auth.access_policy[0].forbid.actions");
}

TEST(AccessPolicyParse, ResourceMustBeTypeColonColonId) {
  for (const char* bad : {"model", "model:x", "::x", "model::"}) {
    auto error =
        first_error(std::string("- permit:\n    actions: [read]\n    resource: \"") + bad + "\"\n");
    EXPECT_EQ(error.path, "server.auth.access_policy[0].permit.resource") << bad;
    EXPECT_NE(error.message.find("invalid resource"), std::string::npos) << bad;
  }
}

TEST(AccessPolicyParse, PolicyMustBeAList) {
  auto error = first_error("permit: {actions: [read]}\n");
  EXPECT_EQ(error.path, "server.auth.access_policy");
  auto rule = first_error("- just a string\n");
  EXPECT_EQ(rule.path, "server.auth.access_policy[0]");
}

TEST(AccessPolicyParse, UnknownKeysWarn) {
  config::Diagnostics diagnostics;
  AccessPolicy policy = parse_policy(R"(- permit:
    actions: [read]
    resources: model::*
  descripton: typo
)",
                                     diagnostics);
  EXPECT_FALSE(diagnostics.has_errors());
  EXPECT_EQ(policy.rule_count(), 1u);
  ASSERT_EQ(diagnostics.warnings().size(), 2u);
  EXPECT_EQ(diagnostics.warnings()[0].path, "server.auth.access_policy[0].descripton");
  EXPECT_EQ(diagnostics.warnings()[1].path, "server.auth.access_policy[0].permit.resources");
}

TEST(AccessPolicyParse, AbsentOrEmptyPolicyIsTheDefault) {
  config::Diagnostics diagnostics;
  AccessPolicy absent = AccessPolicy::parse(config::ConfigNode{}, diagnostics);
  EXPECT_TRUE(absent.is_default());
  EXPECT_EQ(absent.rule_count(), 1u);
  AccessPolicy empty = parse_policy("[]\n", diagnostics);
  EXPECT_TRUE(empty.is_default());
  EXPECT_EQ(empty.rule_count(), 1u);
  EXPECT_FALSE(diagnostics.has_errors());
}

TEST(AccessPolicyParse, ConditionForms) {
  struct Case {
    const char* text;
    Condition::Kind kind;
    const char* value;
    const char* attribute;
  };
  const Case cases[] = {
      {"user is owner", Condition::Kind::kUserIsOwner, "", ""},
      {"user is not owner", Condition::Kind::kUserIsNotOwner, "", ""},
      {"user with admin in roles", Condition::Kind::kUserWithValueIn, "admin", "roles"},
      {"user with ml not in teams", Condition::Kind::kUserWithValueNotIn, "ml", "teams"},
      {"user in owners projects", Condition::Kind::kUserInOwners, "", "projects"},
      {"user not in owners namespaces", Condition::Kind::kUserNotInOwners, "", "namespaces"},
  };
  for (const auto& c : cases) {
    std::string error;
    auto condition = parse_condition(c.text, error);
    ASSERT_TRUE(condition) << c.text << ": " << error;
    EXPECT_EQ(condition->kind, c.kind) << c.text;
    EXPECT_EQ(condition->value, c.value) << c.text;
    EXPECT_EQ(condition->attribute, c.attribute) << c.text;
    EXPECT_EQ(condition->to_string(), c.text);
  }
  std::string error;
  auto spaced = parse_condition("  user   in owners\troles ", error);
  ASSERT_TRUE(spaced);
  EXPECT_EQ(spaced->to_string(), "user in owners roles");
  for (const char* bad : {"", "user", "user is the owner", "user in owner roles",
                          "member with admin in roles", "user with admin in", "User is owner"}) {
    EXPECT_FALSE(parse_condition(bad, error)) << bad;
    EXPECT_NE(error.find("invalid condition"), std::string::npos) << bad;
  }
}

// ---- the default policy ----

TEST(AccessPolicyDefault, SharedRoleIsAllowed) {
  const auto policy = AccessPolicy::default_policy();
  const auto owner = user("bob", {{"roles", {"admin"}}});
  const auto alice = user("alice", {{"roles", {"user", "admin"}}});
  for (Action action : {Action::kCreate, Action::kRead, Action::kUpdate, Action::kDelete}) {
    EXPECT_TRUE(policy.allows(action, model("m", &owner), &alice)) << to_string(action);
  }
}

TEST(AccessPolicyDefault, MissingRoleIsDenied) {
  const auto policy = AccessPolicy::default_policy();
  const auto owner = user("bob", {{"roles", {"admin"}}});
  const auto plain = user("alice", {{"roles", {"user"}}});
  EXPECT_FALSE(policy.allows(Action::kRead, model("m", &owner), &plain));
  const auto bare = user("alice");
  EXPECT_FALSE(policy.allows(Action::kRead, model("m", &owner), &bare));
}

TEST(AccessPolicyDefault, EveryAttributeMustMatch) {
  const auto policy = AccessPolicy::default_policy();
  const auto owner = user("bob", {{"roles", {"admin"}}, {"teams", {"ml"}}});
  const auto same_role_other_team = user("alice", {{"roles", {"admin"}}, {"teams", {"infra"}}});
  EXPECT_FALSE(policy.allows(Action::kRead, model("m", &owner), &same_role_other_team));
  const auto both = user("alice", {{"roles", {"admin"}}, {"teams", {"infra", "ml"}}});
  EXPECT_TRUE(policy.allows(Action::kRead, model("m", &owner), &both));
}

TEST(AccessPolicyDefault, ResourceWithoutOwnerIsAllowed) {
  const auto policy = AccessPolicy::default_policy();
  const auto alice = user("alice", {{"roles", {"user"}}});
  EXPECT_TRUE(policy.allows(Action::kDelete, model("m"), &alice));
}

TEST(AccessPolicyDefault, OwnerWithoutAttributesIsAllowed) {
  const auto policy = AccessPolicy::default_policy();
  const auto owner = user("bob");
  const auto empty_roles = user("carol", {{"roles", {}}});
  const auto alice = user("alice", {{"teams", {"ml"}}});
  EXPECT_TRUE(policy.allows(Action::kRead, model("m", &owner), &alice));
  EXPECT_TRUE(policy.allows(Action::kRead, model("m", &empty_roles), &alice));
}

// ---- conditions against users and resources ----

TEST(AccessPolicyConditions, UserIsOwner) {
  std::string error;
  const auto is_owner = *parse_condition("user is owner", error);
  const auto is_not_owner = *parse_condition("user is not owner", error);
  const auto alice = user("alice");
  const auto bob = user("bob");
  EXPECT_TRUE(is_owner.matches(model("m", &alice), alice));
  EXPECT_FALSE(is_owner.matches(model("m", &bob), alice));
  EXPECT_FALSE(is_owner.matches(model("m"), alice));  // nobody owns it
  EXPECT_FALSE(is_not_owner.matches(model("m", &alice), alice));
  EXPECT_TRUE(is_not_owner.matches(model("m", &bob), alice));
  EXPECT_TRUE(is_not_owner.matches(model("m"), alice));
}

TEST(AccessPolicyConditions, UserWithValueInAttribute) {
  std::string error;
  const auto in = *parse_condition("user with admin in roles", error);
  const auto not_in = *parse_condition("user with admin not in roles", error);
  const auto admin = user("a", {{"roles", {"user", "admin"}}});
  const auto plain = user("b", {{"roles", {"user"}}, {"teams", {"admin"}}});
  const auto bare = user("c");
  EXPECT_TRUE(in.matches(model("m"), admin));
  EXPECT_FALSE(in.matches(model("m"), plain));  // "admin" is a team, not a role
  EXPECT_FALSE(in.matches(model("m"), bare));
  EXPECT_FALSE(not_in.matches(model("m"), admin));
  EXPECT_TRUE(not_in.matches(model("m"), plain));
  EXPECT_TRUE(not_in.matches(model("m"), bare));
}

TEST(AccessPolicyConditions, UserInOwnersAttribute) {
  std::string error;
  const auto in = *parse_condition("user in owners teams", error);
  const auto not_in = *parse_condition("user not in owners teams", error);
  const auto owner = user("o", {{"teams", {"ml", "nlp"}}});
  const auto member = user("a", {{"teams", {"nlp"}}});
  const auto outsider = user("b", {{"teams", {"infra"}}});
  const auto bare = user("c");
  EXPECT_TRUE(in.matches(model("m", &owner), member));
  EXPECT_FALSE(in.matches(model("m", &owner), outsider));
  EXPECT_FALSE(in.matches(model("m", &owner), bare));
  EXPECT_FALSE(not_in.matches(model("m", &owner), member));
  EXPECT_TRUE(not_in.matches(model("m", &owner), outsider));
  // An owner who sets no teams, or no owner at all, constrains nobody.
  const auto teamless = user("o", {{"roles", {"admin"}}});
  EXPECT_TRUE(in.matches(model("m", &teamless), bare));
  EXPECT_TRUE(in.matches(model("m"), outsider));
  EXPECT_FALSE(not_in.matches(model("m"), outsider));
}

TEST(AccessPolicyConditions, LoneStringAttributeCountsAsOneValue) {
  std::string error;
  const auto in = *parse_condition("user with admin in roles", error);
  apis::Owner odd;
  odd.principal = "x";
  odd.attributes["roles"] = "admin";
  EXPECT_TRUE(in.matches(model("m"), odd));
  odd.attributes["roles"] = 7;
  EXPECT_FALSE(in.matches(model("m"), odd));
}

// ---- evaluation ----

TEST(AccessPolicyEvaluate, FirstMatchingRuleWins) {
  const auto alice = user("alice");
  const auto forbid_first = valid_policy(R"(- forbid:
    actions: [delete]
- permit:
    actions: [create, read, update, delete]
)");
  EXPECT_FALSE(forbid_first.allows(Action::kDelete, model("m"), &alice));
  EXPECT_TRUE(forbid_first.allows(Action::kRead, model("m"), &alice));

  const auto permit_first = valid_policy(R"(- permit:
    actions: [delete]
- forbid:
    actions: [create, read, update, delete]
)");
  EXPECT_TRUE(permit_first.allows(Action::kDelete, model("m"), &alice));
  EXPECT_FALSE(permit_first.allows(Action::kRead, model("m"), &alice));
}

TEST(AccessPolicyEvaluate, RuleWhoseConditionFailsFallsThrough) {
  const auto policy = valid_policy(R"(- forbid:
    actions: [read]
  when: user with guest in roles
- permit:
    actions: [read]
  when: user with reader in roles
)");
  const auto guest = user("g", {{"roles", {"guest", "reader"}}});
  const auto reader = user("r", {{"roles", {"reader"}}});
  const auto nobody = user("n");
  EXPECT_FALSE(policy.allows(Action::kRead, model("m"), &guest));
  EXPECT_TRUE(policy.allows(Action::kRead, model("m"), &reader));
  EXPECT_FALSE(policy.allows(Action::kRead, model("m"), &nobody));  // no rule applies
}

TEST(AccessPolicyEvaluate, WhenListNeedsEveryCondition) {
  const auto policy = valid_policy(R"(- permit:
    actions: [read]
  when: [user with admin in roles, user with ml in teams]
)");
  const auto both = user("a", {{"roles", {"admin"}}, {"teams", {"ml"}}});
  const auto one = user("b", {{"roles", {"admin"}}});
  EXPECT_TRUE(policy.allows(Action::kRead, model("m"), &both));
  EXPECT_FALSE(policy.allows(Action::kRead, model("m"), &one));
}

TEST(AccessPolicyEvaluate, PrincipalScopedRules) {
  const auto policy = valid_policy(R"(- permit:
    principal: user-1
    actions: [create, read, delete]
    resource: model::*
- permit:
    principal: user-2
    actions: [read]
    resource: model::model-1
)");
  const auto user1 = user("user-1");
  const auto user2 = user("user-2");
  const auto user3 = user("user-3");
  EXPECT_TRUE(policy.allows(Action::kDelete, model("any"), &user1));
  EXPECT_FALSE(policy.allows(Action::kUpdate, model("any"), &user1));
  EXPECT_TRUE(policy.allows(Action::kRead, model("model-1"), &user2));
  EXPECT_FALSE(policy.allows(Action::kRead, model("model-2"), &user2));
  EXPECT_FALSE(policy.allows(Action::kDelete, model("model-1"), &user2));
  EXPECT_FALSE(policy.allows(Action::kRead, model("model-1"), &user3));
}

TEST(AccessPolicyEvaluate, ResourceScopes) {
  const auto policy = valid_policy(R"(- forbid:
    actions: [read]
    resource: shield::*
- permit:
    actions: [read]
    resource: model::*
- permit:
    actions: [read]
    resource: vector_db::docs
)");
  const auto alice = user("alice");
  EXPECT_TRUE(policy.allows(Action::kRead, model("llama"), &alice));
  EXPECT_TRUE(policy.allows(Action::kRead, model("ollama/llama3.2:3b"), &alice));
  EXPECT_FALSE(policy.allows(Action::kRead, {"shield", "llama-guard", nullptr}, &alice));
  EXPECT_TRUE(policy.allows(Action::kRead, {"vector_db", "docs", nullptr}, &alice));
  EXPECT_FALSE(policy.allows(Action::kRead, {"vector_db", "docs2", nullptr}, &alice));
  EXPECT_FALSE(policy.allows(Action::kRead, {"vector_dbx", "docs", nullptr}, &alice));
  // "model::*" is a prefix of the qualified id "model::...", not of other types.
  EXPECT_FALSE(policy.allows(Action::kRead, {"models", "x", nullptr}, &alice));
}

TEST(AccessPolicyEvaluate, UnlessAppliesWhenTheConditionsDoNotAllHold) {
  const auto policy = valid_policy(R"(- forbid:
    actions: [create, read, delete]
    resource: vector_db::*
  unless: user with admin in roles
- permit:
    actions: [create, read, delete]
)");
  const auto admin = user("a", {{"roles", {"admin"}}});
  const auto plain = user("p", {{"roles", {"user"}}});
  const ResourceRef db{"vector_db", "docs", nullptr};
  EXPECT_TRUE(policy.allows(Action::kRead, db, &admin));
  EXPECT_FALSE(policy.allows(Action::kRead, db, &plain));
  EXPECT_TRUE(policy.allows(Action::kRead, model("m"), &plain));

  // With a list, `unless` skips the rule only when every condition holds.
  const auto listed = valid_policy(R"(- permit:
    actions: [read]
  unless: [user with admin in roles, user with ml in teams]
)");
  const auto both = user("b", {{"roles", {"admin"}}, {"teams", {"ml"}}});
  EXPECT_FALSE(listed.allows(Action::kRead, model("m"), &both));
  EXPECT_TRUE(listed.allows(Action::kRead, model("m"), &admin));
}

TEST(AccessPolicyEvaluate, OwnerRules) {
  const auto policy = valid_policy(R"(- permit:
    actions: [read, update, delete]
  when: user is owner
- permit:
    actions: [read]
  when: user in owners teams
)");
  const auto owner = user("bob", {{"teams", {"ml"}}});
  const auto teammate = user("alice", {{"teams", {"ml"}}});
  const auto stranger = user("eve", {{"teams", {"infra"}}});
  EXPECT_TRUE(policy.allows(Action::kDelete, model("m", &owner), &owner));
  EXPECT_FALSE(policy.allows(Action::kDelete, model("m", &owner), &teammate));
  EXPECT_TRUE(policy.allows(Action::kRead, model("m", &owner), &teammate));
  EXPECT_FALSE(policy.allows(Action::kRead, model("m", &owner), &stranger));
}

TEST(AccessPolicyEvaluate, NoMatchingRuleIsDenied) {
  const auto policy = valid_policy(R"(- permit:
    actions: [read]
    resource: shield::*
)");
  const auto alice = user("alice");
  EXPECT_FALSE(policy.allows(Action::kRead, model("m"), &alice));
  EXPECT_FALSE(policy.allows(Action::kCreate, {"shield", "s", nullptr}, &alice));
}

TEST(AccessPolicyEvaluate, NoUserIsAllowed) {
  const auto policy = valid_policy(R"(- forbid:
    actions: [create, read, update, delete]
)");
  EXPECT_TRUE(policy.allows(Action::kDelete, model("m"), nullptr));
  const auto alice = user("alice");
  EXPECT_FALSE(policy.allows(Action::kDelete, model("m"), &alice));
}

TEST(AccessPolicyEvaluate, InvalidPolicyDeniesEverything) {
  config::Diagnostics diagnostics;
  const auto policy = parse_policy(R"(- permit:
    actions: [create, read, update, delete]
- forbid:
    actions: [read]
  when: user is nobody
)",
                                   diagnostics);
  ASSERT_TRUE(diagnostics.has_errors());
  const auto alice = user("alice");
  EXPECT_FALSE(policy.allows(Action::kRead, model("m"), &alice));
}

TEST(AccessPolicyEvaluate, ActionNames) {
  for (Action action : {Action::kCreate, Action::kRead, Action::kUpdate, Action::kDelete}) {
    EXPECT_EQ(parse_action(to_string(action)), action);
  }
  EXPECT_FALSE(parse_action("write"));
  EXPECT_FALSE(parse_action("Read"));
}

TEST(AccessPolicyExplain, NamesTheDecidingRule) {
  const auto policy = valid_policy(R"(- forbid:
    actions: [delete]
    resource: model::*
  unless: user with admin in roles
  description: only admins delete models
- permit:
    actions: [read, delete]
)");
  const auto alice = user("alice");
  EXPECT_EQ(policy.explain(Action::kDelete, model("m"), &alice),
            "denied delete on model::m for 'alice': access_policy[0] (forbid actions [delete] on "
            "model::* unless user with admin in roles; only admins delete models)");
  EXPECT_EQ(policy.explain(Action::kRead, model("m"), &alice),
            "allowed read on model::m for 'alice': access_policy[1] (permit actions [read, "
            "delete])");
  EXPECT_EQ(policy.explain(Action::kCreate, model("m"), &alice),
            "denied create on model::m for 'alice': no rule of 2 applies");
  EXPECT_EQ(policy.explain(Action::kCreate, model("m"), nullptr),
            "allowed create on model::m: no authenticated user");
  const auto fallback = AccessPolicy::default_policy().explain(Action::kRead, model("m"), &alice);
  EXPECT_EQ(fallback.rfind("allowed read on model::m for 'alice': default policy (permit", 0), 0u)
      << fallback;
}

}  // namespace
}  // namespace llama_stack::auth
