// The access-policy rule parser (server.auth.access_policy in run.yaml): the
// YAML through load_yaml and AccessPolicy::parse, and each line on its own
// through parse_condition (the "when"/"unless" expressions).
#include <cstdint>
#include <string>

#include "core/auth/access_policy.h"
#include "core/config/config_node.h"
#include "fuzz/fuzz_support.h"

using namespace llama_stack;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(fuzz::as_text(data, size));
  config::Diagnostics diagnostics;
  const config::ConfigNode root = config::load_yaml(
      text, "access_policy.yaml", [](const std::string&) { return std::nullopt; }, diagnostics);
  if (!diagnostics.has_errors()) (void)auth::AccessPolicy::parse(root, diagnostics);
  std::string_view rest = text;
  while (!rest.empty()) {
    const auto [line, after] = fuzz::split_once(rest);
    std::string error;
    (void)auth::parse_condition(line, error);
    rest = after;
  }
  return 0;
}
