// Transport-neutral HTTP request/response types. The transport (Beast, in
// transport/) fills HttpRequest and renders HttpResponse; nothing else in the
// server sees the HTTP library.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace llama_stack::server {

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

struct HttpRequest {
  std::string method;  // "GET", "POST", ...
  std::string target;  // raw request target, e.g. "/v1/models?limit=2"
  std::string path;    // path without the query, as sent (route params are decoded)
  std::vector<std::pair<std::string, std::string>> query;  // decoded, in order
  Headers headers;
  std::string body;
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

// Where a handler sends its answer. Exactly one of send() or
// start_stream()+...+end_stream() is called per request. Implementations are
// thread-safe: a handler may answer from any thread, after it has returned.
class ResponseSink {
 public:
  virtual ~ResponseSink() = default;

  // Sends a complete response; the exchange is over after this.
  virtual void send(HttpResponse response) = 0;

  // Starts a streamed (chunked) response, e.g. text/event-stream.
  virtual void start_stream(int status, Headers headers, std::string content_type) = 0;
  // Queues one chunk; it is written to the socket as soon as possible.
  virtual void write_chunk(std::string data) = 0;
  virtual void end_stream() = 0;
  // Drops the connection without finishing the response (a streamed response
  // is left truncated). For fault injection and hopeless states.
  virtual void abort() = 0;

  // True once the client went away; producers should stop.
  virtual bool cancelled() const = 0;
  // Called (once, from any thread) when the client goes away mid-exchange.
  virtual void on_cancel(std::function<void()> callback) = 0;

  // Runs `task` on the thread that serves this exchange's connection (where
  // its upstream calls are cheapest); from any thread. The default runs it
  // at once, on the caller's thread.
  virtual void post(std::function<void()> task) { task(); }
  // True on the thread post() runs tasks on (the default post runs inline).
  virtual bool running_here() const { return true; }
};

}  // namespace llama_stack::server
