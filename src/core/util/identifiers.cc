#include "core/util/identifiers.h"

#include <fmt/format.h>

#include <iterator>

#include "core/util/json.h"

namespace llama_stack {
namespace {

// Decodes one UTF-8 sequence at `s[i]`; 0 bytes when it is invalid
// (truncated, overlong, a surrogate, beyond U+10FFFF).
std::size_t decode(std::string_view s, std::size_t i, char32_t& cp) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char b0 = byte(i);
  std::size_t n = 0;
  if (b0 < 0x80) {
    cp = b0;
    return 1;
  }
  if (b0 >= 0xc2 && b0 <= 0xdf) {
    n = 2;
    cp = b0 & 0x1f;
  } else if (b0 >= 0xe0 && b0 <= 0xef) {
    n = 3;
    cp = b0 & 0x0f;
  } else if (b0 >= 0xf0 && b0 <= 0xf4) {
    n = 4;
    cp = b0 & 0x07;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  for (std::size_t k = 1; k < n; ++k) {
    if ((byte(i + k) & 0xc0) != 0x80) return 0;
    cp = (cp << 6) | (byte(i + k) & 0x3f);
  }
  if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10ffff ||
      (cp >= 0xd800 && cp <= 0xdfff)) {
    return 0;
  }
  return n;
}

bool is_control(char32_t cp) {
  return cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp <= 0x9f);
}

bool is_bidi(char32_t cp) {
  return cp == 0x061c || cp == 0x200e || cp == 0x200f || (cp >= 0x202a && cp <= 0x202e) ||
         (cp >= 0x2066 && cp <= 0x2069);
}

}  // namespace

std::optional<std::string> identifier_problem(std::string_view id) {
  if (id.size() > kMaxIdentifierBytes) {
    return fmt::format("is {} bytes long (at most {})", id.size(), kMaxIdentifierBytes);
  }
  for (std::size_t i = 0; i < id.size();) {
    char32_t cp = 0;
    const std::size_t n = decode(id, i, cp);
    if (n == 0) return fmt::format("is not valid UTF-8 (at byte {})", i);
    if (is_control(cp)) {
      return fmt::format("contains the control character U+{:04X} at byte {}",
                         static_cast<unsigned>(cp), i);
    }
    if (is_bidi(cp)) {
      return fmt::format("contains the bidirectional formatting character U+{:04X} at byte {}",
                         static_cast<unsigned>(cp), i);
    }
    i += n;
  }
  return std::nullopt;
}

namespace {

// True when every byte is printable ASCII: nothing to escape.
bool plain_ascii(std::string_view text) {
  for (const char c : text) {
    const auto b = static_cast<unsigned char>(c);
    if (b < 0x20 || b >= 0x7f) return false;
  }
  return true;
}

}  // namespace

void append_log_escaped(std::string_view text, std::string& out) {
  if (plain_ascii(text)) {
    out.append(text);
    return;
  }
  for (std::size_t i = 0; i < text.size();) {
    char32_t cp = 0;
    const std::size_t n = decode(text, i, cp);
    if (n == 0 || is_control(cp)) {
      // A C1 control is two bytes: both escaped, so the line stays ASCII there.
      const std::size_t bytes = n == 0 ? 1 : n;
      for (std::size_t k = 0; k < bytes; ++k) {
        fmt::format_to(std::back_inserter(out), "\\x{:02x}",
                       static_cast<unsigned char>(text[i + k]));
      }
      i += bytes;
      continue;
    }
    if (is_bidi(cp)) {
      fmt::format_to(std::back_inserter(out), "\\u{{{:04X}}}", static_cast<unsigned>(cp));
    } else {
      out.append(text.substr(i, n));
    }
    i += n;
  }
}

std::string log_escaped(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  append_log_escaped(text, out);
  return out;
}

std::string json_ascii_safe(std::string text) {
  bool clean = true;
  for (const char c : text) {
    if (static_cast<unsigned char>(c) >= 0x7f) {
      clean = false;
      break;
    }
  }
  if (clean) return text;
  std::string out;
  out.reserve(text.size() + 16);
  for (std::size_t i = 0; i < text.size();) {
    char32_t cp = 0;
    const std::size_t n = decode(text, i, cp);
    if (n == 0) {
      out.append("\\ufffd");
      ++i;
      continue;
    }
    if (is_control(cp) || is_bidi(cp)) {
      fmt::format_to(std::back_inserter(out), "\\u{:04x}", static_cast<unsigned>(cp));
    } else {
      out.append(text, i, n);
    }
    i += n;
  }
  return out;
}

void require_clean(std::string_view value, std::string_view field) {
  if (auto problem = identifier_problem(value)) {
    throw JsonFieldError(std::string(field), fmt::format("Field '{}' {}", field, *problem));
  }
}

}  // namespace llama_stack
