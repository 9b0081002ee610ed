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

// Throws JsonFieldError(field, "Field '<field>' <problem>") (a 400 naming the
// field) when `value` is not a clean identifier; for names and ids that a
// caller chooses (vector store names, file names, agent and session names).
void require_clean(std::string_view value, std::string_view field);

// Log and audit lines escape what they print, so that no string from outside
// can break a line, forge one, or reorder what a reader sees.
//
// Appends `text` to `out` with control characters (C0, DEL, C1) and bytes of
// invalid UTF-8 as \xNN, and bidirectional formatting characters as \u{XXXX};
// everything else as is. Backslashes are not doubled (paths stay readable).
void append_log_escaped(std::string_view text, std::string& out);
std::string log_escaped(std::string_view text);

// For a serialized JSON text (whose structure is ASCII, so such characters
// can only be inside strings): DEL, C1 and bidirectional formatting
// characters become \uXXXX escapes, bytes of invalid UTF-8 become \ufffd.
// The result is valid JSON with the same values (but for replaced bytes).
std::string json_ascii_safe(std::string text);

}  // namespace llama_stack
