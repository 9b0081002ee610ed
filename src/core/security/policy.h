// Policy: the per-call access decisions, in one place for every router and
// route — the access policy (server.auth.access_policy: who may read, create
// or delete a resource) and model/shield/vector-DB access by OAuth scope
// (server.oauth.enforce_model_permissions). Routers consult it for internal
// calls exactly as for HTTP calls.
//
// Thread-safety: immutable after construction; safe for concurrent use.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/auth/access_policy.h"
#include "core/security/security_config.h"
#include "llama_stack/apis/resources.h"

namespace llama_stack::security {

class Policy {
 public:
  // `access_policy` is unset when authentication is off (everything allowed).
  Policy(OAuthSettings oauth, std::optional<auth::AccessPolicy> access_policy)
      : oauth_(std::move(oauth)), access_policy_(std::move(access_policy)) {}

  // The access policy. Always true without auth or without a user.
  bool allows(auth::Action action, const std::string& type, const std::string& identifier,
              const std::optional<apis::Owner>& owner,
              const std::optional<apis::Owner>& user) const;
  // Model access by scope: nullopt when `scopes` may use the model, else why not.
  std::optional<std::string> model_scope_denial(const apis::Model& model,
                                                const std::vector<std::string>& scopes) const;
  // Scope checks for shields and vector DBs (same rules as models, but a
  // resource without a required scope stays open).
  std::optional<std::string> resource_scope_denial(std::string_view type, const std::string& id,
                                                   const json::object& params,
                                                   const std::vector<std::string>& scopes) const;

  const OAuthSettings& oauth() const { return oauth_; }

 private:
  OAuthSettings oauth_;
  std::optional<auth::AccessPolicy> access_policy_;
};

}  // namespace llama_stack::security
