#include "core/routing/resource_access.h"

#include <algorithm>

namespace llama_stack::routing {

bool ResourceAccess::readable(const apis::CallContext& caller, std::string_view type,
                              const std::string& id,
                              const std::optional<apis::Owner>& owner) const {
  return policy_.allows(auth::Action::kRead, std::string(type), id, owner, caller.user);
}

std::vector<apis::Model> ResourceAccess::visible(const apis::CallContext& caller,
                                                 std::vector<apis::Model> models) const {
  std::erase_if(models, [&](const apis::Model& m) {
    return !readable(caller, "model", m.identifier, m.owner) ||
           policy_.model_scope_denial(m, caller.scopes).has_value();
  });
  return models;
}

std::vector<apis::Shield> ResourceAccess::visible(const apis::CallContext& caller,
                                                  std::vector<apis::Shield> shields) const {
  std::erase_if(shields, [&](const apis::Shield& s) {
    return !readable(caller, "shield", s.identifier, s.owner) ||
           policy_.resource_scope_denial("shield", s.identifier, s.params, caller.scopes)
               .has_value();
  });
  return shields;
}

std::vector<apis::VectorDB> ResourceAccess::visible(const apis::CallContext& caller,
                                                    std::vector<apis::VectorDB> vector_dbs) const {
  std::erase_if(vector_dbs, [&](const apis::VectorDB& v) {
    return !readable(caller, "vector_db", v.identifier, v.owner) ||
           policy_.resource_scope_denial("vector_db", v.identifier, {}, caller.scopes).has_value();
  });
  return vector_dbs;
}

std::vector<apis::ToolGroup> ResourceAccess::visible(const apis::CallContext& caller,
                                                     std::vector<apis::ToolGroup> groups) const {
  std::erase_if(groups, [&](const apis::ToolGroup& g) {
    return !readable(caller, "tool_group", g.identifier, g.owner);
  });
  return groups;
}

void ResourceAccess::check_read(const apis::CallContext& caller, std::string_view type,
                                const std::string& id, const std::optional<apis::Owner>& owner,
                                const ApiError& not_found) const {
  if (!readable(caller, type, id, owner)) throw not_found;
}

void ResourceAccess::check_scope(const apis::CallContext& caller,
                                 const apis::Shield& shield) const {
  if (auto denial = policy_.resource_scope_denial("shield", shield.identifier, shield.params,
                                                  caller.scopes)) {
    throw ApiError::forbidden(*denial);
  }
}

void ResourceAccess::check_scope(const apis::CallContext& caller,
                                 const apis::VectorDB& vector_db) const {
  if (auto denial =
          policy_.resource_scope_denial("vector_db", vector_db.identifier, {}, caller.scopes)) {
    throw ApiError::forbidden(*denial);
  }
}

void ResourceAccess::check(const apis::CallContext& caller, auth::Action action,
                           std::string_view type, const std::string& id,
                           const std::optional<apis::Owner>& owner) const {
  if (policy_.allows(action, std::string(type), id, owner, caller.user)) return;
  security::audit_call(audit_, "access_denied", security::AuditLevel::kWarning, caller,
                       json::object{{"resource", std::string(type) + "::" + id},
                                    {"action", std::string(auth::to_string(action))},
                                    {"reason", "access_policy"}});
  throw ApiError::forbidden("Permission denied: " + std::string(auth::to_string(action)) + " on " +
                            std::string(type) + " '" + id + "'");
}

}  // namespace llama_stack::routing
