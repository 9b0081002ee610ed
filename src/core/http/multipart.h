// multipart/form-data (RFC 7578) parsing, incremental: bytes are fed as they
// arrive and each part's data is handed on in pieces, so an upload can go
// to disk without ever being whole in memory. For the Files API.
//
// Limits: a part's header block is at most kMaxHeaderBytes, at most
// max_parts parts. Anything malformed — no opening boundary, a header line
// without ':', a part without a name, input after the closing boundary,
// input that ends before it — throws MultipartError, which callers answer
// with 400.
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace llama_stack::http {

class MultipartError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct MultipartPart {
  std::string name;                     // Content-Disposition name
  std::optional<std::string> filename;  // Content-Disposition filename
  std::string content_type = "text/plain";
};

class MultipartParser {
 public:
  static constexpr std::size_t kMaxHeaderBytes = 16 * 1024;

  struct Callbacks {
    std::function<void(const MultipartPart& part)> on_part;  // a part starts
    std::function<void(std::string_view data)> on_data;      // some of its data
    std::function<void()> on_part_end;                       // it ended
  };

  // The boundary parameter of a Content-Type header value
  // (`multipart/form-data; boundary=...`, quoted or not); nullopt when the
  // type is not multipart/form-data or has no boundary.
  static std::optional<std::string> boundary_of(std::string_view content_type);

  MultipartParser(std::string boundary, Callbacks callbacks, std::size_t max_parts = 64);

  // Throws MultipartError on malformed input (see the file comment).
  void feed(std::string_view bytes);
  // The input is over: throws unless the closing boundary was seen.
  void finish();
  bool done() const { return state_ == State::kDone; }

 private:
  enum class State { kPreamble, kAfterBoundary, kHeaders, kBody, kDone };

  void parse_headers(std::string_view block);

  std::string delimiter_;  // "\r\n--" + boundary
  Callbacks callbacks_;
  std::size_t max_parts_;
  std::size_t parts_ = 0;
  State state_ = State::kPreamble;
  std::string buffer_;  // bytes not yet consumed
};

}  // namespace llama_stack::http
