// A YAML document after environment substitution, with the source position
// and key path of every node, so that every config error can name
// "file:line:column: providers.inference[1].config.url: ...".
//
// Thread-safety: immutable after load; safe to share.
#pragma once

#include "core/util/json.h"

#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace llama_stack::config {

struct SourceLocation {
  std::string file;
  int line = 0;    // 1-based; 0 = unknown
  int column = 0;  // 1-based
};

struct ConfigEntry;

class ConfigNode {
 public:
  enum class Kind { kNull, kScalar, kSequence, kMap };

  Kind kind = Kind::kNull;
  std::string scalar;   // for kScalar, after env substitution
  bool quoted = false;  // scalar was quoted in YAML: never type-inferred
  SourceLocation location;
  std::string path;                  // key path, e.g. "providers.inference[1].config.url"
  std::vector<ConfigNode> items;     // kSequence
  std::vector<ConfigEntry> entries;  // kMap, in file order

  bool is_null() const { return kind == Kind::kNull; }
  bool is_scalar() const { return kind == Kind::kScalar; }
  bool is_map() const { return kind == Kind::kMap; }
  bool is_sequence() const { return kind == Kind::kSequence; }
  const ConfigNode* find(std::string_view key) const;

  // JSON view; plain scalars become null/bool/int/double when they look like one.
  json::value to_json() const;
};

// A key and its value in a map node (a struct, not std::pair: ConfigNode is
// incomplete where the vector is declared).
struct ConfigEntry {
  std::string first;
  ConfigNode second;
};

struct Diagnostic {
  bool is_error = true;
  SourceLocation location;
  std::string path;
  std::string message;
  // "file:line:column: path: message"
  std::string format() const;
};

// Collects config errors and warnings; loading continues after an error so a
// user sees every problem at once.
class Diagnostics {
 public:
  void error(const ConfigNode& node, std::string message);
  void error(const SourceLocation& location, std::string path, std::string message);
  void warning(const ConfigNode& node, std::string message);
  bool has_errors() const;
  const std::vector<Diagnostic>& all() const { return items_; }
  std::vector<Diagnostic> errors() const;
  std::vector<Diagnostic> warnings() const;
  // All errors, one per line.
  std::string error_report() const;

 private:
  std::vector<Diagnostic> items_;
};

// Returns the value of an environment variable, or nullopt when unset.
using EnvLookup = std::function<std::optional<std::string>(const std::string&)>;
EnvLookup process_env();

// Expands ${env.NAME}, ${env.NAME:default}, ${env.NAME:=default},
// ${env.NAME+value} and ${env.NAME:+value}; any number per string. On a
// reference to an unset/empty variable with no default, returns nullopt and
// sets `missing` to the variable's name.
std::optional<std::string> substitute_env(std::string_view text, const EnvLookup& env,
                                          std::string& missing, std::string& syntax_error);

// Parses YAML text; errors (syntax, missing variables) go to `diagnostics`.
// Returns a null node when the text is not valid YAML.
ConfigNode load_yaml(const std::string& text, const std::string& file_name, const EnvLookup& env,
                     Diagnostics& diagnostics);

// Reads `path` and calls load_yaml; an unreadable file is an error.
ConfigNode load_yaml_file(const std::string& path, const EnvLookup& env, Diagnostics& diagnostics);

// Expands a leading "~" to $HOME.
std::string expand_user(const std::string& path);

// Typed, path-aware access to a map node. Keys that are never read are
// reported as warnings by finish() ("unknown key"), so typos don't pass silently.
class MapReader {
 public:
  // A null node reads as an empty map; any other non-map is an error.
  MapReader(const ConfigNode& node, Diagnostics& diagnostics);

  bool has(std::string_view key) const;
  const ConfigNode* node(std::string_view key);  // marks the key as known; null if absent
  const ConfigNode& self() const { return node_; }

  std::optional<std::string> string(std::string_view key, bool required = false);
  std::string string_or(std::string_view key, std::string fallback);
  // A string path with "~" expanded.
  std::optional<std::string> path(std::string_view key, bool required = false);
  std::optional<std::int64_t> integer(std::string_view key, std::int64_t min, std::int64_t max,
                                      bool required = false);
  std::optional<double> number(std::string_view key, bool required = false);
  std::optional<bool> boolean(std::string_view key);
  std::vector<std::string> string_list(std::string_view key);
  // The node as JSON (objects/arrays kept), or nullopt when absent.
  std::optional<json::value> json_value(std::string_view key);
  // Marks keys as known without reading them.
  void accept(std::initializer_list<std::string_view> keys);

  // Warns about every key not read or accepted.
  void finish();

 private:
  const ConfigNode& node_;
  Diagnostics& diagnostics_;
  std::vector<std::string> seen_;
  bool is_map_ = false;
};

}  // namespace llama_stack::config
