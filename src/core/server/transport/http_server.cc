// Beast/Asio transport: accept loop, one coroutine per connection, TLS.
// Requests are handed to ServerCore::dispatch as plain HttpRequest structs;
// the handler's answer comes back through a channel (ChannelSink), so
// handlers may reply from any thread and stream chunk by chunk.
#include "core/server/http_server.h"

#include <boost/asio.hpp>
#include <boost/asio/experimental/concurrent_channel.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <unistd.h>
#include <array>
#include <cstdio>
#include <filesystem>

#include <atomic>
#include <future>
#include <mutex>
#include <set>
#include <thread>

#include "core/log/log.h"
#include "core/server/transport/asio_access.h"
#include "core/server/transport/watchdog.h"
#include "core/server/transport/wire.h"

namespace llama_stack::server {

using namespace wire;  // the transport's own pieces (wire.h)

struct HttpServer::Impl {
  struct Connection {
    asio::any_io_executor executor;  // the connection's io_context (one thread)
    std::function<void()> close;     // closes the socket; only on `executor`
    bool busy = false;               // between request read and response written (executor only)
  };

  ServerOptions options;
  const ServerCore& core;
  IoRuntime& runtime;
  asio::io_context& ioc;  // acceptors, signals, shutdown timers
  std::promise<void> finished;
  std::atomic<bool> finished_set{false};
  std::optional<ssl::context> tls;
  std::vector<tcp::acceptor> acceptors;
  std::atomic<bool> stopping{false};
  std::mutex connections_mutex;
  std::set<std::shared_ptr<Connection>> connections;
  std::optional<asio::signal_set> signals;

  Impl(ServerOptions o, const ServerCore& c, IoRuntime& runtime)
      : options(std::move(o)), core(c), runtime(runtime), ioc(primary_context_of(runtime)) {
    for (const auto& route : core.routes().routes()) {
      largest_upload = std::max<std::uint64_t>(largest_upload, route.upload_bytes);
    }
  }

  std::uint64_t largest_upload = 0;

  // The upload limit of the route `target` goes to (0: not an upload route).
  std::uint64_t upload_limit(std::string_view method, std::string_view target) const {
    if (largest_upload == 0) return 0;
    const RouteMatch match = core.routes().match(method, target.substr(0, target.find('?')));
    if (match.kind != RouteMatch::Kind::kFound) return 0;
    return static_cast<std::uint64_t>(match.route->upload_bytes);
  }

  // Reads the rest of the body into a new temporary file (TMPDIR), under
  // `limit`. Null when the request was answered (413, 400) or dropped.
  struct Upload {
    std::shared_ptr<const TemporaryFile> file;
    http::request<http::string_body> head;  // the request, its body empty
  };
  template <class Stream>
  asio::awaitable<std::optional<Upload>> read_body_to_file(
      Stream& stream, beast::flat_buffer& buffer, http::request_parser<http::string_body>& parser,
      std::uint64_t limit, transport::Watchdog& watchdog, const tcp::endpoint& remote) {
    std::string path =
        (std::filesystem::temp_directory_path() / "llama-stack-upload-XXXXXX").string();
    const int fd = ::mkstemp(path.data());
    const std::string target(parser.get().target());
    const std::string method(parser.get().method_string());
    if (fd < 0) {
      co_await reply_early(stream,
                           ApiError::unavailable("Cannot store the upload: no temporary file"),
                           remote, target, method);
      co_return std::nullopt;
    }
    ::close(fd);
    auto file = std::make_shared<const TemporaryFile>(path);
    http::request_parser<http::file_body> to_file{std::move(parser)};
    to_file.body_limit(limit);
    beast::error_code open_error;
    to_file.get().body().open(path.c_str(), beast::file_mode::write, open_error);
    if (open_error) {
      co_await reply_early(
          stream, ApiError::unavailable("Cannot store the upload: " + open_error.message()), remote,
          target, method);
      co_return std::nullopt;
    }
    if (!to_file.is_done()) {
      watchdog.arm(options.request_timeout);
      auto [ec, n] = co_await http::async_read(stream, buffer, to_file, kUseTuple);
      if (ec == http::error::body_limit) {
        co_await reply_early(stream,
                             ApiError::payload_too_large("Upload exceeds the limit of " +
                                                         std::to_string(limit) + " bytes"),
                             remote, target, method);
        co_return std::nullopt;
      }
      if (ec) co_return std::nullopt;  // the client went away mid-upload
    }
    to_file.get().body().close();
    // The request head, for to_http_request; the body stays on disk.
    http::request<http::file_body> done = to_file.release();
    Upload upload{std::move(file), http::request<http::string_body>{done.base()}};
    co_return upload;
  }

  void finish() {
    if (!finished_set.exchange(true)) finished.set_value();
  }

  void load_tls() {
    if (!options.tls_certfile) return;
    ssl::context ctx(ssl::context::tls_server);
    ctx.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                    ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 |
                    ssl::context::single_dh_use);
    SSL_CTX_set_min_proto_version(ctx.native_handle(), TLS1_2_VERSION);
    SSL_CTX_set_cipher_list(ctx.native_handle(),
                            "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
                            "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
                            "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305");
    error_code ec;
    ctx.use_certificate_chain_file(*options.tls_certfile, ec);
    if (ec) {
      throw std::runtime_error("server.tls_certfile '" + *options.tls_certfile +
                               "': cannot load certificate chain (" + ec.message() + ")");
    }
    ctx.use_private_key_file(*options.tls_keyfile, ssl::context::pem, ec);
    if (ec) {
      throw std::runtime_error("server.tls_keyfile '" + *options.tls_keyfile +
                               "': cannot load private key (" + ec.message() + ")");
    }
    if (SSL_CTX_check_private_key(ctx.native_handle()) != 1) {
      throw std::runtime_error("server.tls_keyfile '" + *options.tls_keyfile +
                               "' does not match server.tls_certfile '" + *options.tls_certfile +
                               "'");
    }
    if (options.tls_cafile) {
      ctx.load_verify_file(*options.tls_cafile, ec);
      if (ec) {
        throw std::runtime_error("server.tls_cafile '" + *options.tls_cafile +
                                 "': cannot load CA certificates (" + ec.message() + ")");
      }
      ctx.set_verify_mode(ssl::verify_peer | ssl::verify_fail_if_no_peer_cert);
    }
    tls.emplace(std::move(ctx));
  }

  void bind(const tcp::endpoint& endpoint, bool dual_stack) {
    tcp::acceptor acceptor(ioc);
    error_code ec;
    acceptor.open(endpoint.protocol(), ec);
    if (!ec && endpoint.address().is_v6()) acceptor.set_option(asio::ip::v6_only(!dual_stack), ec);
    if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) acceptor.bind(endpoint, ec);
    if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
      throw std::runtime_error("cannot listen on " + endpoint.address().to_string() + ":" +
                               std::to_string(endpoint.port()) + ": " + ec.message());
    }
    acceptors.push_back(std::move(acceptor));
  }

  void listen() {
    load_tls();
    if (!options.host || options.host->empty() || *options.host == "::") {
      // All interfaces: one dual-stack IPv6 socket; IPv4-only hosts fall back.
      try {
        bind(tcp::endpoint(asio::ip::address_v6::any(), options.port), /*dual_stack=*/true);
      } catch (const std::exception& e) {
        LS_WARN(kServer, "IPv6 unavailable ({}); listening on IPv4 only", e.what());
        bind(tcp::endpoint(asio::ip::address_v4::any(), options.port), false);
      }
      return;
    }
    tcp::resolver resolver(ioc);
    error_code ec;
    auto results = resolver.resolve(*options.host, std::to_string(options.port),
                                    tcp::resolver::passive | tcp::resolver::numeric_service, ec);
    if (ec || results.empty()) {
      throw std::runtime_error("cannot resolve server.host '" + *options.host +
                               "': " + (ec ? ec.message() : "no addresses"));
    }
    std::uint16_t port = options.port;
    for (const auto& entry : results) {
      tcp::endpoint endpoint = entry.endpoint();
      if (port != 0) endpoint.port(port);
      bind(endpoint, false);
      port = acceptors.back().local_endpoint().port();  // port 0: reuse the first pick
    }
  }

  std::shared_ptr<Connection> track() {
    auto connection = std::make_shared<Connection>();
    std::lock_guard lock(connections_mutex);
    connections.insert(connection);
    return connection;
  }

  void untrack(const std::shared_ptr<Connection>& connection) {
    std::lock_guard lock(connections_mutex);
    connections.erase(connection);
  }

  std::size_t connection_count() {
    std::lock_guard lock(connections_mutex);
    return connections.size();
  }

  asio::awaitable<void> accept_loop(tcp::acceptor& acceptor) {
    for (;;) {
      // Connections are spread over the runtime's threads, round robin. Each
      // io_context has one thread, so a connection needs no strand.
      auto [ec, socket] =
          co_await acceptor.async_accept(runtime.impl().pick().get_executor(), kUseTuple);
      if (ec) {
        if (ec == asio::error::operation_aborted || stopping) co_return;
        LS_WARN(kServer, "accept failed: {}", ec.message());
        asio::steady_timer backoff(ioc, std::chrono::milliseconds(50));
        co_await backoff.async_wait(kUseTuple);
        continue;
      }
      if (stopping) co_return;
      error_code ignored;
      socket.set_option(tcp::no_delay(true), ignored);
      auto executor = socket.get_executor();
      asio::co_spawn(executor, run_connection(std::move(socket)), asio::detached);
    }
  }

  asio::awaitable<void> run_connection(tcp::socket socket) {
    auto connection = track();
    connection->executor = socket.get_executor();
    tcp::endpoint remote;
    error_code ec;
    remote = socket.remote_endpoint(ec);
    try {
      if (tls) {
        beast::ssl_stream<beast::tcp_stream> stream(std::move(socket), *tls);
        connection->close = [&stream] { beast::get_lowest_layer(stream).socket().close(); };
        beast::get_lowest_layer(stream).expires_after(options.request_timeout);
        auto [hec] = co_await stream.async_handshake(ssl::stream_base::server, kUseTuple);
        if (hec) {
          LS_DEBUG(kServer, "TLS handshake with {} failed: {}", remote.address().to_string(),
                   hec.message());
        } else {
          std::string subject;
          if (X509* cert = SSL_get1_peer_certificate(stream.native_handle())) {
            char buf[512];
            X509_NAME_oneline(X509_get_subject_name(cert), buf, sizeof buf);
            subject = buf;
            X509_free(cert);
          }
          co_await serve(stream, *connection, remote, true, subject);
          beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(2));
          co_await stream.async_shutdown(kUseTuple);
        }
      } else {
        beast::tcp_stream stream(std::move(socket));
        connection->close = [&stream] { stream.socket().close(); };
        co_await serve(stream, *connection, remote, false, {});
        error_code ignored;
        stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
      }
    } catch (const std::exception& e) {
      LS_WARN(kServer, "connection from {} ended with error: {}", remote.address().to_string(),
              e.what());
    }
    connection->close = nullptr;
    untrack(connection);
  }

  // Answers a request that failed before dispatch (too large, malformed).
  template <typename Stream>
  asio::awaitable<void> reply_early(Stream& stream, const ApiError& error,
                                    const tcp::endpoint& remote, const std::string& target,
                                    std::string method = "-") {
    HttpRequest request;
    request.method = std::move(method);
    request.target = target;
    request.remote_address = remote.address().to_string();
    auto channel = std::make_shared<EventChannel>(co_await asio::this_coro::executor, 4);
    auto exchange =
        std::make_shared<Exchange>(std::move(request), std::make_shared<ChannelSink>(channel));
    assign_trace_ids(exchange->context());
    exchange->send_error(error);
    auto [rec, event] = co_await channel->async_receive(kUseTuple);
    if (rec) co_return;
    http::response<http::string_body> res{static_cast<http::status>(event.response.status), 11};
    apply_headers(res, event.response);
    res.keep_alive(false);
    res.body() = std::move(event.response.body);
    res.prepare_payload();
    beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(5));
    co_await http::async_write(stream, res, kUseTuple);
    // A lingering close: a client still sending the body it was refused
    // (a 413 upload) reads the answer instead of a reset. What it sends is
    // read and dropped, for at most 2 s and 64 MiB.
    beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(2));
    std::array<char, 16 * 1024> drain;
    std::size_t drained = 0;
    while (drained < (std::size_t{64} << 20)) {
      auto [dec, dn] = co_await stream.async_read_some(asio::buffer(drain), kUseTuple);
      if (dec) break;
      drained += dn;
    }
  }

  template <typename Stream>
  asio::awaitable<void> serve(Stream& stream, Connection& connection, const tcp::endpoint& remote,
                              bool is_tls, const std::string& client_subject) {
    beast::flat_buffer buffer;
    auto watch = std::make_shared<ClientWatch>(co_await asio::this_coro::executor);
    // One deadline timer for the connection's life (see watchdog.h) instead
    // of Beast's per-operation timers; expiry closes the socket.
    auto watchdog = transport::Watchdog::make(co_await asio::this_coro::executor, [&stream] {
      error_code ignored;
      beast::get_lowest_layer(stream).socket().close(ignored);
    });
    beast::get_lowest_layer(stream).expires_never();  // the TLS handshake's deadline
    for (;;) {
      if (stopping) co_return;
      http::request_parser<http::string_body> parser;
      parser.header_limit(static_cast<std::uint32_t>(options.max_header_bytes));
      // The route decides the body's limit (uploads may be larger): the
      // header is read under the largest one, the body under its route's.
      parser.body_limit(std::max<std::uint64_t>(options.max_body_bytes, largest_upload));
      watchdog->arm(options.idle_timeout);
      connection.busy = false;
      auto [ec, n] = co_await http::async_read_header(stream, buffer, parser, kUseTuple);
      if (ec) {
        if (ec == http::error::body_limit) {
          // Beast checks Content-Length against the limit while parsing the header.
          co_await reply_early(
              stream,
              ApiError::payload_too_large("Request body exceeds the limit of " +
                                          std::to_string(options.max_body_bytes) + " bytes"),
              remote, std::string(parser.get().target()),
              std::string(parser.get().method_string()));
        } else if (ec == http::error::header_limit) {
          co_await reply_early(
              stream,
              ApiError(431, "Request headers exceed the limit of " +
                                std::to_string(options.max_header_bytes) + " bytes"),
              remote, "");
        } else if (!watchdog->fired() && ec != http::error::end_of_stream &&
                   ec != asio::error::eof && ec != asio::error::operation_aborted &&
                   ec != beast::error::timeout && ec != asio::error::connection_reset &&
                   ec != asio::error::bad_descriptor &&
                   ec.category() != asio::error::get_ssl_category() &&
                   ec != asio::ssl::error::stream_truncated && n > 0) {
          co_await reply_early(
              stream, ApiError::bad_request("Malformed HTTP request: " + ec.message()), remote, "");
        }
        co_return;
      }
      connection.busy = true;
      const std::string target(parser.get().target());
      const std::uint64_t upload = upload_limit(parser.get().method_string(), target);
      const std::uint64_t body_limit = upload > 0 ? upload : options.max_body_bytes;
      if (auto length = parser.content_length(); length && *length > body_limit) {
        co_await reply_early(
            stream,
            ApiError::payload_too_large("Request body of " + std::to_string(*length) +
                                        " bytes exceeds the limit of " +
                                        std::to_string(body_limit) + " bytes"),
            remote, target, std::string(parser.get().method_string()));
        co_return;
      }
      std::optional<Upload> uploaded;
      if (upload > 0) {
        // The body goes to a temporary file, not to memory.
        uploaded =
            co_await read_body_to_file(stream, buffer, parser, body_limit, *watchdog, remote);
        if (!uploaded) co_return;  // answered or dropped
      } else if (!parser.is_done()) {
        parser.body_limit(options.max_body_bytes);
        watchdog->arm(options.request_timeout);
        auto [bec, bn] = co_await http::async_read(stream, buffer, parser, kUseTuple);
        if (bec == http::error::body_limit) {
          co_await reply_early(
              stream,
              ApiError::payload_too_large("Request body exceeds the limit of " +
                                          std::to_string(options.max_body_bytes) + " bytes"),
              remote, target, std::string(parser.get().method_string()));
          co_return;
        }
        if (bec) {
          if (!watchdog->fired() && bec != beast::error::timeout &&
              bec != http::error::end_of_stream && bec != asio::error::eof &&
              bec != asio::error::connection_reset && bec != asio::error::operation_aborted &&
              bec != asio::error::bad_descriptor) {
            co_await reply_early(
                stream, ApiError::bad_request("Malformed HTTP request body: " + bec.message()),
                remote, target);
          }
          co_return;
        }
      }
      watchdog->disarm();  // handlers have no deadline
      http::request<http::string_body> req =
          uploaded ? std::move(uploaded->head) : parser.release();
      const bool keep_alive = req.keep_alive();
      const bool head = req.method() == http::verb::head;
      HttpRequest request = to_http_request(req, remote, is_tls);
      request.client_certificate_subject = client_subject;
      if (uploaded) request.body_file = std::move(uploaded->file);

      auto channel = std::make_shared<EventChannel>(co_await asio::this_coro::executor, 64);
      auto sink = std::make_shared<ChannelSink>(channel);
      auto exchange = std::make_shared<Exchange>(std::move(request), sink);
      core.dispatch(exchange);
      // Handlers that answered at once (most but inference) need no watch;
      // one still streaming (an agent turn sends turn_start at once) does.
      if (!sink->finished()) watch_client(stream, watch, sink, channel);
      const bool reuse =
          co_await relay(stream, channel, sink, watch, *watchdog, buffer, keep_alive, head);
      if (!reuse || stopping) co_return;
    }
  }

  // While a handler works (say, waits for a model server), the connection
  // keeps reading from the client: when the client goes away (EOF, reset, a
  // TLS close_notify or truncation) the exchange is cancelled, and with it
  // the upstream call. A real read, not a peek, so it works under TLS too.
  // Bytes that do arrive are the next pipelined request: they are kept for it
  // (see settle_watch) and watching stops there.
  struct ClientWatch {
    explicit ClientWatch(const asio::any_io_executor& executor)
        : settled(executor, asio::steady_timer::time_point::max()) {}
    bool pending = false;  // a read is outstanding
    std::size_t got = 0;   // bytes it read
    std::array<char, 4096> bytes;
    asio::steady_timer settled;  // cancelled when the read completes
  };

  template <typename Stream>
  static void watch_client(Stream& stream, const std::shared_ptr<ClientWatch>& watch,
                           const std::shared_ptr<ChannelSink>& sink,
                           const std::shared_ptr<EventChannel>& channel) {
    watch->pending = true;
    watch->got = 0;
    stream.async_read_some(asio::buffer(watch->bytes),
                           [watch, sink, channel](error_code ec, std::size_t n) {
                             watch->pending = false;
                             watch->got = n;
                             watch->settled.cancel();
                             if (!ec || ec == asio::error::operation_aborted) return;
                             LS_DEBUG(kServer, "client went away while its request was in flight");
                             sink->cancel();
                             channel->close();
                           });
  }

  // Stops the watch (if still reading) and waits for its read to complete;
  // moves what it read into the connection's buffer.
  template <typename Stream>
  static asio::awaitable<void> settle_watch(Stream& stream, ClientWatch& watch,
                                            beast::flat_buffer& buffer) {
    if (watch.pending) {
      // The read's handler cannot run before this wait starts: both are on
      // the connection's thread and nothing here yields in between.
      error_code ignored;
      beast::get_lowest_layer(stream).socket().cancel(ignored);
      co_await watch.settled.async_wait(kUseTuple);
      watch.settled.expires_at(asio::steady_timer::time_point::max());
    }
    if (watch.got > 0) {
      buffer.commit(asio::buffer_copy(buffer.prepare(watch.got),
                                      asio::buffer(watch.bytes.data(), watch.got)));
      watch.got = 0;
    }
  }

  // The bytes of a streamed response's head (status line and fields).
  static std::string head_text(http::response<http::empty_body>& head) {
    std::string out;
    http::response_serializer<http::empty_body> serializer(head);
    serializer.split(true);
    error_code ec;
    while (!ec && !serializer.is_header_done()) {
      serializer.next(ec, [&](error_code&, const auto& buffers) {
        for (auto b : beast::buffers_range_ref(buffers)) {
          out.append(static_cast<const char*>(b.data()), b.size());
        }
        serializer.consume(beast::buffer_bytes(buffers));
      });
    }
    return out;
  }

  // Writes the handler's answer as it comes; true when the connection may
  // serve another request.
  template <typename Stream>
  asio::awaitable<bool> relay(Stream& stream, const std::shared_ptr<EventChannel>& channel_ptr,
                              const std::shared_ptr<ChannelSink>& sink_ptr,
                              const std::shared_ptr<ClientWatch>& watch_ptr,
                              transport::Watchdog& watchdog, beast::flat_buffer& buffer,
                              bool keep_alive, bool head_request) {
    EventChannel& channel = *channel_ptr;
    ChannelSink& sink = *sink_ptr;
    ClientWatch& watch = *watch_ptr;
    bool started = false;
    for (;;) {
      auto [rec, event] = co_await channel.async_receive(kUseTuple);
      co_await settle_watch(stream, watch, buffer);
      if (rec) co_return false;  // the client went away
      const bool reuse = keep_alive && !stopping;
      bool done = false;
      error_code wec;
      watchdog.arm(options.idle_timeout);  // the client must keep reading
      switch (event.kind) {
        case Event::Kind::kResponse: {
          http::response<http::string_body> res{static_cast<http::status>(event.response.status),
                                                11};
          apply_headers(res, event.response);
          res.keep_alive(reuse);
          res.body() = std::move(event.response.body);
          res.prepare_payload();
          if (head_request) res.body().clear();
          std::tie(wec, std::ignore) = co_await http::async_write(stream, res, kUseTuple);
          done = true;
          break;
        }
        case Event::Kind::kStream: {
          // Head, chunks and the last chunk that arrived since the previous
          // write, in one write.
          StreamNews news = sink.take();
          std::string out;
          if (news.head) {
            http::response<http::empty_body> head{static_cast<http::status>(news.head->status), 11};
            apply_headers(head, *news.head);
            head.set(http::field::cache_control, "no-cache");
            head.keep_alive(reuse);
            head.chunked(true);
            out = head_text(head);
            started = true;
          }
          if (!started) co_return false;  // chunks without a head: a handler bug
          if (!news.data.empty()) append_chunk(out, news.data);
          if (news.ended) {
            out.append("0\r\n\r\n");
            done = true;
          }
          if (!out.empty()) {
            std::tie(wec, std::ignore) =
                co_await asio::async_write(stream, asio::buffer(out), kUseTuple);
          }
          break;
        }
        case Event::Kind::kAbort:
          co_return false;  // the caller closes the socket
      }
      if (wec) {
        LS_DEBUG(kServer, "client went away: {}", wec.message());
        sink.cancel();
        co_return false;
      }
      if (done) {
        watchdog.disarm();
        co_return reuse;
      }
      // A stream that goes on (an agent turn waiting for its model between
      // events): keep watching the client, so that a hang-up cancels it.
      if (!sink.finished()) watch_client(stream, watch_ptr, sink_ptr, channel_ptr);
    }
  }

  void begin_shutdown() {
    if (stopping.exchange(true)) return;
    LS_INFO(kServer, "shutting down: no new connections; waiting up to {}s for in-flight requests",
            options.shutdown_timeout.count());
    for (auto& acceptor : acceptors) {
      error_code ignored;
      acceptor.close(ignored);
    }
    if (signals) {
      error_code ignored;
      signals->cancel(ignored);
    }
    close_idle();
    auto deadline = std::chrono::steady_clock::now() + options.shutdown_timeout;
    auto timer = std::make_shared<asio::steady_timer>(ioc);
    auto poll = std::make_shared<std::function<void()>>();
    *poll = [this, timer, deadline, poll] {
      close_idle();
      if (connection_count() == 0 || std::chrono::steady_clock::now() >= deadline) {
        if (connection_count() != 0) {
          LS_WARN(kServer, "shutdown deadline reached with {} connection(s) still open",
                  connection_count());
        }
        finish();
        *poll = nullptr;  // break the self-reference
        return;
      }
      timer->expires_after(std::chrono::milliseconds(20));
      timer->async_wait([poll](error_code) {
        if (*poll) (*poll)();
      });
    };
    asio::post(ioc, [poll] { (*poll)(); });
  }

  void close_idle() {
    std::vector<std::weak_ptr<Connection>> snapshot;
    {
      std::lock_guard lock(connections_mutex);
      for (const auto& c : connections) snapshot.push_back(c);
    }
    for (auto& weak : snapshot) {
      auto c = weak.lock();
      if (!c) continue;
      // busy/close belong to the connection's thread: decide there.
      asio::post(c->executor, [weak] {
        if (auto alive = weak.lock(); alive && !alive->busy && alive->close) {
          try {
            alive->close();
          } catch (const std::exception&) {
          }
        }
      });
    }
  }
};

HttpServer::HttpServer(ServerOptions options, const ServerCore& core, IoRuntime& runtime)
    : impl_(std::make_unique<Impl>(std::move(options), core, runtime)) {}

HttpServer::~HttpServer() = default;

void HttpServer::listen() {
  impl_->listen();
}

std::vector<std::string> HttpServer::local_addresses() const {
  std::vector<std::string> out;
  for (const auto& acceptor : impl_->acceptors) {
    error_code ec;
    auto endpoint = acceptor.local_endpoint(ec);
    if (ec) continue;
    std::string address = endpoint.address().to_string();
    if (endpoint.address().is_v6()) address = "[" + address + "]";
    out.push_back(address + ":" + std::to_string(endpoint.port()));
  }
  return out;
}

std::uint16_t HttpServer::port() const {
  if (impl_->acceptors.empty()) return 0;
  error_code ec;
  return impl_->acceptors.front().local_endpoint(ec).port();
}

void HttpServer::run(bool handle_signals) {
  start(handle_signals);
  wait();
}

void HttpServer::start(bool handle_signals) {
  Impl& impl = *impl_;
  if (handle_signals) {
    impl.signals.emplace(impl.ioc, SIGINT, SIGTERM);
    impl.signals->async_wait([&impl](error_code ec, int signal) {
      if (ec) return;
      LS_INFO(kServer, "received signal {}", signal);
      impl.begin_shutdown();
    });
  }
  for (auto& acceptor : impl.acceptors) {
    asio::co_spawn(impl.ioc, impl.accept_loop(acceptor), asio::detached);
  }
}

void HttpServer::wait() {
  // The runtime's threads serve; this thread waits for the graceful shutdown.
  impl_->finished.get_future().wait();
}

void HttpServer::stop() {
  asio::post(impl_->ioc, [impl = impl_.get()] { impl->begin_shutdown(); });
}

}  // namespace llama_stack::server
