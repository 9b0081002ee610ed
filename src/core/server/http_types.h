// What a handler answers through (ResponseSink), and the HTTP types of the
// net layer under their server names.
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

#include "core/http/http_types.h"

namespace llama_stack::server {

using http::Headers;
using http::HttpRequest;
using http::HttpResponse;
using http::TemporaryFile;

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
