// The HTTP/1.1 server (TLS and mTLS optional). The implementation is the
// only place that includes Asio/Beast (transport/http_server.cc); callers see
// this plain interface.
//
// Lifecycle: construct → listen() → run() (blocks) ; stop() or SIGINT/SIGTERM
// starts a graceful shutdown: stop accepting, close idle connections, let
// in-flight exchanges finish within shutdown_timeout, then return from run().
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/runtime/io_runtime.h"
#include "core/server/server_core.h"

namespace llama_stack::server {

struct ServerOptions {
  std::optional<std::string> host;  // unset → "::" and "0.0.0.0"
  std::uint16_t port = 8321;
  std::optional<std::string> tls_certfile;
  std::optional<std::string> tls_keyfile;
  std::optional<std::string> tls_cafile;  // set → client certificates required
  std::size_t max_body_bytes = 16 * 1024 * 1024;
  std::size_t max_header_bytes = 16 * 1024;
  std::chrono::seconds idle_timeout{60};
  std::chrono::seconds request_timeout{60};
  std::chrono::seconds shutdown_timeout{10};
};

class HttpServer {
 public:
  // `runtime` must be started and outlive the server.
  HttpServer(ServerOptions options, const ServerCore& core, IoRuntime& runtime);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Loads TLS material and binds. Throws std::runtime_error naming the file
  // or address that failed.
  void listen();
  // "host:port" for every bound socket.
  std::vector<std::string> local_addresses() const;
  std::uint16_t port() const;

  // Serves (on the runtime's threads) until stop() or a signal (if
  // handle_signals); returns once the graceful shutdown is complete.
  void run(bool handle_signals);
  // run() in two halves: start serving without blocking, then wait for the
  // graceful shutdown (after stop()).
  void start(bool handle_signals);
  void wait();
  // Thread-safe; may be called from a signal-free context or a handler.
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace llama_stack::server
