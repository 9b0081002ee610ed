#include "core/log/log.h"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>

#include <algorithm>
#include <cctype>
#include <memory>
#include <mutex>

#include "core/util/identifiers.h"

namespace llama_stack::log {
namespace {

// Upper-case level name, as Python's logging prints it ("INFO", "WARNING").
class UpperLevelFlag : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&,
              spdlog::memory_buf_t& dest) override {
    std::string_view name;
    switch (msg.level) {
      case spdlog::level::trace:
        name = "TRACE";
        break;
      case spdlog::level::debug:
        name = "DEBUG";
        break;
      case spdlog::level::info:
        name = "INFO";
        break;
      case spdlog::level::warn:
        name = "WARNING";
        break;
      case spdlog::level::err:
        name = "ERROR";
        break;
      case spdlog::level::critical:
        name = "CRITICAL";
        break;
      default:
        name = "OFF";
        break;
    }
    dest.append(name.data(), name.data() + name.size());
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<UpperLevelFlag>();
  }
};

// The message, escaped (core/util/identifiers.h): a string from outside can
// neither break the line nor reorder what a reader sees.
class EscapedPayloadFlag : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&,
              spdlog::memory_buf_t& dest) override {
    const std::string_view payload(msg.payload.data(), msg.payload.size());
    scratch_.clear();
    append_log_escaped(payload, scratch_);
    dest.append(scratch_.data(), scratch_.data() + scratch_.size());
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<EscapedPayloadFlag>();
  }

 private:
  std::string scratch_;  // a formatter is used under its sink's lock
};

constexpr std::size_t kCategoryCount = kCategoryNames.size();

struct Registry {
  std::array<std::shared_ptr<spdlog::logger>, kCategoryCount> loggers;

  Registry() { install({std::make_shared<spdlog::sinks::stderr_sink_mt>()}); }

  void install(const std::vector<spdlog::sink_ptr>& sinks) {
    for (const auto& sink : sinks) {
      auto formatter = std::make_unique<spdlog::pattern_formatter>();
      formatter->add_flag<UpperLevelFlag>('*').add_flag<EscapedPayloadFlag>('~').set_pattern(
          "%* %Y-%m-%d %H:%M:%S,%e %s:%# [%n]: %~");
      sink->set_formatter(std::move(formatter));
    }
    for (std::size_t i = 0; i < kCategoryCount; ++i) {
      auto level = loggers[i] ? loggers[i]->level() : spdlog::level::info;
      loggers[i] = std::make_shared<spdlog::logger>(std::string(kCategoryNames[i]), sinks.begin(),
                                                    sinks.end());
      loggers[i]->set_level(level);
      loggers[i]->flush_on(spdlog::level::warn);
    }
  }
};

Registry& registry() {
  static Registry* instance = new Registry();  // never destroyed: logging works during exit
  return *instance;
}

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

bool parse_level(std::string_view text, spdlog::level::level_enum& level) {
  const std::string name = lower(trim(text));
  if (name == "trace")
    level = spdlog::level::trace;
  else if (name == "debug")
    level = spdlog::level::debug;
  else if (name == "info")
    level = spdlog::level::info;
  else if (name == "warning" || name == "warn")
    level = spdlog::level::warn;
  else if (name == "error")
    level = spdlog::level::err;
  else if (name == "critical")
    level = spdlog::level::critical;
  else if (name == "off" || name == "none")
    level = spdlog::level::off;
  else
    return false;
  return true;
}

bool parse_category(std::string_view text, Category& category) {
  const std::string name = lower(trim(text));
  for (std::size_t i = 0; i < kCategoryCount; ++i) {
    if (kCategoryNames[i] == name) {
      category = static_cast<Category>(i);
      return true;
    }
  }
  return false;
}

}  // namespace

spdlog::logger& get(Category category) {
  return *registry().loggers[static_cast<std::size_t>(category)];
}

void set_level(Category category, spdlog::level::level_enum level) {
  get(category).set_level(level);
}

LoggingSpec parse_logging_spec(std::string_view spec) {
  LoggingSpec result;
  std::size_t start = 0;
  while (start <= spec.size()) {
    std::size_t end = spec.find_first_of(";,", start);
    if (end == std::string_view::npos) end = spec.size();
    std::string_view item = trim(spec.substr(start, end - start));
    start = end + 1;
    if (item.empty()) continue;
    const std::size_t eq = item.find('=');
    if (eq == std::string_view::npos) {
      result.warnings.push_back("ignoring logging entry '" + std::string(item) +
                                "': expected category=level");
      continue;
    }
    std::string_view name = trim(item.substr(0, eq));
    spdlog::level::level_enum level;
    if (!parse_level(item.substr(eq + 1), level)) {
      result.warnings.push_back("ignoring logging entry '" + std::string(item) +
                                "': unknown level (use debug, info, warning, error, critical)");
      continue;
    }
    if (lower(name) == "all") {
      result.has_all = true;
      result.all_level = level;
      continue;
    }
    Category category;
    if (!parse_category(name, category)) {
      std::string known;
      for (auto n : kCategoryNames) known += (known.empty() ? "" : ", ") + std::string(n);
      result.warnings.push_back("unknown logging category '" + std::string(name) +
                                "' (known: all, " + known + ")");
      continue;
    }
    result.levels.emplace_back(category, level);
  }
  return result;
}

void configure(std::string_view env_spec, const std::string& log_file,
               const std::vector<std::pair<std::string, std::string>>& config_levels) {
  Registry& reg = registry();
  std::vector<std::string> warnings;
  if (!log_file.empty()) {
    try {
      // Like Python's FileHandler: the file is added to stderr, not instead of it.
      reg.install({std::make_shared<spdlog::sinks::stderr_sink_mt>(),
                   std::make_shared<spdlog::sinks::basic_file_sink_mt>(log_file)});
    } catch (const spdlog::spdlog_ex& e) {
      warnings.push_back("cannot open LLAMA_STACK_LOG_FILE '" + log_file + "': " + e.what() +
                         "; logging to stderr");
    }
  }
  auto apply = [&](const LoggingSpec& spec) {
    if (spec.has_all) {
      for (auto& logger : reg.loggers) logger->set_level(spec.all_level);
    }
    for (const auto& [category, level] : spec.levels) set_level(category, level);
    warnings.insert(warnings.end(), spec.warnings.begin(), spec.warnings.end());
  };
  std::string config_spec;
  for (const auto& [name, level] : config_levels) config_spec += name + "=" + level + ";";
  apply(parse_logging_spec(config_spec));
  apply(parse_logging_spec(env_spec));
  for (const auto& warning : warnings) LS_WARN(kCore, "{}", warning);
}

}  // namespace llama_stack::log
