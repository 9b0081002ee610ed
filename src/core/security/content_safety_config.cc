#include "core/security/content_safety_config.h"

#include <algorithm>

namespace llama_stack::security {

const std::string& ContentSafetySettings::level_for(const std::vector<std::string>& scopes) const {
  for (const auto& [scope, level] : level_scopes) {
    if (std::find(scopes.begin(), scopes.end(), scope) != scopes.end()) return level;
  }
  return default_level;
}

ContentSafetySettings default_content_safety() {
  ContentSafetySettings s;
  s.levels["basic_user"] = SafetyLevel{0.3, 0.2, 0.2, {"illegal", "harmful"}};
  s.levels["premium_user"] = SafetyLevel{0.5, 0.4, 0.4, {"illegal"}};
  s.levels["research_user"] = SafetyLevel{0.8, 0.7, 0.7, {}};
  s.level_scopes = {{"research_access", "research_user"}, {"premium_access", "premium_user"}};
  return s;
}

void parse_content_safety(config::MapReader& r, const config::ConfigNode& node,
                          ContentSafetySettings& s, config::Diagnostics& diagnostics) {
  s.enforce = r.boolean("enforce_content_safety").value_or(false);
  s.default_level = r.string_or("default_safety_level", s.default_level);
  if (const auto* levels = r.node("safety_levels"); levels != nullptr && !levels->is_null()) {
    if (!levels->is_map()) {
      diagnostics.error(*levels, "safety_levels: expected a mapping of level name to thresholds");
    } else {
      s.levels.clear();  // the configured levels replace the defaults
      for (const auto& entry : levels->entries) {
        const std::string& name = entry.first;  // (clang 14 cannot capture bindings)
        const config::ConfigNode& body = entry.second;
        config::MapReader lr(body, diagnostics);
        SafetyLevel level;
        auto score = [&](const char* key) {
          const auto v = lr.number(key);
          if (v && (*v < 0.0 || *v > 1.0)) {
            diagnostics.error(*body.find(key), std::string("safety_levels.") + name + "." + key +
                                                   " must be between 0 and 1");
          }
          return v.value_or(0.0);
        };
        level.max_violence_score = score("max_violence_score");
        level.max_hate_score = score("max_hate_score");
        level.max_sexual_score = score("max_sexual_score");
        level.blocked_categories = lr.string_list("blocked_categories");
        level.check_input = lr.boolean("check_input").value_or(true);
        level.check_output = lr.boolean("check_output").value_or(true);
        lr.finish();
        s.levels[name] = std::move(level);
      }
    }
  }
  if (const auto* scopes = r.node("safety_level_scopes"); scopes != nullptr && !scopes->is_null()) {
    if (!scopes->is_map()) {
      diagnostics.error(*scopes,
                        "safety_level_scopes: expected a mapping of scope to level "
                        "(first match wins)");
    } else {
      s.level_scopes.clear();
      for (const auto& [scope, level] : scopes->entries) {
        s.level_scopes.emplace_back(scope, level.scalar);
      }
    }
  }
  if (r.node("safety_levels") != nullptr && r.node("safety_level_scopes") == nullptr) {
    // Configured levels without a scope map: the default mappings apply to
    // the levels that still exist.
    std::erase_if(s.level_scopes, [&](const auto& m) { return !s.levels.count(m.second); });
  }
  s.shields = r.string_list("content_safety_shields");
  if (auto window = r.integer("safety_stream_window_chars", 1, 1 << 20)) {
    s.stream_window_chars = static_cast<std::size_t>(*window);
  }
  if (!s.levels.count(s.default_level)) {
    diagnostics.error(
        node.find("default_safety_level") != nullptr ? *node.find("default_safety_level") : node,
        "default_safety_level '" + s.default_level + "' is not a safety level");
  }
  for (const auto& [scope, level] : s.level_scopes) {
    if (!s.levels.count(level)) {
      diagnostics.error(
          *node.find("safety_level_scopes"),
          "safety_level_scopes maps '" + scope + "' to unknown level '" + level + "'");
    }
  }
}

}  // namespace llama_stack::security
