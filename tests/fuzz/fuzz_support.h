// Helpers shared by the fuzz targets (tests/fuzz/*_fuzzer.cc).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <utility>

namespace llama_stack::fuzz {

inline std::string_view as_text(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

// Splits at the first `separator`: (before, after); no separator → (text, "").
inline std::pair<std::string_view, std::string_view> split_once(std::string_view text,
                                                                char separator = '\n') {
  const std::size_t at = text.find(separator);
  if (at == std::string_view::npos) return {text, {}};
  return {text.substr(0, at), text.substr(at + 1)};
}

// Feeds `text` to `feed` in chunks whose sizes come from the text itself
// (its first byte seeds them), so chunk boundaries fall everywhere.
template <typename Feed>
void feed_in_chunks(std::string_view text, Feed&& feed) {
  if (text.empty()) return;
  std::uint32_t state = static_cast<unsigned char>(text.front()) * 2654435761u + 1;
  while (!text.empty()) {
    state = state * 1103515245u + 12345u;
    const std::size_t n = std::min<std::size_t>(text.size(), 1 + (state >> 16) % 97);
    feed(text.substr(0, n));
    text.remove_prefix(n);
  }
}

}  // namespace llama_stack::fuzz
