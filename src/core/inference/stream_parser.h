// Incremental parsers for upstream streams: Server-Sent Events (OpenAI,
// vLLM) and newline-delimited JSON (Ollama). Bytes arrive in arbitrary
// pieces; complete records come out in order.
//
// Thread-safety: none; one parser per stream.
#pragma once

#include <functional>
#include <string>
#include <string_view>

namespace llama_stack::inference {

class LineSplitter {
 public:
  // Calls `on_line` for every complete line (without "\n" or "\r\n").
  // Returns false (and stops) at a line longer than `max_line` bytes (not
  // counting its terminator), wherever the chunk boundaries fall; the lines
  // before it have been delivered.
  bool feed(std::string_view bytes, const std::function<void(std::string_view)>& on_line,
            std::size_t max_line = 16 * 1024 * 1024);
  // The trailing partial line, if any (at end of stream).
  const std::string& rest() const { return partial_; }

 private:
  std::string partial_;
};

// SSE: collects `data:` lines into events (multi-line data joined by "\n");
// other fields (event:, id:, retry:) and comments are ignored.
class SseParser {
 public:
  bool feed(std::string_view bytes, const std::function<void(std::string_view data)>& on_event);
  // Flushes an event not terminated by a blank line (stream closed).
  void finish(const std::function<void(std::string_view data)>& on_event);

 private:
  LineSplitter lines_;
  std::string data_;
  bool has_data_ = false;
};

}  // namespace llama_stack::inference
