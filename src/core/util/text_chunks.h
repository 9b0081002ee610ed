// Token windows over text: what RAG documents and vector store files are cut
// into before they are embedded.
//
// The token counter: each token is a run of letters and digits (bytes >= 0x80
// count as letters, so UTF-8 words stay whole) or one other character, with
// the white space before it — so the tokens concatenate back to the text.
// English prose counts about 0.8 of Llama 3's tokenizer.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace llama_stack {

std::vector<std::string_view> text_tokens(std::string_view text);

struct TextChunk {
  std::string text;
  std::size_t tokens = 0;
};

// Windows of `window` tokens, each starting `window - overlap` after the
// last (one token when overlap >= window), over the whole text — as Llama
// Stack's make_overlapped_chunks, the last windows may lie inside earlier ones.
std::vector<TextChunk> overlapped_chunks(std::string_view text, std::size_t window,
                                         std::size_t overlap);

}  // namespace llama_stack
