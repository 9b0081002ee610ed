#include "core/security/policy.h"

#include <algorithm>

namespace llama_stack::security {

bool Policy::allows(auth::Action action, const std::string& type, const std::string& identifier,
                    const std::optional<apis::Owner>& owner,
                    const std::optional<apis::Owner>& user) const {
  if (!access_policy_ || !user) return true;
  auth::ResourceRef resource{type, identifier, owner ? &*owner : nullptr};
  return access_policy_->allows(action, resource, &*user);
}

std::optional<std::string> Policy::model_scope_denial(
    const apis::Model& model, const std::vector<std::string>& scopes) const {
  if (!oauth_.enforce_model_permissions) return std::nullopt;
  auto required = required_scope(oauth_, model.identifier, model.metadata);
  if (!required) {
    if (!oauth_.deny_unmapped_models) return std::nullopt;
    return "Access to model '" + model.identifier +
           "' is denied: it has no required scope configured "
           "(models are denied by default; map it in server.oauth.model_scope_overrides)";
  }
  if (std::find(scopes.begin(), scopes.end(), *required) != scopes.end()) return std::nullopt;
  return "Insufficient scope: model '" + model.identifier + "' requires scope '" + *required + "'";
}

std::optional<std::string> Policy::resource_scope_denial(
    std::string_view type, const std::string& id, const json::object& params,
    const std::vector<std::string>& scopes) const {
  if (!oauth_.enforce_model_permissions) return std::nullopt;
  const auto& overrides =
      type == "shield" ? oauth_.shield_scope_overrides : oauth_.vector_db_scope_overrides;
  std::optional<std::string> required;
  if (auto it = overrides.find(id); it != overrides.end()) {
    required = it->second;
  } else if (auto p = params.find("required_scope"); p != params.end() && p->value().is_string()) {
    required = std::string(p->value().get_string());
  }
  if (!required || std::find(scopes.begin(), scopes.end(), *required) != scopes.end())
    return std::nullopt;
  return "Insufficient scope: " + std::string(type) + " '" + id + "' requires scope '" + *required +
         "'";
}

}  // namespace llama_stack::security
