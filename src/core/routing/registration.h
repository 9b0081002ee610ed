// What every routing table's register_* shares: choosing the provider of a
// registration and checking ids.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "core/util/identifiers.h"
#include "llama_stack/common/errors.h"

namespace llama_stack::routing::detail {

template <typename Provider>
std::string provider_ids(const std::map<std::string, Provider*>& providers) {
  std::string out;
  for (const auto& [id, p] : providers) out += (out.empty() ? "" : ", ") + id;
  return out;
}

// Picks the provider for a registration: the named one, or the only one.
template <typename Provider>
std::pair<std::string, Provider*> choose_provider(const std::map<std::string, Provider*>& providers,
                                                  const std::optional<std::string>& provider_id,
                                                  std::string_view api, std::string_view what) {
  if (provider_id) {
    auto it = providers.find(*provider_id);
    if (it == providers.end()) {
      std::string known = provider_ids(providers);
      throw ApiError::not_found(
          "Provider '" + *provider_id + "' not found for " + std::string(api) +
          " (configured: " + (known.empty() ? std::string("none") : known) + ")");
    }
    return *it;
  }
  if (providers.empty()) {
    throw ApiError::bad_request("Cannot register " + std::string(what) + ": no " +
                                std::string(api) + " provider is configured");
  }
  if (providers.size() > 1) {
    throw ApiError::bad_request("provider_id is required to register " + std::string(what) +
                                " when several " + std::string(api) +
                                " providers are configured (" + provider_ids(providers) + ")");
  }
  return *providers.begin();
}

// A resource identifier: not empty, and clean (core/util/identifiers.h).
inline void require_id(const std::string& id, std::string_view field) {
  if (id.empty()) {
    throw ApiError::bad_request("Field '" + std::string(field) + "' must not be empty");
  }
  if (auto problem = identifier_problem(id)) {
    throw ApiError::bad_request("Field '" + std::string(field) + "' " + *problem);
  }
}

}  // namespace llama_stack::routing::detail
