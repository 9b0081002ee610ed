// The `llama-stack` command line: run, validate, list-providers, --version.
#pragma once

#include <string>
#include <vector>

namespace llama_stack::cli {

// Runs the CLI with `args` (without argv[0]); returns the process exit code.
int main(const std::vector<std::string>& args);

// Resolves `run`'s positional argument: a file path, or a distribution name
// looked up under $LLAMA_STACK_CONFIG_DIR/distributions and the installed
// and source distributions/ folders. Empty when nothing matches; `searched`
// lists where it looked.
std::string resolve_config_path(const std::string& name_or_path,
                                std::vector<std::string>& searched);

}  // namespace llama_stack::cli
