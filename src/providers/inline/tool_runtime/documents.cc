#include "providers/inline/tool_runtime/documents.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <sys/socket.h>

#include <poppler-document.h>
#include <poppler-global.h>
#include <poppler-page.h>
#include <boost/url/parse.hpp>

#include <algorithm>
#include <cctype>
#include <cstring>

#include "core/util/api_error.h"
#include "llama_stack/async/bridge.h"
#include "llama_stack/async/thread_pool.h"
#include "providers/utils/upstream.h"

namespace llama_stack::providers::inline_ {
namespace {

bool is_word(unsigned char c) {
  return std::isalnum(c) || c >= 0x80;
}

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

// The text of a body of `mime` (text/*, HTML, PDF); 415 for anything else.
// PDF parsing is CPU work: callers run this on a worker thread.
std::string body_text(std::string body, std::string mime, const std::string& field) {
  mime = lower(mime.substr(0, mime.find(';')));
  while (!mime.empty() && mime.back() == ' ') mime.pop_back();
  if (mime == "text/html" || mime == "application/xhtml+xml") return html_to_text(body);
  if (mime == "application/pdf") return pdf_text(body, field);
  if (mime.empty() || mime.starts_with("text/") || mime == "application/json" ||
      mime == "application/xml") {
    return body;
  }
  throw ApiError(415, "Field '" + field + "': documents of type '" + mime +
                          "' are not supported (text/*, text/html, application/pdf)");
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
  return body_text(std::move(data), mime, field);
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
                                "rag-runtime provider sets allow_private_urls: true");
  }
  return first;
}

}  // namespace

std::string pdf_text(std::string_view bytes, const std::string& field) {
  // Poppler reports parse problems on stderr by default: not in our logs.
  static const bool quiet = [] {
    poppler::set_debug_error_function([](const std::string&, void*) {}, nullptr);
    return true;
  }();
  (void)quiet;
  std::vector<char> data(bytes.begin(), bytes.end());
  std::unique_ptr<poppler::document> doc(
      poppler::document::load_from_data(&data));  // keeps a pointer to `data`
  if (!doc) throw ApiError::bad_request("Field '" + field + "': not a readable PDF document");
  if (doc->is_locked()) {
    throw ApiError::bad_request("Field '" + field + "': the PDF document is encrypted");
  }
  std::string out;
  for (int i = 0; i < doc->pages(); ++i) {
    std::unique_ptr<poppler::page> page(doc->create_page(i));
    if (!page) continue;
    const poppler::byte_array text = page->text().to_utf8();
    if (!out.empty()) out += '\n';
    out.append(text.begin(), text.end());
  }
  return out;
}

std::vector<std::string_view> text_tokens(std::string_view text) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < text.size()) {
    const std::size_t start = i;
    while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
    if (i == text.size()) {
      if (!out.empty()) {
        out.back() = text.substr(out.back().data() - text.data());  // trailing space joins the last
      } else {
        out.push_back(text.substr(start));
      }
      break;
    }
    if (is_word(static_cast<unsigned char>(text[i]))) {
      while (i < text.size() && is_word(static_cast<unsigned char>(text[i]))) ++i;
    } else {
      ++i;
    }
    out.push_back(text.substr(start, i - start));
  }
  return out;
}

std::vector<TextChunk> overlapped_chunks(std::string_view text, std::size_t window,
                                         std::size_t overlap) {
  std::vector<TextChunk> out;
  const std::vector<std::string_view> tokens = text_tokens(text);
  if (tokens.empty() || window == 0) return out;
  const std::size_t step = window > overlap ? window - overlap : 1;
  for (std::size_t start = 0; start < tokens.size(); start += step) {
    const std::size_t end = std::min(tokens.size(), start + window);
    TextChunk chunk;
    for (std::size_t t = start; t < end; ++t) chunk.text += tokens[t];
    chunk.tokens = end - start;
    out.push_back(std::move(chunk));
  }
  return out;
}

bool looks_like_url(std::string_view text) {
  const std::string head = lower(text.substr(0, 8));
  return head.starts_with("http://") || head.starts_with("https://") || head.starts_with("data:") ||
         head.starts_with("file://");
}

std::string html_to_text(std::string_view html) {
  std::string out;
  std::size_t i = 0;
  const std::string lowered = lower(html);  // for case-insensitive closing tags
  auto skip_element = [&](std::string_view name) {
    const std::size_t end = lowered.find("</" + std::string(name), i);
    i = end == std::string::npos ? html.size() : end;
  };
  while (i < html.size()) {
    if (html[i] == '<') {
      const std::size_t close = html.find('>', i);
      if (close == std::string_view::npos) break;
      std::string tag = lower(html.substr(i + 1, close - i - 1));
      const bool end_tag = !tag.empty() && tag[0] == '/';
      if (end_tag) tag.erase(0, 1);
      const std::string name = tag.substr(0, tag.find_first_of(" \t\r\n/"));
      i = close + 1;
      if (!end_tag && (name == "script" || name == "style" || name == "head")) {
        skip_element(name);
        continue;
      }
      static const char* kBlocks[] = {"p",       "br",      "div", "li",   "tr", "h1",
                                      "h2",      "h3",      "h4",  "h5",   "h6", "title",
                                      "section", "article", "pre", "table"};
      for (const char* b : kBlocks) {
        if (name == b) {
          if (!out.empty() && out.back() != '\n') out += '\n';
          break;
        }
      }
      continue;
    }
    if (html[i] == '&') {
      static const std::pair<const char*, const char*> kEntities[] = {
          {"&amp;", "&"}, {"&lt;", "<"},   {"&gt;", ">"},  {"&quot;", "\""},
          {"&#39;", "'"}, {"&apos;", "'"}, {"&nbsp;", " "}};
      bool matched = false;
      for (const auto& [entity, text] : kEntities) {
        if (html.substr(i).starts_with(entity)) {
          out += text;
          i += std::strlen(entity);
          matched = true;
          break;
        }
      }
      if (matched) continue;
    }
    out += html[i++];
  }
  // Collapse runs of blank space.
  std::string collapsed;
  bool space = false, newline = false;
  for (char c : out) {
    if (c == '\n') {
      newline = true;
      continue;
    }
    if (std::isspace(static_cast<unsigned char>(c))) {
      space = true;
      continue;
    }
    if (newline && !collapsed.empty()) {
      collapsed += '\n';
    } else if (space && !collapsed.empty()) {
      collapsed += ' ';
    }
    space = newline = false;
    collapsed += c;
  }
  return collapsed;
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
  co_return body_text(std::move(result.body), mime, field);
}

}  // namespace llama_stack::providers::inline_
