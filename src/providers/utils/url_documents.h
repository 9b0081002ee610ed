// Documents behind URLs, for the RAG tool and agent turns (their text:
// providers/utils/document_text.h; their chunks: core/util/text_chunks.h).
//
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

// "http://", "https://", "data:" or "file://" at the start.
bool looks_like_url(std::string_view text);

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
