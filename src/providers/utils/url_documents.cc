#include "providers/utils/url_documents.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <sys/socket.h>

#include <boost/url/parse.hpp>

#include <algorithm>
#include <cctype>
#include <cstring>

#include "core/util/api_error.h"
#include "llama_stack/async/bridge.h"
#include "llama_stack/async/thread_pool.h"
#include "providers/utils/document_text.h"
#include "providers/utils/upstream.h"

namespace llama_stack::providers::inline_ {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string base64_field(std::string_view in, const std::string& field) {
  std::optional<std::string> out = base64_decode(in);
  if (!out) throw JsonFieldError(field, "Field '" + field + "': the data URL is not valid base64");
  return std::move(*out);
}

std::string percent_decode(std::string_view in) {
  std::string out;
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '%' && i + 2 < in.size() && std::isxdigit(static_cast<unsigned char>(in[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(in[i + 2]))) {
      out.push_back(static_cast<char>(std::stoi(std::string(in.substr(i + 1, 2)), nullptr, 16)));
      i += 2;
    } else {
      out.push_back(in[i]);
    }
  }
  return out;
}

// data:<mime>[;charset=…][;base64],<data>
std::string data_url_text(std::string_view url, const std::optional<std::string>& mime_type,
                          const std::string& field) {
  const std::size_t comma = url.find(',');
  if (comma == std::string_view::npos) {
    throw JsonFieldError(field, "Field '" + field + "': malformed data URL (no ',')");
  }
  std::string_view head = url.substr(5, comma - 5);
  const bool base64 = head.ends_with(";base64");
  if (base64) head.remove_suffix(7);
  std::string mime(head.substr(0, head.find(';')));
  if (mime.empty()) mime = mime_type.value_or("text/plain");
  std::string data =
      base64 ? base64_field(url.substr(comma + 1), field) : percent_decode(url.substr(comma + 1));
  return utils::document_text(std::move(data), mime, field);
}

// Resolves `host` (blocking: call it on a worker) and refuses private
// addresses; returns the first address, for the message.
std::string check_host(const std::string& host, bool allow_private, const std::string& field) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  const int rc = getaddrinfo(host.c_str(), nullptr, &hints, &found);
  if (rc != 0) {
    throw ApiError::bad_request("Field '" + field + "': cannot resolve host '" + host +
                                "': " + gai_strerror(rc));
  }
  std::string first;
  std::string refused;
  for (addrinfo* a = found; a != nullptr; a = a->ai_next) {
    char buf[INET6_ADDRSTRLEN] = {};
    if (a->ai_family == AF_INET) {
      inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(a->ai_addr)->sin_addr, buf, sizeof buf);
    } else if (a->ai_family == AF_INET6) {
      inet_ntop(AF_INET6, &reinterpret_cast<sockaddr_in6*>(a->ai_addr)->sin6_addr, buf, sizeof buf);
    } else {
      continue;
    }
    if (first.empty()) first = buf;
    if (is_private_address(buf)) refused = buf;
  }
  freeaddrinfo(found);
  if (!refused.empty() && !allow_private) {
    throw ApiError::bad_request("Field '" + field + "': the URL's host '" + host +
                                "' resolves to a private or local address (" + refused +
                                "); documents are not fetched from such addresses unless the "
                                "provider sets allow_private_urls: true");
  }
  return first;
}

}  // namespace

bool looks_like_url(std::string_view text) {
  const std::string head = lower(text.substr(0, 8));
  return head.starts_with("http://") || head.starts_with("https://") || head.starts_with("data:") ||
         head.starts_with("file://");
}

bool is_private_address(std::string_view ip) {
  in_addr v4{};
  in6_addr v6{};
  const std::string text(ip);
  if (inet_pton(AF_INET, text.c_str(), &v4) == 1) {
    const std::uint32_t a = ntohl(v4.s_addr);
    auto in = [&](std::uint32_t net, int bits) {
      return bits == 0 || (a >> (32 - bits)) == (net >> (32 - bits));
    };
    return in(0x00000000, 8) || in(0x0A000000, 8) || in(0x7F000000, 8) || in(0xA9FE0000, 16) ||
           in(0xAC100000, 12) || in(0xC0A80000, 16) || in(0x64400000, 10) || in(0xC0000000, 24) ||
           in(0xE0000000, 4) || in(0xF0000000, 4);
  }
  if (inet_pton(AF_INET6, text.c_str(), &v6) == 1) {
    const unsigned char* b = v6.s6_addr;
    static const unsigned char kZero[16] = {};
    if (std::memcmp(b, kZero, 15) == 0 && (b[15] == 0 || b[15] == 1)) return true;  // :: and ::1
    if ((b[0] & 0xFE) == 0xFC) return true;                                         // fc00::/7
    if (b[0] == 0xFE && (b[1] & 0xC0) == 0x80) return true;                         // fe80::/10
    if (b[0] == 0xFF) return true;                                                  // multicast
    // IPv4-mapped ::ffff:a.b.c.d
    static const unsigned char kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF};
    if (std::memcmp(b, kMapped, 12) == 0) {
      char buf[INET_ADDRSTRLEN];
      inet_ntop(AF_INET, b + 12, buf, sizeof buf);
      return is_private_address(buf);
    }
    return false;
  }
  return true;  // not an address: refuse
}

async::Task<std::string> fetch_document(const apis::CallContext& context, http::HttpClient& client,
                                        async::Executor* workers, std::string url,
                                        std::optional<std::string> mime_type, DocumentLimits limits,
                                        std::string field) {
  if (workers == nullptr) throw ApiError::internal("rag-runtime: no worker threads");
  const std::string head = lower(std::string_view(url).substr(0, 8));
  if (head.starts_with("data:")) {
    auto parsed = async::offload<std::string>(context.executor, *workers,
                                              [&] { return data_url_text(url, mime_type, field); });
    co_return co_await parsed;
  }
  if (!head.starts_with("http://") && !head.starts_with("https://")) {
    throw JsonFieldError(field, "Field '" + field + "': only http(s) and data: URLs are fetched");
  }
  auto parsed = boost::urls::parse_absolute_uri(url);
  if (!parsed || parsed->encoded_host().empty()) {
    throw JsonFieldError(field, "Field '" + field + "': '" + url + "' is not a valid URL");
  }
  std::string host(parsed->encoded_host_address());
  if (host.size() > 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  // DNS resolution blocks: on a worker. (The fetch resolves again; a host
  // whose DNS answer changes in between is not caught — documented.)
  auto checked = async::offload<std::string>(context.executor, *workers, [host, limits, field] {
    return check_host(host, limits.allow_private_urls, field);
  });
  co_await checked;

  http::ClientRequest request;
  request.url = url;
  request.read_timeout = std::chrono::seconds(limits.fetch_timeout_seconds);
  auto start = [&](async::Resolver<http::ClientResult> resolve) -> async::CancelFn {
    auto handle = client.fetch(
        std::move(request), [resolve](http::ClientResult r) { resolve.value(std::move(r)); },
        static_cast<std::size_t>(limits.max_document_bytes));
    return utils::cancel_of(handle);
  };
  auto operation =
      async::from_callback<http::ClientResult>(context.executor, context.stop, std::move(start));
  http::ClientResult result = co_await operation;
  if (result.error) {
    if (result.error->message.find("exceeds") != std::string::npos) {
      throw ApiError(413, "Field '" + field + "': the document at " + url + " is larger than " +
                              std::to_string(limits.max_document_bytes) +
                              " bytes (max_document_bytes)");
    }
    ApiError e = utils::transport_error("rag-runtime", *result.error);
    throw ApiError(e.status(), "Field '" + field + "': fetching " + url + " failed: " + e.what());
  }
  if (result.status < 200 || result.status >= 300) {
    throw ApiError::bad_request("Field '" + field + "': fetching " + url + " answered HTTP " +
                                std::to_string(result.status));
  }
  std::string mime =
      mime_type.value_or(std::string(result.headers.get("content-type").value_or("")));
  // PDF parsing is CPU work: on a worker, not the I/O thread.
  auto text = async::offload<std::string>(context.executor, *workers, [&] {
    return utils::document_text(std::move(result.body), mime, field);
  });
  co_return co_await text;
}

}  // namespace llama_stack::providers::inline_
