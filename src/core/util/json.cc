#include "core/util/json.h"

#include <openssl/evp.h>

#include <charconv>
#include <cmath>
#include <system_error>

namespace llama_stack {
namespace {

void append_string_impl(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  for (unsigned char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20) {
          out += "\\u00";
          out.push_back(kHex[c >> 4]);
          out.push_back(kHex[c & 0xF]);
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
  }
  out.push_back('"');
}

void append_double(std::string& out, double d) {
  if (!std::isfinite(d)) {
    out += "null";
    return;
  }
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, d);
  std::string_view text(buf, static_cast<std::size_t>(end - buf));
  out += text;
  if (text.find_first_of(".eEn") == std::string_view::npos) out += ".0";
}

void append_object(std::string& out, const json::object& o);

void append_value(std::string& out, const json::value& v) {
  switch (v.kind()) {
    case json::kind::null:
      out += "null";
      break;
    case json::kind::bool_:
      out += v.get_bool() ? "true" : "false";
      break;
    case json::kind::int64:
      out += std::to_string(v.get_int64());
      break;
    case json::kind::uint64:
      out += std::to_string(v.get_uint64());
      break;
    case json::kind::double_:
      append_double(out, v.get_double());
      break;
    case json::kind::string:
      append_string_impl(out, v.get_string());
      break;
    case json::kind::array: {
      out.push_back('[');
      bool first = true;
      for (const auto& item : v.get_array()) {
        if (!first) out.push_back(',');
        first = false;
        append_value(out, item);
      }
      out.push_back(']');
      break;
    }
    case json::kind::object:
      append_object(out, v.get_object());
      break;
  }
}

void append_object(std::string& out, const json::object& o) {
  out.push_back('{');
  bool first = true;
  for (const auto& kv : o) {
    if (!first) out.push_back(',');
    first = false;
    append_string_impl(out, kv.key());
    out.push_back(':');
    append_value(out, kv.value());
  }
  out.push_back('}');
}

}  // namespace

void append_json_string(std::string& out, std::string_view text) {
  append_string_impl(out, text);
}

std::size_t json_text_size(const json::value& value) {
  switch (value.kind()) {
    case json::kind::string:
      return value.get_string().size();
    case json::kind::array: {
      std::size_t n = 0;
      for (const auto& item : value.get_array()) n += json_text_size(item);
      return n;
    }
    case json::kind::object: {
      std::size_t n = 0;
      for (const auto& entry : value.get_object()) n += json_text_size(entry.value());
      return n;
    }
    default:
      return 0;
  }
}

std::optional<std::string> base64_decode(std::string_view text) {
  std::string out;
  out.reserve(text.size() * 3 / 4);
  std::uint32_t buffer = 0;
  int bits = 0;
  for (unsigned char c : text) {
    int v;
    if (c >= 'A' && c <= 'Z') {
      v = c - 'A';
    } else if (c >= 'a' && c <= 'z') {
      v = c - 'a' + 26;
    } else if (c >= '0' && c <= '9') {
      v = c - '0' + 52;
    } else if (c == '+' || c == '-') {
      v = 62;
    } else if (c == '/' || c == '_') {
      v = 63;
    } else if (c == '=' || c == ' ' || c == '\n' || c == '\r' || c == '\t') {
      continue;
    } else {
      return std::nullopt;
    }
    buffer = (buffer << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((buffer >> bits) & 0xFF));
    }
  }
  return out;
}

std::string base64_encode(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3), '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(bytes.data()),
                                static_cast<int>(bytes.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

std::string to_json(const json::value& value) {
  std::string out;
  out.reserve(256);
  append_value(out, value);
  return out;
}

std::string to_json(const json::object& object) {
  std::string out;
  out.reserve(256);
  append_object(out, object);
  return out;
}

json::value parse_json(std::string_view text, json::storage_ptr storage) {
  // One parser per thread, reset for each document: constructing one
  // allocates its working buffers every time.
  thread_local json::stream_parser parser = [] {
    json::parse_options options;
    options.max_depth = 64;
    return json::stream_parser({}, options);
  }();
  parser.reset(std::move(storage));
  boost::system::error_code ec;
  std::size_t consumed = parser.write_some(text.data(), text.size(), ec);
  if (!ec && consumed < text.size()) {
    // write_some stops after a complete value; anything left is garbage.
    ec = json::error::extra_data;
  }
  if (!ec) parser.finish(ec);
  if (ec) {
    std::size_t offset = consumed;
    std::size_t line = 1, column = 1;
    for (std::size_t i = 0; i < offset && i < text.size(); ++i) {
      if (text[i] == '\n') {
        ++line;
        column = 1;
      } else {
        ++column;
      }
    }
    std::string message = "Malformed JSON at line " + std::to_string(line) + ", column " +
                          std::to_string(column) + ": " + ec.message();
    throw JsonSyntaxError(std::move(message), offset, line, column);
  }
  return parser.release();
}

std::string_view json_kind_name(json::kind kind) {
  switch (kind) {
    case json::kind::null:
      return "null";
    case json::kind::bool_:
      return "boolean";
    case json::kind::int64:
    case json::kind::uint64:
      return "integer";
    case json::kind::double_:
      return "number";
    case json::kind::string:
      return "string";
    case json::kind::array:
      return "array";
    case json::kind::object:
      return "object";
  }
  return "unknown";
}

JsonReader::JsonReader(const json::value& value, std::string path) : path_(std::move(path)) {
  if (!value.is_object()) {
    throw JsonFieldError(path_.empty() ? "body" : path_,
                         (path_.empty() ? std::string("Request body") : "Field '" + path_ + "'") +
                             " must be a JSON object, got " +
                             std::string(json_kind_name(value.kind())));
  }
  object_ = &value.get_object();
}

std::string JsonReader::field_path(std::string_view key) const {
  return path_.empty() ? std::string(key) : path_ + "." + std::string(key);
}

const json::value* JsonReader::find(std::string_view key) const {
  auto it = object_->find(key);
  if (it == object_->end() || it->value().is_null()) return nullptr;
  return &it->value();
}

bool JsonReader::has(std::string_view key) const {
  return find(key) != nullptr;
}

void throw_missing_field(const std::string& path) {
  throw JsonFieldError(path, "Field '" + path + "' is required");
}

void throw_wrong_type(const std::string& path, std::string_view expected, const json::value& got) {
  throw JsonFieldError(path, "Field '" + path + "' must be " + std::string(expected) + ", got " +
                                 std::string(json_kind_name(got.kind())));
}

namespace {
[[noreturn]] void wrong_type(const std::string& path, std::string_view expected,
                             const json::value& got) {
  throw_wrong_type(path, expected, got);
}
}  // namespace

std::string JsonReader::required_string(std::string_view key) const {
  const json::value* v = find(key);
  if (v == nullptr) throw_missing_field(field_path(key));
  if (!v->is_string()) wrong_type(field_path(key), "a string", *v);
  return std::string(v->get_string());
}

std::optional<std::string> JsonReader::optional_string(std::string_view key) const {
  const json::value* v = find(key);
  if (v == nullptr) return std::nullopt;
  if (!v->is_string()) wrong_type(field_path(key), "a string", *v);
  return std::string(v->get_string());
}

std::int64_t saturated_int64(const json::value& value) {
  if (value.is_int64()) return value.get_int64();
  if (value.is_uint64()) {
    return value.get_uint64() > static_cast<std::uint64_t>(INT64_MAX)
               ? INT64_MAX
               : static_cast<std::int64_t>(value.get_uint64());
  }
  if (!value.is_double()) return 0;
  const double d = value.get_double();
  if (std::isnan(d)) return 0;
  constexpr double kLimit = 9223372036854775808.0;  // 2^63
  if (d >= kLimit) return INT64_MAX;
  if (d < -kLimit) return INT64_MIN;
  return static_cast<std::int64_t>(d);
}

std::optional<std::int64_t> JsonReader::optional_int(std::string_view key) const {
  const json::value* v = find(key);
  if (v == nullptr) return std::nullopt;
  if (v->is_int64()) return v->get_int64();
  if (v->is_uint64() && v->get_uint64() <= static_cast<std::uint64_t>(INT64_MAX)) {
    return static_cast<std::int64_t>(v->get_uint64());
  }
  if (v->is_double() && std::floor(v->get_double()) == v->get_double() &&
      std::fabs(v->get_double()) < 9.0e15) {
    return static_cast<std::int64_t>(v->get_double());
  }
  wrong_type(field_path(key), "an integer", *v);
}

std::optional<double> JsonReader::optional_number(std::string_view key) const {
  const json::value* v = find(key);
  if (v == nullptr) return std::nullopt;
  if (v->is_number()) return v->to_number<double>();
  wrong_type(field_path(key), "a number", *v);
}

std::optional<bool> JsonReader::optional_bool(std::string_view key) const {
  const json::value* v = find(key);
  if (v == nullptr) return std::nullopt;
  if (!v->is_bool()) wrong_type(field_path(key), "a boolean", *v);
  return v->get_bool();
}

json::object JsonReader::optional_object(std::string_view key) const {
  const json::value* v = find(key);
  if (v == nullptr) return {};
  if (!v->is_object()) wrong_type(field_path(key), "an object", *v);
  return v->get_object();
}

JsonReader JsonReader::required_object(std::string_view key) const {
  const json::value* v = find(key);
  if (v == nullptr) throw_missing_field(field_path(key));
  if (!v->is_object()) wrong_type(field_path(key), "an object", *v);
  return JsonReader(*v, field_path(key));
}

std::optional<JsonReader> JsonReader::find_object(std::string_view key) const {
  const json::value* v = find(key);
  if (v == nullptr) return std::nullopt;
  if (!v->is_object()) wrong_type(field_path(key), "an object", *v);
  return JsonReader(*v, field_path(key));
}

const json::array& JsonReader::required_array(std::string_view key) const {
  const json::array* a = find_array(key);
  if (a == nullptr) throw_missing_field(field_path(key));
  return *a;
}

const json::array* JsonReader::find_array(std::string_view key) const {
  const json::value* v = find(key);
  if (v == nullptr) return nullptr;
  if (!v->is_array()) wrong_type(field_path(key), "a list", *v);
  return &v->get_array();
}

std::string JsonReader::element_path(std::string_view key, std::size_t i) const {
  return field_path(key) + "[" + std::to_string(i) + "]";
}

}  // namespace llama_stack
