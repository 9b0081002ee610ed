#include "core/auth/access_policy.h"

#include <algorithm>
#include <array>
#include <cctype>

namespace llama_stack::auth {

namespace {

constexpr std::array<std::string_view, 4> kAttributeNames = {"roles", "teams", "projects",
                                                             "namespaces"};

constexpr std::string_view kConditionForms =
    "expected one of 'user is owner', 'user is not owner', 'user with <value> in <attribute>', "
    "'user with <value> not in <attribute>', 'user in owners <attribute>', "
    "'user not in owners <attribute>'";

// The values of one attribute, as Llama Stack stores them: a list of strings.
// A lone string counts as a one-element list; anything else as no values.
std::vector<std::string_view> attribute_values(const json::object& attributes,
                                               std::string_view name) {
  std::vector<std::string_view> out;
  auto it = attributes.find(name);
  if (it == attributes.end()) return out;
  if (it->value().is_string()) {
    out.emplace_back(it->value().get_string());
  } else if (it->value().is_array()) {
    for (const auto& item : it->value().get_array()) {
      if (item.is_string()) out.emplace_back(item.get_string());
    }
  }
  return out;
}

bool contains(const std::vector<std::string_view>& values, std::string_view value) {
  return std::find(values.begin(), values.end(), value) != values.end();
}

bool is_owner(const ResourceRef& resource, const apis::Owner& user) {
  return resource.owner != nullptr && resource.owner->principal == user.principal;
}

// "user in owners A": true when the owner sets no values for A (no owner
// included), else when the user holds at least one of them.
bool in_owners(const ResourceRef& resource, const apis::Owner& user, std::string_view attribute) {
  if (resource.owner == nullptr) return true;
  const auto required = attribute_values(resource.owner->attributes, attribute);
  if (required.empty()) return true;
  const auto held = attribute_values(user.attributes, attribute);
  return std::any_of(required.begin(), required.end(),
                     [&](std::string_view value) { return contains(held, value); });
}

bool all_match(const std::vector<Condition>& conditions, const ResourceRef& resource,
               const apis::Owner& user) {
  return std::all_of(conditions.begin(), conditions.end(),
                     [&](const Condition& condition) { return condition.matches(resource, user); });
}

std::vector<std::string_view> split_words(std::string_view text) {
  std::vector<std::string_view> words;
  std::size_t pos = 0;
  while (pos < text.size()) {
    while (pos < text.size() && std::isspace(static_cast<unsigned char>(text[pos]))) ++pos;
    std::size_t end = pos;
    while (end < text.size() && !std::isspace(static_cast<unsigned char>(text[end]))) ++end;
    if (end > pos) words.push_back(text.substr(pos, end - pos));
    pos = end;
  }
  return words;
}

std::string join_conditions(const std::vector<Condition>& conditions) {
  std::string out;
  for (const auto& condition : conditions) {
    if (!out.empty()) out += ", ";
    out += condition.to_string();
  }
  return out;
}

// ---- parsing ----

std::string child_path(const config::ConfigNode& parent, std::string_view key) {
  return parent.path.empty() ? std::string(key) : parent.path + "." + std::string(key);
}

bool present(const config::ConfigNode* node) {
  return node != nullptr && !node->is_null();
}

void parse_action_node(const config::ConfigNode& node, std::vector<Action>& out,
                       config::Diagnostics& diagnostics) {
  if (!node.is_scalar()) {
    diagnostics.error(node, "expected an action (create, read, update or delete)");
    return;
  }
  auto action = parse_action(node.scalar);
  if (!action) {
    diagnostics.error(
        node, "unknown action '" + node.scalar + "' (expected create, read, update or delete)");
    return;
  }
  if (std::find(out.begin(), out.end(), *action) == out.end()) out.push_back(*action);
}

// "type::id" or "type::*", both parts non-empty.
bool valid_resource_scope(std::string_view text) {
  const auto sep = text.find("::");
  return sep != std::string_view::npos && sep > 0 && sep + 2 < text.size();
}

void parse_scope(const config::ConfigNode& node, AccessRule& rule,
                 config::Diagnostics& diagnostics) {
  config::MapReader reader(node, diagnostics);
  if (auto principal = reader.string("principal"); principal && !principal->empty()) {
    rule.principal = std::move(*principal);
  }

  const config::ConfigNode* actions = reader.node("actions");
  if (!present(actions)) {
    diagnostics.error(node.location, child_path(node, "actions"),
                      "required key is missing (one action or a list of create, read, update, "
                      "delete)");
  } else if (actions->is_sequence()) {
    for (const auto& item : actions->items) parse_action_node(item, rule.actions, diagnostics);
    if (actions->items.empty()) {
      diagnostics.warning(*actions, "no actions are listed: this rule never applies");
    }
  } else {
    parse_action_node(*actions, rule.actions, diagnostics);
  }

  const config::ConfigNode* resource = reader.node("resource");
  if (present(resource)) {
    if (!resource->is_scalar()) {
      diagnostics.error(*resource, "expected a resource such as 'model::my-model' or 'model::*'");
    } else if (!valid_resource_scope(resource->scalar)) {
      diagnostics.error(*resource, "invalid resource '" + resource->scalar +
                                       "': expected '<type>::<identifier>' or '<type>::*', "
                                       "e.g. 'model::my-model' or 'vector_db::*'");
    } else {
      rule.resource = resource->scalar;
    }
  }
  reader.finish();
}

void parse_condition_node(const config::ConfigNode& node, std::vector<Condition>& out,
                          config::Diagnostics& diagnostics) {
  if (!node.is_scalar()) {
    diagnostics.error(node, "expected a condition string such as 'user in owners roles'");
    return;
  }
  std::string error;
  if (auto condition = parse_condition(node.scalar, error)) {
    out.push_back(std::move(*condition));
  } else {
    diagnostics.error(node, error);
  }
}

// `when`/`unless`: one condition string or a list of them.
void parse_conditions(const config::ConfigNode& node, std::vector<Condition>& out,
                      config::Diagnostics& diagnostics) {
  if (node.is_sequence()) {
    for (const auto& item : node.items) parse_condition_node(item, out, diagnostics);
  } else if (node.is_scalar()) {
    parse_condition_node(node, out, diagnostics);
  } else {
    diagnostics.error(node,
                      "expected a condition string or a list of them, e.g. 'user in owners roles'");
  }
}

std::optional<AccessRule> parse_rule(const config::ConfigNode& node,
                                     config::Diagnostics& diagnostics) {
  if (!node.is_map()) {
    diagnostics.error(node, "expected a rule: a mapping with 'permit' or 'forbid'");
    return std::nullopt;
  }
  config::MapReader reader(node, diagnostics);
  const config::ConfigNode* permit = reader.node("permit");
  const config::ConfigNode* forbid = reader.node("forbid");
  const config::ConfigNode* when = reader.node("when");
  const config::ConfigNode* unless = reader.node("unless");
  AccessRule rule;
  rule.description = reader.string("description");
  reader.finish();

  bool ok = true;
  const config::ConfigNode* scope = nullptr;
  if (present(permit) && present(forbid)) {
    diagnostics.error(node, "permit and forbid are mutually exclusive: a rule has exactly one");
    ok = false;
  } else if (present(permit)) {
    rule.effect = AccessRule::Effect::kPermit;
    scope = permit;
  } else if (present(forbid)) {
    rule.effect = AccessRule::Effect::kForbid;
    scope = forbid;
  } else {
    diagnostics.error(node, "one of permit or forbid is required");
    ok = false;
  }
  if (scope != nullptr) parse_scope(*scope, rule, diagnostics);

  if (present(when) && present(unless)) {
    diagnostics.error(node, "when and unless are mutually exclusive");
    ok = false;
  } else if (present(when)) {
    parse_conditions(*when, rule.when, diagnostics);
  } else if (present(unless)) {
    parse_conditions(*unless, rule.unless, diagnostics);
  }
  if (!ok) return std::nullopt;
  return rule;
}

}  // namespace

// ---- actions ----

std::optional<Action> parse_action(std::string_view text) {
  if (text == "create") return Action::kCreate;
  if (text == "read") return Action::kRead;
  if (text == "update") return Action::kUpdate;
  if (text == "delete") return Action::kDelete;
  return std::nullopt;
}

std::string_view to_string(Action action) {
  switch (action) {
    case Action::kCreate:
      return "create";
    case Action::kRead:
      return "read";
    case Action::kUpdate:
      return "update";
    case Action::kDelete:
      return "delete";
  }
  return "unknown";
}

// ---- conditions ----

bool Condition::matches(const ResourceRef& resource, const apis::Owner& user) const {
  switch (kind) {
    case Kind::kUserIsOwner:
      return is_owner(resource, user);
    case Kind::kUserIsNotOwner:
      return !is_owner(resource, user);
    case Kind::kUserWithValueIn:
      return contains(attribute_values(user.attributes, attribute), value);
    case Kind::kUserWithValueNotIn:
      return !contains(attribute_values(user.attributes, attribute), value);
    case Kind::kUserInOwners:
      return in_owners(resource, user, attribute);
    case Kind::kUserNotInOwners:
      return !in_owners(resource, user, attribute);
  }
  return false;
}

std::string Condition::to_string() const {
  switch (kind) {
    case Kind::kUserIsOwner:
      return "user is owner";
    case Kind::kUserIsNotOwner:
      return "user is not owner";
    case Kind::kUserWithValueIn:
      return "user with " + value + " in " + attribute;
    case Kind::kUserWithValueNotIn:
      return "user with " + value + " not in " + attribute;
    case Kind::kUserInOwners:
      return "user in owners " + attribute;
    case Kind::kUserNotInOwners:
      return "user not in owners " + attribute;
  }
  return "?";
}

std::optional<Condition> parse_condition(std::string_view text, std::string& error) {
  const auto words = split_words(text);
  const auto quoted = "'" + std::string(text) + "'";
  Condition condition;
  std::string_view attribute;
  auto is = [&](std::initializer_list<std::string_view> pattern) {
    // Matches `words` against `pattern`, where "*" stands for any one word.
    if (words.size() != pattern.size()) return false;
    std::size_t idx = 0;
    for (auto expected : pattern) {
      if (expected != "*" && words[idx] != expected) return false;
      ++idx;
    }
    return true;
  };
  if (is({"user", "is", "owner"})) {
    condition.kind = Condition::Kind::kUserIsOwner;
    return condition;
  }
  if (is({"user", "is", "not", "owner"})) {
    condition.kind = Condition::Kind::kUserIsNotOwner;
    return condition;
  }
  if (is({"user", "with", "*", "in", "*"})) {
    condition.kind = Condition::Kind::kUserWithValueIn;
    condition.value = std::string(words[2]);
    attribute = words[4];
  } else if (is({"user", "with", "*", "not", "in", "*"})) {
    condition.kind = Condition::Kind::kUserWithValueNotIn;
    condition.value = std::string(words[2]);
    attribute = words[5];
  } else if (is({"user", "in", "owners", "*"})) {
    condition.kind = Condition::Kind::kUserInOwners;
    attribute = words[3];
  } else if (is({"user", "not", "in", "owners", "*"})) {
    condition.kind = Condition::Kind::kUserNotInOwners;
    attribute = words[4];
  } else {
    error = "invalid condition " + quoted + ": " + std::string(kConditionForms);
    return std::nullopt;
  }
  if (std::find(kAttributeNames.begin(), kAttributeNames.end(), attribute) ==
      kAttributeNames.end()) {
    error = "invalid condition " + quoted + ": unknown attribute '" + std::string(attribute) +
            "' (expected roles, teams, projects or namespaces)";
    return std::nullopt;
  }
  condition.attribute = std::string(attribute);
  return condition;
}

// ---- rules ----

bool AccessRule::in_scope(Action action, const ResourceRef& target, const apis::Owner& user) const {
  if (resource) {
    // As Python's matches_resource: the qualified id exactly, or a "type::*" prefix.
    const std::string qualified = target.type + "::" + target.identifier;
    const std::string_view scope = *resource;
    const bool wildcard =
        scope.ends_with("::*") && qualified.starts_with(scope.substr(0, scope.size() - 1));
    if (*resource != qualified && !wildcard) return false;
  }
  if (principal && *principal != user.principal) return false;
  return std::find(actions.begin(), actions.end(), action) != actions.end();
}

bool AccessRule::applies(const ResourceRef& target, const apis::Owner& user) const {
  if (!when.empty()) return all_match(when, target, user);
  if (!unless.empty()) return !all_match(unless, target, user);
  return true;
}

std::string AccessRule::to_string() const {
  std::string out = effect == Effect::kPermit ? "permit" : "forbid";
  if (principal) out += " principal " + *principal;
  out += " actions [";
  for (std::size_t idx = 0; idx < actions.size(); ++idx) {
    if (idx > 0) out += ", ";
    out += auth::to_string(actions[idx]);
  }
  out += "]";
  if (resource) out += " on " + *resource;
  if (!when.empty()) out += " when " + join_conditions(when);
  if (!unless.empty()) out += " unless " + join_conditions(unless);
  return out;
}

// ---- policy ----

AccessPolicy AccessPolicy::default_policy() {
  AccessRule rule;
  rule.effect = AccessRule::Effect::kPermit;
  rule.actions = {Action::kCreate, Action::kRead, Action::kUpdate, Action::kDelete};
  for (auto name : kAttributeNames) {
    Condition condition;
    condition.kind = Condition::Kind::kUserInOwners;
    condition.attribute = std::string(name);
    rule.when.push_back(std::move(condition));
  }
  rule.description = "default: users share an attribute value with the resource's owner";
  return AccessPolicy({std::move(rule)}, /*is_default=*/true);
}

AccessPolicy AccessPolicy::parse(const config::ConfigNode& node, config::Diagnostics& diagnostics) {
  if (node.is_null()) return default_policy();
  if (!node.is_sequence()) {
    diagnostics.error(node, "expected a list of access rules");
    return AccessPolicy({}, /*is_default=*/false);
  }
  if (node.items.empty()) return default_policy();

  const std::size_t errors_before = diagnostics.errors().size();
  std::vector<AccessRule> rules;
  for (const auto& item : node.items) {
    if (auto rule = parse_rule(item, diagnostics)) rules.push_back(std::move(*rule));
  }
  if (diagnostics.errors().size() != errors_before) return AccessPolicy({}, /*is_default=*/false);
  return AccessPolicy(std::move(rules), /*is_default=*/false);
}

std::optional<std::size_t> AccessPolicy::deciding_rule(Action action, const ResourceRef& resource,
                                                       const apis::Owner& user) const {
  for (std::size_t rule_idx = 0; rule_idx < rules_.size(); ++rule_idx) {
    const AccessRule& rule = rules_[rule_idx];
    if (rule.in_scope(action, resource, user) && rule.applies(resource, user)) return rule_idx;
  }
  return std::nullopt;
}

bool AccessPolicy::allows(Action action, const ResourceRef& resource,
                          const apis::Owner* user) const {
  if (user == nullptr) return true;
  auto rule_idx = deciding_rule(action, resource, *user);
  return rule_idx && rules_[*rule_idx].effect == AccessRule::Effect::kPermit;
}

std::string AccessPolicy::explain(Action action, const ResourceRef& resource,
                                  const apis::Owner* user) const {
  std::string request =
      std::string(to_string(action)) + " on " + resource.type + "::" + resource.identifier;
  if (user == nullptr) return "allowed " + request + ": no authenticated user";
  request += " for '" + user->principal + "'";
  auto rule_idx = deciding_rule(action, resource, *user);
  if (!rule_idx) {
    return "denied " + request + ": no rule of " + std::to_string(rules_.size()) + " applies";
  }
  const AccessRule& rule = rules_[*rule_idx];
  std::string out = rule.effect == AccessRule::Effect::kPermit ? "allowed " : "denied ";
  out += request + ": ";
  out += is_default_ ? "default policy" : "access_policy[" + std::to_string(*rule_idx) + "]";
  out += " (" + rule.to_string();
  if (rule.description) out += "; " + *rule.description;
  out += ")";
  return out;
}

}  // namespace llama_stack::auth
