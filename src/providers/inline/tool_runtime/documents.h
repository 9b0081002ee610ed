// RAG documents: their text, and their chunks.
//
//  - text_tokens(): the token counter of chunk windows — each token is a run
//    of letters and digits or one other character, with the white space
//    before it (so the tokens concatenate back to the text). English prose
//    counts about 0.8 of Llama 3's tokenizer.
//  - fetch_document(): `data:` URLs (base64 or percent-encoded, text/*) and
//    http(s) URLs, fetched with a size limit and a timeout; text/html is
//    turned into text; hosts resolving to loopback, private, link-local,
//    CGNAT, multicast or unspecified addresses are refused (SSRF) unless
//    allow_private_urls. Other URL schemes (file:, …) are refused.
//    application/pdf is read with Debian's poppler. Parsing runs on the
//    worker threads.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/http/http_client.h"
#include "llama_stack/apis/call_context.h"
#include "llama_stack/async/executor.h"
#include "llama_stack/async/task.h"

namespace llama_stack::providers::inline_ {

struct DocumentLimits {
  bool allow_private_urls = false;
  std::int64_t max_document_bytes = 10 * 1024 * 1024;
  std::int64_t fetch_timeout_seconds = 30;
};

std::vector<std::string_view> text_tokens(std::string_view text);

struct TextChunk {
  std::string text;
  std::size_t tokens = 0;
};
// Windows of `window` tokens, each starting `window - overlap` after the last.
std::vector<TextChunk> overlapped_chunks(std::string_view text, std::size_t window,
                                         std::size_t overlap);

// "http://", "https://", "data:" or "file://" at the start.
bool looks_like_url(std::string_view text);

// The text of a PDF document's pages (Debian's poppler), one line break
// between pages; 400 naming `field` for a broken or encrypted document.
std::string pdf_text(std::string_view bytes, const std::string& field);

// The visible text of an HTML document (scripts, styles and tags dropped,
// block elements as line breaks, the common entities decoded).
std::string html_to_text(std::string_view html);

// True for addresses an SSRF check refuses (see the file comment).
bool is_private_address(std::string_view ip);

// The text behind `url` (400 naming `field` for a bad or refused URL, 413
// over max_document_bytes, 502/504 for the remote server's failures, 415 for
// content that is not text).
async::Task<std::string> fetch_document(const apis::CallContext& context, http::HttpClient& client,
                                        async::Executor* workers, std::string url,
                                        std::optional<std::string> mime_type, DocumentLimits limits,
                                        std::string field);

}  // namespace llama_stack::providers::inline_
