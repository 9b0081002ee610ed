// ResourceAccess: who may see and change which resource — the access policy
// (read, create, delete; a resource the caller may not read does not exist
// for them) and access by OAuth scope (models in listings; shields and vector
// DBs in listings and on direct reads). Used by the resource routes and by
// any internal caller (an agent listing the shields it may use), so both are
// checked and audited the same way.
//
// Thread-safety: immutable; safe for concurrent use.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/security/audit_log.h"
#include "core/security/policy.h"
#include "llama_stack/apis/call_context.h"
#include "llama_stack/apis/resources.h"
#include "llama_stack/apis/tools.h"
#include "llama_stack/common/errors.h"

namespace llama_stack::routing {

class ResourceAccess {
 public:
  // `audit` may be null (not configured). Both must outlive this.
  ResourceAccess(const security::Policy& policy, security::AuditLog* audit)
      : policy_(policy), audit_(audit) {}

  // What the caller may list: readable, and covered by its scopes.
  std::vector<apis::Model> visible(const apis::CallContext& caller,
                                   std::vector<apis::Model> models) const;
  std::vector<apis::Shield> visible(const apis::CallContext& caller,
                                    std::vector<apis::Shield> shields) const;
  std::vector<apis::VectorDB> visible(const apis::CallContext& caller,
                                      std::vector<apis::VectorDB> vector_dbs) const;
  std::vector<apis::ToolGroup> visible(const apis::CallContext& caller,
                                       std::vector<apis::ToolGroup> groups) const;

  // Whether the policy lets the caller read the resource (no audit event).
  bool readable_by(const apis::CallContext& caller, std::string_view type, const std::string& id,
                   const std::optional<apis::Owner>& owner) const {
    return readable(caller, type, id, owner);
  }

  // One resource read by id (get, or before a delete): throws `not_found`
  // when the policy does not let the caller read it.
  void check_read(const apis::CallContext& caller, std::string_view type, const std::string& id,
                  const std::optional<apis::Owner>& owner, const ApiError& not_found) const;
  // Direct reads of shields and vector DBs: 403 naming the scope the caller lacks.
  void check_scope(const apis::CallContext& caller, const apis::Shield& shield) const;
  void check_scope(const apis::CallContext& caller, const apis::VectorDB& vector_db) const;

  // Create or delete: 403 (audited as access_denied) unless the policy allows.
  void check(const apis::CallContext& caller, auth::Action action, std::string_view type,
             const std::string& id, const std::optional<apis::Owner>& owner) const;

 private:
  bool readable(const apis::CallContext& caller, std::string_view type, const std::string& id,
                const std::optional<apis::Owner>& owner) const;

  const security::Policy& policy_;
  security::AuditLog* audit_;
};

}  // namespace llama_stack::routing
