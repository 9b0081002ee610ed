// Category loggers, as in Llama Stack's llama_stack/log.py: every log line
// belongs to a category whose level is set by LLAMA_STACK_LOGGING, e.g.
//   LLAMA_STACK_LOGGING="server=debug;core=info"   (',' also separates)
//   LLAMA_STACK_LOGGING="all=debug"
// Lines go to stderr, and also to LLAMA_STACK_LOG_FILE when set, formatted as
//   INFO 2025-03-03 21:44:11,323 stack.cc:103 [core]: message
//
// Thread-safety: logging is safe from any thread; configure() is meant to be
// called once at startup, before other threads log.
#pragma once

#include <spdlog/spdlog.h>

#include <array>
#include <string>
#include <string_view>
#include <vector>

namespace llama_stack::log {

enum class Category {
  kCore,
  kServer,
  kRouter,
  kInference,
  kAgents,
  kSafety,
  kEval,
  kTools,
  kClient,
  kAuth,
  kQuota,
  kAudit,
  kUncategorized,
};

inline constexpr std::array<std::string_view, 13> kCategoryNames = {
    "core",  "server", "router", "inference", "agents", "safety",       "eval",
    "tools", "client", "auth",   "quota",     "audit",  "uncategorized"};

// The logger of a category. Never null; valid for the life of the process.
spdlog::logger& get(Category category);

struct LoggingSpec {
  // Parsed "category=level" pairs; warnings for unknown categories/levels.
  std::vector<std::pair<Category, spdlog::level::level_enum>> levels;
  bool has_all = false;
  spdlog::level::level_enum all_level = spdlog::level::info;
  std::vector<std::string> warnings;
};

// Parses the LLAMA_STACK_LOGGING syntax (also used for run.yaml's logging
// section). Pure; never throws.
LoggingSpec parse_logging_spec(std::string_view spec);

// Sets up sinks and levels: stderr, plus `log_file` when not empty. Extra levels (from
// run.yaml `logging.category_levels`) apply first, the env spec wins.
void configure(std::string_view env_spec, const std::string& log_file,
               const std::vector<std::pair<std::string, std::string>>& config_levels = {});

// Turns levels up/down for tests and the CLI.
void set_level(Category category, spdlog::level::level_enum level);

}  // namespace llama_stack::log

#define LS_LOG(category, level, ...)                                                          \
  SPDLOG_LOGGER_CALL(&::llama_stack::log::get(::llama_stack::log::Category::category), level, \
                     __VA_ARGS__)
#define LS_TRACE(category, ...) LS_LOG(category, spdlog::level::trace, __VA_ARGS__)
#define LS_DEBUG(category, ...) LS_LOG(category, spdlog::level::debug, __VA_ARGS__)
#define LS_INFO(category, ...) LS_LOG(category, spdlog::level::info, __VA_ARGS__)
#define LS_WARN(category, ...) LS_LOG(category, spdlog::level::warn, __VA_ARGS__)
#define LS_ERROR(category, ...) LS_LOG(category, spdlog::level::err, __VA_ARGS__)
