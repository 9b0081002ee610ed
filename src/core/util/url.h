// URL checks for config values (provider endpoints, JWKS URIs).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace llama_stack {

// Returns an error message when `text` is not an absolute http(s) URL with a
// host; nullopt when it is fine.
std::optional<std::string> check_http_url(std::string_view text);

}  // namespace llama_stack
