// Identifier hygiene: resource identifiers (models, shields, vector DBs, tool
// groups, ...) end up in logs, audit lines, store keys and headers, so they
// are checked where they enter: valid UTF-8, no control characters (C0, DEL,
// C1), no bidirectional formatting characters (U+061C, U+200E, U+200F,
// U+202A–U+202E, U+2066–U+2069), at most kMaxIdentifierBytes bytes.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace llama_stack {

inline constexpr std::size_t kMaxIdentifierBytes = 256;

// What is wrong with `id` (e.g. "contains the control character U+0000 at
// byte 3"), or nullopt when it is a valid identifier. Empty is valid here
// (callers that need a value check that themselves).
std::optional<std::string> identifier_problem(std::string_view id);

}  // namespace llama_stack
