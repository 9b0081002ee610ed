#include "core/util/identifiers.h"

#include <fmt/format.h>

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

}  // namespace llama_stack
