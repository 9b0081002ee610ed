// JSON helpers shared by the whole server: parsing with a position on error,
// serialization that writes numbers as people do, and typed field access
// that names the offending field path.
//
// Thread-safety: all functions are pure and safe to call concurrently.
#pragma once

#include <boost/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace llama_stack {

namespace json = boost::json;

// Serializes `value` compactly. Doubles use the shortest representation that
// round-trips ("0.7", not Boost's "7E-1"); integral doubles keep a ".0"; NaN
// and infinities (not JSON) become null.
std::string to_json(const json::value& value);
// An object without first copying it into a json::value.
std::string to_json(const json::object& object);

// Appends `text` as a JSON string literal (quoted, escaped) to `out`. For
// code that writes JSON by hand on hot paths.
void append_json_string(std::string& out, std::string_view text);

// The characters of text in `value`: the total length of every string in
// it, keys excluded (what a size limit on user content measures).
std::size_t json_text_size(const json::value& value);

// Standard base64 (with padding) of `bytes`.
std::string base64_encode(std::string_view bytes);
// Decodes standard or URL-safe base64 (padding and white space optional);
// nullopt for any other character.
std::optional<std::string> base64_decode(std::string_view text);

// Thrown by parse_json on malformed input; `what()` names line and column.
class JsonSyntaxError : public std::runtime_error {
 public:
  JsonSyntaxError(std::string message, std::size_t offset, std::size_t line, std::size_t column)
      : std::runtime_error(std::move(message)), offset(offset), line(line), column(column) {}
  std::size_t offset;
  std::size_t line;
  std::size_t column;
};

// Parses one JSON document. Throws JsonSyntaxError with the position of the
// first bad byte (or of the end, for truncated input).
// `storage`: where the result's memory comes from (default: the heap); a
// monotonic_resource makes a short-lived document nearly allocation-free.
json::value parse_json(std::string_view text, json::storage_ptr storage = {});

// A JSON number as an integer, saturated: doubles are truncated and clamped
// to the int64 range (NaN → 0), uint64 above INT64_MAX → INT64_MAX; 0 for a
// value that is not a number. For numbers from outside (upstream usage,
// token "exp" claims) whose overflow must not be undefined behaviour.
std::int64_t saturated_int64(const json::value& value);

// Thrown when a request body has a missing field or a field of the wrong type.
// `path` is the JSON path of the field, e.g. "messages[2].content".
class JsonFieldError : public std::runtime_error {
 public:
  JsonFieldError(std::string path, std::string message)
      : std::runtime_error(std::move(message)), path(std::move(path)) {}
  std::string path;
};

// Typed access to a JSON object that reports the field path on error.
// A field that is present with value null counts as absent for optional_*.
// The reader points into the value: it must outlive the reader (temporaries
// are refused at compile time).
class JsonReader {
 public:
  JsonReader(const json::value& value, std::string path = "");
  JsonReader(const json::object& object, std::string path = "")
      : object_(&object), path_(std::move(path)) {}
  JsonReader(json::value&&, std::string = "") = delete;
  JsonReader(json::object&&, std::string = "") = delete;

  const json::object& object() const { return *object_; }
  const std::string& path() const { return path_; }
  std::string field_path(std::string_view key) const;

  bool has(std::string_view key) const;
  std::string required_string(std::string_view key) const;
  std::optional<std::string> optional_string(std::string_view key) const;
  std::optional<std::int64_t> optional_int(std::string_view key) const;
  std::optional<double> optional_number(std::string_view key) const;
  std::optional<bool> optional_bool(std::string_view key) const;
  // Returns the object at `key` or an empty object when absent/null.
  json::object optional_object(std::string_view key) const;
  const json::value* find(std::string_view key) const;
  // The object at `key` as a reader whose paths continue from it
  // ("messages[1].tool_calls[0].function"); throws when absent or not an object.
  JsonReader required_object(std::string_view key) const;
  // As required_object, but nullopt when absent/null.
  std::optional<JsonReader> find_object(std::string_view key) const;
  // The array at `key`; throws when absent or not an array.
  const json::array& required_array(std::string_view key) const;
  // The array at `key`, nullptr when absent/null; throws when not an array.
  const json::array* find_array(std::string_view key) const;
  // "path.key[i]", the path of element `i` of the array at `key`.
  std::string element_path(std::string_view key, std::size_t i) const;

 private:
  const json::object* object_;
  std::string path_;
};

// A short human name for a JSON kind ("string", "object", ...).
std::string_view json_kind_name(json::kind kind);

// The value of `key`, or null when it is absent or JSON null.
inline const json::value* json_field(const json::object& o, std::string_view key) {
  auto it = o.find(key);
  return it == o.end() || it->value().is_null() ? nullptr : &it->value();
}
// The string at `key`, or "" when it is absent or not a string.
inline std::string json_string(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v != nullptr && v->is_string() ? std::string(v->get_string()) : std::string();
}
// Whether `key` is the boolean true.
inline bool json_flag(const json::object& o, std::string_view key) {
  const json::value* v = json_field(o, key);
  return v != nullptr && v->is_bool() && v->get_bool();
}

// Throw JsonFieldError "Field '<path>' is required" and "Field '<path>' must
// be <expected>, got <kind of got>", for checks JsonReader has no accessor for.
[[noreturn]] void throw_missing_field(const std::string& path);
[[noreturn]] void throw_wrong_type(const std::string& path, std::string_view expected,
                                   const json::value& got);

}  // namespace llama_stack
