#include "core/util/text_chunks.h"

#include <algorithm>
#include <cctype>

namespace llama_stack {
namespace {

bool is_word(unsigned char c) {
  return std::isalnum(c) || c >= 0x80;
}

}  // namespace

std::vector<std::string_view> text_tokens(std::string_view text) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < text.size()) {
    const std::size_t start = i;
    while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
    if (i == text.size()) {
      if (!out.empty()) {
        out.back() = text.substr(out.back().data() - text.data());  // trailing space joins the last
      } else {
        out.push_back(text.substr(start));
      }
      break;
    }
    if (is_word(static_cast<unsigned char>(text[i]))) {
      while (i < text.size() && is_word(static_cast<unsigned char>(text[i]))) ++i;
    } else {
      ++i;
    }
    out.push_back(text.substr(start, i - start));
  }
  return out;
}

std::vector<TextChunk> overlapped_chunks(std::string_view text, std::size_t window,
                                         std::size_t overlap) {
  std::vector<TextChunk> out;
  const std::vector<std::string_view> tokens = text_tokens(text);
  if (tokens.empty() || window == 0) return out;
  const std::size_t step = window > overlap ? window - overlap : 1;
  for (std::size_t start = 0; start < tokens.size(); start += step) {
    const std::size_t end = std::min(tokens.size(), start + window);
    TextChunk chunk;
    for (std::size_t t = start; t < end; ++t) chunk.text += tokens[t];
    chunk.tokens = end - start;
    out.push_back(std::move(chunk));
  }
  return out;
}

}  // namespace llama_stack
