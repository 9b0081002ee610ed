#include "core/config/config_node.h"

#include <yaml-cpp/yaml.h>

#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <regex>
#include <sstream>

namespace llama_stack::config {
namespace {

bool is_null_literal(std::string_view s) {
  return s == "null" || s == "Null" || s == "NULL" || s == "~" || s.empty();
}

std::optional<json::value> infer_scalar(const std::string& s) {
  if (is_null_literal(s)) return json::value(nullptr);
  if (s == "true" || s == "True" || s == "TRUE") return json::value(true);
  if (s == "false" || s == "False" || s == "FALSE") return json::value(false);
  {
    std::int64_t i = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), i);
    if (ec == std::errc() && end == s.data() + s.size()) return json::value(i);
  }
  static const std::regex kFloat(R"([-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?)");
  if (std::regex_match(s, kFloat)) {
    char* end = nullptr;
    double d = std::strtod(s.c_str(), &end);
    if (end == s.c_str() + s.size()) return json::value(d);
  }
  return std::nullopt;
}

std::string child_path(const std::string& parent, const std::string& key) {
  return parent.empty() ? key : parent + "." + key;
}

class Loader {
 public:
  Loader(std::string file, const EnvLookup& env, Diagnostics& diagnostics)
      : file_(std::move(file)), env_(env), diagnostics_(diagnostics) {}

  ConfigNode convert(const YAML::Node& yaml, const std::string& path) {
    ConfigNode node;
    node.path = path;
    const YAML::Mark mark = yaml.Mark();
    node.location = {file_, mark.line >= 0 ? mark.line + 1 : 0,
                     mark.column >= 0 ? mark.column + 1 : 0};
    switch (yaml.Type()) {
      case YAML::NodeType::Undefined:
      case YAML::NodeType::Null:
        node.kind = ConfigNode::Kind::kNull;
        break;
      case YAML::NodeType::Scalar: {
        node.kind = ConfigNode::Kind::kScalar;
        node.quoted = yaml.Tag() == "!";
        const std::string& raw = yaml.Scalar();
        if (raw.find("${") == std::string::npos) {
          node.scalar = raw;
          break;
        }
        std::string missing, syntax_error;
        auto value = substitute_env(raw, env_, missing, syntax_error);
        if (!value) {
          if (!syntax_error.empty()) {
            diagnostics_.error(node, syntax_error);
          } else {
            diagnostics_.error(node, "environment variable '" + missing +
                                         "' is not set (or empty) and has no default; set it "
                                         "or use ${env." +
                                         missing + ":=default}");
          }
          node.kind = ConfigNode::Kind::kNull;
          break;
        }
        // A substitution that yields nothing means "no value", as in Llama Stack.
        if (value->empty()) {
          node.kind = ConfigNode::Kind::kNull;
        } else {
          node.scalar = std::move(*value);
        }
        break;
      }
      case YAML::NodeType::Sequence: {
        node.kind = ConfigNode::Kind::kSequence;
        std::size_t index = 0;
        for (const auto& item : yaml) {
          node.items.push_back(convert(item, path + "[" + std::to_string(index) + "]"));
          ++index;
        }
        break;
      }
      case YAML::NodeType::Map: {
        node.kind = ConfigNode::Kind::kMap;
        for (const auto& kv : yaml) {
          if (!kv.first.IsScalar()) {
            ConfigNode key_node = convert(kv.first, path);
            diagnostics_.error(key_node, "mapping keys must be plain strings");
            continue;
          }
          std::string key = kv.first.Scalar();
          ConfigNode child = convert(kv.second, child_path(path, key));
          if (node.find(key) != nullptr) {
            diagnostics_.error(child, "duplicate key '" + key + "'");
            continue;
          }
          if (child.location.line == 0) child.location = node.location;
          node.entries.push_back(ConfigEntry{std::move(key), std::move(child)});
        }
        break;
      }
    }
    return node;
  }

 private:
  std::string file_;
  const EnvLookup& env_;
  Diagnostics& diagnostics_;
};

}  // namespace

const ConfigNode* ConfigNode::find(std::string_view key) const {
  for (const auto& [k, v] : entries) {
    if (k == key) return &v;
  }
  return nullptr;
}

json::value ConfigNode::to_json() const {
  switch (kind) {
    case Kind::kNull:
      return nullptr;
    case Kind::kScalar: {
      if (!quoted) {
        if (auto inferred = infer_scalar(scalar)) return *inferred;
      }
      return json::value(scalar);
    }
    case Kind::kSequence: {
      json::array array;
      for (const auto& item : items) array.push_back(item.to_json());
      return array;
    }
    case Kind::kMap: {
      json::object object;
      for (const auto& [key, value] : entries) object[key] = value.to_json();
      return object;
    }
  }
  return nullptr;
}

std::string Diagnostic::format() const {
  std::string out = location.file.empty() ? std::string("<config>") : location.file;
  if (location.line > 0) {
    out += ":" + std::to_string(location.line) + ":" + std::to_string(location.column);
  }
  out += ": ";
  if (!path.empty()) out += path + ": ";
  out += message;
  return out;
}

void Diagnostics::error(const ConfigNode& node, std::string message) {
  error(node.location, node.path, std::move(message));
}

void Diagnostics::error(const SourceLocation& location, std::string path, std::string message) {
  items_.push_back({true, location, std::move(path), std::move(message)});
}

void Diagnostics::warning(const ConfigNode& node, std::string message) {
  items_.push_back({false, node.location, node.path, std::move(message)});
}

bool Diagnostics::has_errors() const {
  for (const auto& d : items_) {
    if (d.is_error) return true;
  }
  return false;
}

std::vector<Diagnostic> Diagnostics::errors() const {
  std::vector<Diagnostic> out;
  for (const auto& d : items_) {
    if (d.is_error) out.push_back(d);
  }
  return out;
}

std::vector<Diagnostic> Diagnostics::warnings() const {
  std::vector<Diagnostic> out;
  for (const auto& d : items_) {
    if (!d.is_error) out.push_back(d);
  }
  return out;
}

std::string Diagnostics::error_report() const {
  std::string out;
  for (const auto& d : items_) {
    if (d.is_error) out += d.format() + "\n";
  }
  return out;
}

EnvLookup process_env() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* value = std::getenv(name.c_str());
    if (value == nullptr) return std::nullopt;
    return std::string(value);
  };
}

std::optional<std::string> substitute_env(std::string_view text, const EnvLookup& env,
                                          std::string& missing, std::string& syntax_error) {
  std::string out;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t start = text.find("${env.", pos);
    if (start == std::string_view::npos) {
      out.append(text.substr(pos));
      break;
    }
    out.append(text.substr(pos, start - pos));
    std::size_t name_begin = start + 6;
    std::size_t name_end = name_begin;
    while (name_end < text.size() &&
           (std::isalnum(static_cast<unsigned char>(text[name_end])) || text[name_end] == '_')) {
      ++name_end;
    }
    std::size_t close = text.find('}', name_end);
    if (name_end == name_begin || close == std::string_view::npos) {
      syntax_error = "malformed environment reference '" + std::string(text.substr(start)) +
                     "': expected ${env.NAME}, ${env.NAME:=default} or ${env.NAME:+value}";
      return std::nullopt;
    }
    const std::string name(text.substr(name_begin, name_end - name_begin));
    std::string_view rest = text.substr(name_end, close - name_end);
    const std::optional<std::string> value = env(name);
    const bool is_set = value.has_value();
    const bool non_empty = is_set && !value->empty();
    if (rest.empty()) {
      if (!non_empty) {
        missing = name;
        return std::nullopt;
      }
      out += *value;
    } else if (rest.starts_with(":=")) {
      out += non_empty ? *value : std::string(rest.substr(2));
    } else if (rest.starts_with(":+")) {
      if (non_empty) out += rest.substr(2);
    } else if (rest.starts_with("+")) {
      if (is_set) out += rest.substr(1);
    } else if (rest.starts_with(":")) {
      out += non_empty ? *value : std::string(rest.substr(1));
    } else {
      syntax_error = "malformed environment reference '${env." + name + std::string(rest) +
                     "}': after the name expected '}', ':=', ':', ':+' or '+'";
      return std::nullopt;
    }
    pos = close + 1;
  }
  return out;
}

ConfigNode load_yaml(const std::string& text, const std::string& file_name, const EnvLookup& env,
                     Diagnostics& diagnostics) {
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    diagnostics.error({file_name, e.mark.line + 1, e.mark.column + 1}, "",
                      "invalid YAML: " + e.msg);
    return {};
  }
  Loader loader(file_name, env, diagnostics);
  return loader.convert(root, "");
}

ConfigNode load_yaml_file(const std::string& path, const EnvLookup& env, Diagnostics& diagnostics) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    diagnostics.error({path, 0, 0}, "",
                      std::string("cannot read config file: ") + std::strerror(errno));
    return {};
  }
  std::ostringstream buffer;
  buffer << in.rdbuf();
  return load_yaml(buffer.str(), path, env, diagnostics);
}

std::string expand_user(const std::string& path) {
  if (path == "~" || path.starts_with("~/")) {
    const char* home = std::getenv("HOME");
    std::string base = home != nullptr ? home : "";
    return base + path.substr(1);
  }
  return path;
}

MapReader::MapReader(const ConfigNode& node, Diagnostics& diagnostics)
    : node_(node), diagnostics_(diagnostics) {
  if (node.is_map()) {
    is_map_ = true;
  } else if (!node.is_null()) {
    diagnostics_.error(node, "expected a mapping (key: value pairs)");
  }
}

bool MapReader::has(std::string_view key) const {
  const ConfigNode* n = is_map_ ? node_.find(key) : nullptr;
  return n != nullptr && !n->is_null();
}

const ConfigNode* MapReader::node(std::string_view key) {
  seen_.emplace_back(key);
  if (!is_map_) return nullptr;
  const ConfigNode* n = node_.find(key);
  return n;
}

namespace {
std::string missing_path(const ConfigNode& parent, std::string_view key) {
  return parent.path.empty() ? std::string(key) : parent.path + "." + std::string(key);
}
}  // namespace

std::optional<std::string> MapReader::string(std::string_view key, bool required) {
  const ConfigNode* n = node(key);
  if (n == nullptr || n->is_null()) {
    if (required) {
      diagnostics_.error(node_.location, missing_path(node_, key), "required key is missing");
    }
    return std::nullopt;
  }
  if (!n->is_scalar()) {
    diagnostics_.error(*n, "expected a string");
    return std::nullopt;
  }
  return n->scalar;
}

std::string MapReader::string_or(std::string_view key, std::string fallback) {
  auto value = string(key);
  return value ? *value : std::move(fallback);
}

std::optional<std::string> MapReader::path(std::string_view key, bool required) {
  auto value = string(key, required);
  if (value) return expand_user(*value);
  return value;
}

std::optional<std::int64_t> MapReader::integer(std::string_view key, std::int64_t min,
                                               std::int64_t max, bool required) {
  const ConfigNode* n = node(key);
  if (n == nullptr || n->is_null()) {
    if (required) {
      diagnostics_.error(node_.location, missing_path(node_, key), "required key is missing");
    }
    return std::nullopt;
  }
  std::int64_t value = 0;
  const std::string& s = n->scalar;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (!n->is_scalar() || ec != std::errc() || end != s.data() + s.size()) {
    diagnostics_.error(*n,
                       "expected an integer, got '" + (n->is_scalar() ? s : "a collection") + "'");
    return std::nullopt;
  }
  if (value < min || value > max) {
    diagnostics_.error(*n, "value " + s + " is out of range [" + std::to_string(min) + ", " +
                               std::to_string(max) + "]");
    return std::nullopt;
  }
  return value;
}

std::optional<double> MapReader::number(std::string_view key, bool required) {
  const ConfigNode* n = node(key);
  if (n == nullptr || n->is_null()) {
    if (required) {
      diagnostics_.error(node_.location, missing_path(node_, key), "required key is missing");
    }
    return std::nullopt;
  }
  if (n->is_scalar()) {
    char* end = nullptr;
    double d = std::strtod(n->scalar.c_str(), &end);
    if (!n->scalar.empty() && end == n->scalar.c_str() + n->scalar.size()) return d;
  }
  diagnostics_.error(*n, "expected a number");
  return std::nullopt;
}

std::optional<bool> MapReader::boolean(std::string_view key) {
  const ConfigNode* n = node(key);
  if (n == nullptr || n->is_null()) return std::nullopt;
  if (n->is_scalar()) {
    const std::string& s = n->scalar;
    if (s == "true" || s == "True" || s == "TRUE" || s == "1" || s == "yes") return true;
    if (s == "false" || s == "False" || s == "FALSE" || s == "0" || s == "no") return false;
  }
  diagnostics_.error(*n, "expected true or false");
  return std::nullopt;
}

std::vector<std::string> MapReader::string_list(std::string_view key) {
  std::vector<std::string> out;
  const ConfigNode* n = node(key);
  if (n == nullptr || n->is_null()) return out;
  if (!n->is_sequence()) {
    diagnostics_.error(*n, "expected a list of strings");
    return out;
  }
  for (const auto& item : n->items) {
    if (item.is_scalar()) {
      out.push_back(item.scalar);
    } else if (!item.is_null()) {
      diagnostics_.error(item, "expected a string");
    }
  }
  return out;
}

std::optional<json::value> MapReader::json_value(std::string_view key) {
  const ConfigNode* n = node(key);
  if (n == nullptr) return std::nullopt;
  return n->to_json();
}

void MapReader::accept(std::initializer_list<std::string_view> keys) {
  for (auto key : keys) seen_.emplace_back(key);
}

void MapReader::finish() {
  if (!is_map_) return;
  for (const auto& [key, value] : node_.entries) {
    if (std::find(seen_.begin(), seen_.end(), key) == seen_.end()) {
      diagnostics_.warning(value, "unknown key '" + key + "' is ignored");
    }
  }
}

}  // namespace llama_stack::config
