// Transport-neutral HTTP types, shared by the server and the upstream client
// (src/core/http/http_client.h): headers, a request, a response. The
// transports (Beast, in src/core/server/transport/) fill and render them;
// nothing else sees the HTTP library.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace llama_stack::http {

// Header list with case-insensitive lookup. Names are stored lower-case.
class Headers {
 public:
  using Entry = std::pair<std::string, std::string>;

  void add(std::string_view name, std::string value);
  // Replaces every header named `name`.
  void set(std::string_view name, std::string value);
  std::optional<std::string_view> get(std::string_view name) const;
  bool contains(std::string_view name) const { return get(name).has_value(); }
  const std::vector<Entry>& entries() const { return entries_; }
  bool empty() const { return entries_.empty(); }

 private:
  std::vector<Entry> entries_;
};

// A file that is removed when the last owner lets go of it (an upload's
// body on disk); release() keeps it (the handler moved it into a store).
class TemporaryFile {
 public:
  explicit TemporaryFile(std::string path) : path_(std::move(path)) {}
  ~TemporaryFile();
  TemporaryFile(const TemporaryFile&) = delete;
  TemporaryFile& operator=(const TemporaryFile&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

struct HttpRequest {
  std::string method;  // "GET", "POST", ...
  std::string target;  // raw request target, e.g. "/v1/models?limit=2"
  std::string path;    // path without the query, as sent (route params are decoded)
  std::vector<std::pair<std::string, std::string>> query;  // decoded, in order
  Headers headers;
  std::string body;
  // Routes that take uploads (Route::upload_bytes): the body is in this file
  // instead of `body`, which is then empty.
  std::shared_ptr<const TemporaryFile> body_file;
  std::string remote_address;  // peer IP, without port
  std::uint16_t remote_port = 0;
  bool tls = false;
  // The verified client certificate subject, when mTLS is on.
  std::string client_certificate_subject;

  std::optional<std::string_view> query_param(std::string_view name) const;
};

struct HttpResponse {
  int status = 200;
  Headers headers;  // content-type is set from `content_type` if not present
  std::string content_type = "application/json";
  std::string body;
};

}  // namespace llama_stack::http
