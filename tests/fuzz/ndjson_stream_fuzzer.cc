// Upstream NDJSON streams (Ollama /api/chat): lines in chunks of every size
// through LineSplitter, each parsed as JSON and converted by ChatStream to
// OpenAI chunks, as remote::ollama does; a non-streamed answer goes through
// chat_response / generate_response / embed_response.
#include <cstdint>
#include <stdexcept>

#include "core/inference/stream_parser.h"
#include "core/util/json.h"
#include "fuzz/fuzz_support.h"
#include "providers/remote/inference/ollama_convert.h"

using namespace llama_stack;
namespace ollama = llama_stack::providers::remote::ollama;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text = fuzz::as_text(data, size);
  const ollama::ResponseIds ids{"ollama", "llama3.2:3b", "chatcmpl-1", 1};
  inference::LineSplitter lines;
  ollama::ChatStream stream(ids, /*include_usage=*/true);
  bool ok = true;
  auto on_line = [&](std::string_view line) {
    if (line.empty() || stream.done()) return;
    try {
      (void)stream.on_record(parse_json(line));
    } catch (const std::exception&) {
      // A bad record fails the stream for its caller.
    }
  };
  fuzz::feed_in_chunks(text, [&](std::string_view chunk) {
    if (ok) ok = lines.feed(chunk, on_line, 64 * 1024);
  });
  try {
    const json::value body = parse_json(text);
    (void)ollama::chat_response(body, ids);
    (void)ollama::generate_response(body, ids);
    (void)ollama::embed_response(body, ids);
  } catch (const std::exception&) {
  }
  return 0;
}
