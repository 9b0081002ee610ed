// The text of a document's bytes, for indexing: what RAG documents (the
// rag-runtime's data: and http(s) documents) and vector store files are
// turned into before they are chunked. text/* and JSON/XML as they are,
// HTML stripped to its visible text, PDF through Debian's poppler.
//
// CPU work (PDF parsing): callers run it on a worker thread.
#pragma once

#include <string>
#include <string_view>

namespace llama_stack::providers::utils {

// The text of `bytes` of MIME type `mime_type` (parameters such as charset
// are ignored; empty = text). 415 naming `field` for a type that is not
// text, HTML or PDF; 400 for a broken or encrypted PDF.
std::string document_text(std::string bytes, std::string_view mime_type, const std::string& field);

// The MIME type of a file by its name's extension (.pdf, .html, .txt, .md,
// .json, …), else by its first bytes ("%PDF-", an HTML doctype); "" when
// neither says (document_text treats valid UTF-8 without NUL bytes as text).
std::string guess_mime_type(std::string_view filename, std::string_view bytes);

// The text of a PDF document's pages, one line break between pages; 400
// naming `field` for a broken or encrypted document.
std::string pdf_text(std::string_view bytes, const std::string& field);

// The visible text of an HTML document (scripts, styles and tags dropped,
// block elements as line breaks, the common entities decoded).
std::string html_to_text(std::string_view html);

}  // namespace llama_stack::providers::utils
