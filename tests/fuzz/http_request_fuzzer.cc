// HTTP/1.1 request heads and body framing (Content-Length, chunked,
// pipelining), read the way the server reads a connection: Beast's
// request_parser under the server's header and body limits, bytes arriving
// in pieces of every size, then to_http_request (target split, query
// percent-decoding, headers) for each complete request.
#include <cstdint>
#include <string_view>

#include "core/server/transport/wire.h"
#include "fuzz/fuzz_support.h"

using namespace llama_stack;
namespace wire = llama_stack::server::wire;
namespace bhttp = wire::http;

namespace {

constexpr std::uint32_t kMaxHeaderBytes = 16 * 1024;  // server.max_header_bytes default
constexpr std::uint64_t kMaxBodyBytes = 1 << 20;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input = fuzz::as_text(data, size);
  const wire::tcp::endpoint remote(boost::asio::ip::make_address("10.0.0.1"), 40000);
  std::size_t consumed = 0;  // bytes the parsers took
  std::size_t arrived = 0;   // bytes "read from the socket" so far
  std::uint32_t state = size == 0 ? 1 : data[0];
  for (int requests = 0; requests < 16 && consumed < input.size(); ++requests) {
    bhttp::request_parser<bhttp::string_body> parser;
    parser.header_limit(kMaxHeaderBytes);
    parser.body_limit(kMaxBodyBytes);
    wire::beast::error_code ec;
    for (;;) {
      if (arrived == consumed || ec == bhttp::error::need_more) {
        if (arrived == input.size()) break;  // the client closed: an incomplete request
        state = state * 1103515245u + 12345u;
        arrived = std::min(input.size(), arrived + 1 + (state >> 16) % 211);
        ec = {};
      }
      const std::size_t n =
          parser.put(boost::asio::buffer(input.data() + consumed, arrived - consumed), ec);
      consumed += n;
      if (ec == bhttp::error::need_more) continue;
      if (ec) return 0;  // 400 / 413 / 431 and the connection closes
      if (parser.is_header_done() && !parser.is_done()) {
        if (auto length = parser.content_length(); length && *length > kMaxBodyBytes) return 0;
      }
      if (parser.is_done()) break;
    }
    if (!parser.is_done()) return 0;
    server::HttpRequest request = wire::to_http_request(parser.get(), remote, false);
    (void)request.headers.get("authorization");
    if (!parser.keep_alive()) return 0;
  }
  return 0;
}
