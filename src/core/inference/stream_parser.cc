#include "core/inference/stream_parser.h"

namespace llama_stack::inference {

bool LineSplitter::feed(std::string_view bytes,
                        const std::function<void(std::string_view)>& on_line,
                        std::size_t max_line) {
  while (!bytes.empty()) {
    const auto newline = bytes.find('\n');
    if (newline == std::string_view::npos) {
      partial_.append(bytes);
      // One byte more than the limit may be the '\r' of a "\r\n".
      return partial_.size() <= max_line + 1;
    }
    std::string_view piece = bytes.substr(0, newline);
    bytes.remove_prefix(newline + 1);
    if (partial_.empty()) {
      if (!piece.empty() && piece.back() == '\r') piece.remove_suffix(1);
      if (piece.size() > max_line) return false;
      on_line(piece);
    } else {
      partial_.append(piece);
      if (!partial_.empty() && partial_.back() == '\r') partial_.pop_back();
      if (partial_.size() > max_line) return false;
      std::string line = std::move(partial_);
      partial_.clear();
      on_line(line);
    }
  }
  return true;
}

bool SseParser::feed(std::string_view bytes,
                     const std::function<void(std::string_view data)>& on_event) {
  return lines_.feed(bytes, [&](std::string_view line) {
    if (line.empty()) {
      if (has_data_) {
        std::string data = std::move(data_);
        data_.clear();
        has_data_ = false;
        on_event(data);
      }
      return;
    }
    if (line.front() == ':') return;  // comment / keep-alive
    std::string_view field = line;
    std::string_view value;
    if (auto colon = line.find(':'); colon != std::string_view::npos) {
      field = line.substr(0, colon);
      value = line.substr(colon + 1);
      if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    }
    if (field == "data") {
      if (has_data_) data_.push_back('\n');
      data_.append(value);
      has_data_ = true;
    }
  });
}

void SseParser::finish(const std::function<void(std::string_view data)>& on_event) {
  if (!lines_.rest().empty()) {
    feed("\n", on_event);
  }
  if (has_data_) {
    std::string data = std::move(data_);
    data_.clear();
    has_data_ = false;
    on_event(data);
  }
}

}  // namespace llama_stack::inference
