// run.yaml: YAML with ${env...} substitution (load_yaml, with a fixed
// environment), parse_stack_config (every section: providers, stores —
// sqlite, postgres, redis and their URLs —, server incl. metrics, TLS, auth,
// quota, oauth, access policy, telemetry/OTLP settings) and
// validate_stack_config (every provider's config against the built-in
// registry), as `llama-stack run` and `validate` load a config.
#include <cstdint>
#include <map>
#include <string>

#include "core/config/config_node.h"
#include "core/config/stack_config.h"
#include "core/registry/provider_registry.h"
#include "core/stack.h"
#include "fuzz/fuzz_support.h"

using namespace llama_stack;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::map<std::string, std::string> env = {{"OLLAMA_URL", "http://localhost:11434"},
                                                         {"INFERENCE_MODEL", "llama3.2:3b"},
                                                         {"SQLITE_STORE_DIR", "/tmp/fuzz-run-yaml"},
                                                         {"EMPTY", ""},
                                                         {"PORT", "8321"}};
  const config::EnvLookup lookup = [](const std::string& name) -> std::optional<std::string> {
    auto it = env.find(name);
    if (it == env.end()) return std::nullopt;
    return it->second;
  };
  const std::string text(fuzz::as_text(data, size));
  config::Diagnostics diagnostics;
  const config::ConfigNode root = config::load_yaml(text, "run.yaml", lookup, diagnostics);
  if (diagnostics.has_errors()) return 0;
  const config::StackRunConfig stack_config = config::parse_stack_config(root, diagnostics);
  if (diagnostics.has_errors()) return 0;
  (void)validate_stack_config(stack_config, registry::ProviderRegistry::builtin(), diagnostics);
  std::string missing, syntax_error;
  (void)config::substitute_env(text, lookup, missing, syntax_error);
  return 0;
}
