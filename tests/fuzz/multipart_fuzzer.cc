// multipart/form-data uploads (POST /v1/openai/v1/files): the first line is
// the Content-Type header value, the rest the body, fed to MultipartParser in
// chunks of every size the way the files route streams an upload.
#include <cstdint>
#include <string>

#include "core/http/multipart.h"
#include "fuzz/fuzz_support.h"

using namespace llama_stack;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto [content_type, body] = fuzz::split_once(fuzz::as_text(data, size));
  const std::optional<std::string> boundary = http::MultipartParser::boundary_of(content_type);
  if (!boundary) return 0;
  std::size_t bytes = 0;
  int open = 0;
  http::MultipartParser::Callbacks callbacks;
  callbacks.on_part = [&](const http::MultipartPart& part) {
    ++open;
    bytes += part.name.size() + part.content_type.size();
  };
  callbacks.on_data = [&](std::string_view piece) {
    if (open != 1) __builtin_trap();  // data only inside a part
    bytes += piece.size();
  };
  callbacks.on_part_end = [&] { --open; };
  http::MultipartParser parser(*boundary, std::move(callbacks), /*max_parts=*/8);
  try {
    fuzz::feed_in_chunks(body, [&](std::string_view chunk) { parser.feed(chunk); });
    parser.finish();
    if (open != 0) __builtin_trap();  // every part that started ended
  } catch (const http::MultipartError&) {
    // 400.
  }
  return 0;
}
