#include "core/services/services.h"

#include <algorithm>

namespace llama_stack {

bool Services::serves(std::string_view api) const {
  if (!config->apis.empty()) {
    return std::find(config->apis.begin(), config->apis.end(), api) != config->apis.end();
  }
  return std::any_of(config->providers.begin(), config->providers.end(),
                     [&](const auto& p) { return p.api == api; });
}

}  // namespace llama_stack
