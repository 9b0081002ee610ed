// inline::code-scanner: flags insecure code in a conversation with a rule set
// of our own (regular expressions per language): weak password hashing,
// eval/exec, shell injection, SQL built by string formatting, disabled TLS
// verification, hard-coded secrets, unsafe deserialization.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace llama_stack::providers::inline_ {

struct CodeFinding {
  std::string rule;      // e.g. "weak-hash"
  std::string language;  // e.g. "python"
};

// Every rule that matches `text` (each rule id once, in rule order).
std::vector<CodeFinding> scan_code(std::string_view text);

}  // namespace llama_stack::providers::inline_
