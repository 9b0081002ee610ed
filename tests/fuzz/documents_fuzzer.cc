// Document extraction for RAG (vector-store files, rag-tool inserts): the
// bytes' MIME type guessed from a name and their first bytes, then
// document_text (UTF-8 text, HTML → text, PDF → text with poppler), as the
// ingestion path calls it. The first byte picks the declared type.
#include <cstdint>
#include <stdexcept>
#include <string>

#include "fuzz/fuzz_support.h"
#include "providers/utils/document_text.h"

using namespace llama_stack;
namespace utils = llama_stack::providers::utils;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  static constexpr std::string_view kNames[] = {"doc.pdf", "page.html", "notes.txt", "data.json",
                                                "blob"};
  const std::string_view name = kNames[data[0] % std::size(kNames)];
  const std::string_view bytes = fuzz::as_text(data + 1, size - 1);
  const std::string mime = utils::guess_mime_type(name, bytes);
  try {
    (void)utils::document_text(std::string(bytes), mime, "file");
  } catch (const std::exception&) {
    // 400/415 naming the field.
  }
  (void)utils::html_to_text(bytes);
  return 0;
}
