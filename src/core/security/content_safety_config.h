// Scope-based content-safety levels (`server.oauth`, the security
// recommendation's "Safety and Content Filtering"): which shields judge
// every inference request, and how strict each caller's level is.
//
//   enforce_content_safety: true
//   default_safety_level: basic_user
//   content_safety_shields: [llama-guard]     # default: every run.yaml shield
//   safety_level_scopes: {research_access: research_user, premium_access: premium_user}
//   safety_levels:
//     basic_user: {max_violence_score: 0.3, max_hate_score: 0.2, max_sexual_score: 0.2,
//                  blocked_categories: [illegal, harmful]}
//   safety_stream_window_chars: 200
//
// docs/configuration.md has every key; docs/security.md the category map.
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "core/config/config_node.h"

namespace llama_stack::security {

struct SafetyLevel {
  // A family's score above its maximum is a violation. A level that omits a
  // maximum blocks any flagged content of that family (0.0).
  double max_violence_score = 0.0;
  double max_hate_score = 0.0;
  double max_sexual_score = 0.0;
  // Families (illegal, harmful) or shield category codes (S2, VIOLENCE, a
  // code-scanner rule id) blocked whenever flagged, whatever the score.
  std::vector<std::string> blocked_categories;
  bool check_input = true;
  bool check_output = true;
};

struct ContentSafetySettings {
  bool enforce = false;
  std::string default_level = "basic_user";
  std::map<std::string, SafetyLevel> levels;                      // the seed's three by default
  std::vector<std::pair<std::string, std::string>> level_scopes;  // scope → level, first match
  std::vector<std::string> shields;                               // empty: every shield of run.yaml
  std::size_t stream_window_chars = 200;

  // The level for a token's scopes.
  const std::string& level_for(const std::vector<std::string>& scopes) const;
};

// The seed's basic_user / premium_user / research_user levels and their scopes.
ContentSafetySettings default_content_safety();

// Reads the content-safety keys of `server.oauth` (through `reader`, which
// the caller finishes) into `settings`; errors name the key.
void parse_content_safety(config::MapReader& reader, const config::ConfigNode& node,
                          ContentSafetySettings& settings, config::Diagnostics& diagnostics);

}  // namespace llama_stack::security
