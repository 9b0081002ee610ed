// Upstream SSE streams (OpenAI-compatible servers, vLLM, MCP over SSE): the
// bytes in chunks of every size through SseParser, each event's data parsed
// as JSON and recorded the way a stored streamed completion is.
#include <cstdint>
#include <stdexcept>

#include "core/inference/stream_parser.h"
#include "core/inference/stream_recorder.h"
#include "core/util/json.h"
#include "fuzz/fuzz_support.h"

using namespace llama_stack;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  inference::SseParser parser;
  inference::StreamRecorder recorder;
  bool ok = true;
  auto on_event = [&](std::string_view event) {
    if (event == "[DONE]") return;
    try {
      json::value value = parse_json(event);
      if (value.is_object()) recorder.add(value.get_object());
    } catch (const std::exception&) {
      // A bad event is an upstream error for the caller; the parser goes on.
    }
  };
  fuzz::feed_in_chunks(fuzz::as_text(data, size), [&](std::string_view chunk) {
    if (ok) ok = parser.feed(chunk, on_event);
  });
  if (ok) parser.finish(on_event);
  (void)recorder.chat_completion("m");
  (void)recorder.text_completion("m");
  return 0;
}
