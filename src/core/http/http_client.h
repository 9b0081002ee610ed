// Upstream HTTP/1.1 client (model servers, identity providers): pooled
// keep-alive connections per origin, TLS with certificate and host
// verification, connect/read timeouts, streamed response bodies, and
// cancellation. Asio lives in transport/http_client.cc only.
//
// Retries: a request is retried once, on a fresh connection, only when it
// cannot have reached the upstream application — the connect failed, or a
// pooled keep-alive connection turned out to be closed before any response
// byte arrived.
//
// Thread-safety: an HttpClient may be used from any thread. Callbacks run on
// the client's I/O threads, one at a time per request, in order:
// on_head, on_data*, on_complete (exactly once, also after cancel()).
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/http/http_types.h"
#include "core/runtime/io_runtime.h"

namespace llama_stack::http {

struct ClientOptions {
  bool verify_tls = true;
  std::optional<std::string> ca_file;  // unset → system CAs
  std::chrono::milliseconds connect_timeout{10'000};
  std::chrono::milliseconds read_timeout{600'000};  // max silence between bytes
  std::size_t max_idle_per_origin = 64;
};

struct ClientRequest {
  std::string method = "GET";
  std::string url;  // absolute http(s) URL
  http::Headers headers;
  std::string body;
  std::optional<std::chrono::milliseconds> read_timeout;  // overrides ClientOptions
};

struct ClientResponseHead {
  int status = 0;
  http::Headers headers;
};

enum class ClientErrorKind {
  kConnect,    // DNS, refused, unreachable, TLS handshake
  kTimeout,    // connect or read timeout
  kReset,      // connection closed/reset mid-exchange
  kProtocol,   // malformed HTTP from upstream, body too large
  kCancelled,  // cancel() was called
  kInvalid,    // bad URL
};

struct ClientError {
  ClientErrorKind kind;
  std::string message;
};

struct ClientCallbacks {
  std::function<void(const ClientResponseHead&)> on_head;
  std::function<void(std::string_view chunk)> on_data;  // decoded body bytes
  std::function<void(const std::optional<ClientError>& error)> on_complete;
};

// Cancels an in-flight request: the connection is closed (the upstream sees
// it) and on_complete gets kCancelled if it has not completed yet.
class RequestHandle {
 public:
  virtual ~RequestHandle() = default;
  virtual void cancel() = 0;
};

// A buffered result, for callers that don't stream.
struct ClientResult {
  std::optional<ClientError> error;
  int status = 0;
  http::Headers headers;
  std::string body;
};

class HttpClient {
 public:
  virtual ~HttpClient() = default;

  virtual std::shared_ptr<RequestHandle> send(ClientRequest request, ClientCallbacks callbacks) = 0;

  // Convenience: collects the body (up to max_body bytes) and calls `done`.
  std::shared_ptr<RequestHandle> fetch(ClientRequest request,
                                       std::function<void(ClientResult)> done,
                                       std::size_t max_body = 64 * 1024 * 1024);
  // Blocking fetch, for startup code and tests; never call from an I/O thread.
  ClientResult fetch_sync(ClientRequest request);

  // Throws std::runtime_error when TLS material cannot be loaded.
  static std::shared_ptr<HttpClient> create(IoRuntime& runtime, ClientOptions options = {});
};

std::string_view to_string(ClientErrorKind kind);

}  // namespace llama_stack::http
