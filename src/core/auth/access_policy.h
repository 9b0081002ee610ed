// Llama Stack's access-control policy (`server.auth.access_policy`): an
// ordered list of permit/forbid rules, loosely after the Cedar policy
// language, that decides whether an authenticated user may create, read,
// update or delete a resource (a model, a shield, a vector_db, ...).
//
// Behaviour follows llama_stack/distribution/access_control in the Python
// server: rules are tried in order and the first rule whose scope matches and
// whose condition holds decides; when no rule decides, access is denied. An
// empty or absent policy means the default policy, which permits every
// action when the user shares, for each of roles/teams/projects/namespaces,
// at least one value with the resource's owner (or the owner sets none).
//
// When authentication is disabled there is no user and callers do not
// consult the policy at all; allows() with a null user returns true so that
// callers may pass whatever they have.
//
// Thread-safety: an AccessPolicy is immutable after parse(); share it freely
// and call its const methods concurrently.
#pragma once

#include "core/config/config_node.h"
#include "llama_stack/apis/resources.h"

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace llama_stack::auth {

// The wire names are "create", "read", "update" and "delete".
enum class Action { kCreate, kRead, kUpdate, kDelete };
std::optional<Action> parse_action(std::string_view text);
std::string_view to_string(Action action);

// The resource an action is about. `type` is Llama Stack's resource type
// ("model", "shield", "vector_db", ...); `owner` is who registered it, null
// when nobody did (resources from run.yaml, or registered without auth).
// REQUIRES: `owner` outlives the call it is passed to.
struct ResourceRef {
  std::string type;
  std::string identifier;
  const apis::Owner* owner = nullptr;
};

// One `when`/`unless` condition, parsed from its string form.
struct Condition {
  enum class Kind {
    kUserIsOwner,         // "user is owner": owner exists and has the user's principal
    kUserIsNotOwner,      // "user is not owner"
    kUserWithValueIn,     // "user with <value> in <attribute>"
    kUserWithValueNotIn,  // "user with <value> not in <attribute>"
    kUserInOwners,        // "user in owners <attribute>": shares a value, or owner sets none
    kUserNotInOwners,     // "user not in owners <attribute>"
  };
  Kind kind = Kind::kUserIsOwner;
  std::string value;      // for kUserWithValue*
  std::string attribute;  // "roles", "teams", "projects" or "namespaces"; empty for kUserIs*

  bool matches(const ResourceRef& resource, const apis::Owner& user) const;
  // The canonical string form, e.g. "user in owners roles".
  std::string to_string() const;
};

// Parses one condition; on failure returns nullopt and sets `error`.
std::optional<Condition> parse_condition(std::string_view text, std::string& error);

// One rule: exactly one of permit/forbid, at most one of when/unless.
struct AccessRule {
  enum class Effect { kPermit, kForbid };
  Effect effect = Effect::kPermit;
  // The scope. An unset principal or resource matches every request.
  std::optional<std::string> principal;
  std::vector<Action> actions;
  // "type::id" or "type::*".
  std::optional<std::string> resource;
  // At most one of these is non-empty; all conditions in a list must hold.
  std::vector<Condition> when;
  std::vector<Condition> unless;
  std::optional<std::string> description;

  // Whether the rule's scope covers the request (principal, action, resource).
  bool in_scope(Action action, const ResourceRef& target, const apis::Owner& user) const;
  // Whether the rule, once in scope, decides: `when` holds, or `unless` does not.
  bool applies(const ResourceRef& target, const apis::Owner& user) const;
  // One line, e.g. "forbid actions [read] on vector_db::* unless user with admin in roles".
  std::string to_string() const;
};

class AccessPolicy {
 public:
  // The policy in force when none is configured (see the file comment).
  static AccessPolicy default_policy();

  // Parses the rule list at `node` (a null node, or an empty list, gives the
  // default policy). Errors and warnings go to `diagnostics` with key paths
  // such as "server.auth.access_policy[2].when". When this call adds an error
  // the returned policy has no rules and so denies every request: a broken
  // policy fails closed even if a caller goes on.
  static AccessPolicy parse(const config::ConfigNode& node, config::Diagnostics& diagnostics);

  // Python's is_action_allowed. A null `user` (authentication disabled)
  // is always allowed.
  bool allows(Action action, const ResourceRef& resource, const apis::Owner* user) const;

  // Which rule decided and how, in one line for debug logs, e.g.
  // "allowed by rule 1 (permit when user in owners roles, ...)".
  std::string explain(Action action, const ResourceRef& resource, const apis::Owner* user) const;

  std::size_t rule_count() const { return rules_.size(); }
  const std::vector<AccessRule>& rules() const { return rules_; }
  // True for default_policy() and for a parsed policy that configured no rules.
  bool is_default() const { return is_default_; }

 private:
  AccessPolicy(std::vector<AccessRule> rules, bool is_default)
      : rules_(std::move(rules)), is_default_(is_default) {}

  // The index of the rule that decides, or nullopt when none does.
  std::optional<std::size_t> deciding_rule(Action action, const ResourceRef& resource,
                                           const apis::Owner& user) const;

  std::vector<AccessRule> rules_;
  bool is_default_ = false;  // for explain()
};

}  // namespace llama_stack::auth
