// Beast/Asio implementation of http::HttpClient. Each connection belongs to
// one of the runtime's io_contexts for its whole life, and each io_context
// is run by exactly one thread: a request runs as a coroutine there, so the
// stream, its timer and cancel() never race, without strands. A request
// started on a runtime thread runs on that thread's io_context, with
// connections pooled per io_context, so proxying never hops threads.
#include "core/http/http_client.h"

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/url/parse.hpp>

#include <deque>
#include <future>
#include <map>
#include <mutex>

#include "core/log/log.h"
#include "core/server/transport/asio_access.h"
#include "core/server/transport/watchdog.h"

namespace llama_stack::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using boost::system::error_code;
constexpr auto kUseTuple = asio::as_tuple(asio::use_awaitable);
constexpr auto kMaxIdle = std::chrono::seconds(50);
// A single-threaded io_context's executor: work posted to it is serialized.
using Executor = asio::io_context::executor_type;

struct Target {
  bool tls = false;
  std::string host;
  std::string port;
  std::string path;  // path + query
  std::string origin() const { return (tls ? "https://" : "http://") + host + ":" + port; }
  std::string host_header() const {
    bool default_port = (tls && port == "443") || (!tls && port == "80");
    std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
    return default_port ? h : h + ":" + port;
  }
};

std::optional<Target> parse_target(const std::string& url) {
  auto parsed = boost::urls::parse_absolute_uri(url);
  if (!parsed) return std::nullopt;
  Target t;
  if (parsed->scheme() == "https") {
    t.tls = true;
  } else if (parsed->scheme() != "http") {
    return std::nullopt;
  }
  t.host = std::string(parsed->encoded_host_address());
  if (t.host.empty()) return std::nullopt;
  if (t.host.front() == '[' && t.host.back() == ']') t.host = t.host.substr(1, t.host.size() - 2);
  t.port = parsed->has_port() ? std::string(parsed->port()) : (t.tls ? "443" : "80");
  t.path = std::string(parsed->encoded_path());
  if (t.path.empty()) t.path = "/";
  if (parsed->has_query()) t.path += "?" + std::string(parsed->encoded_query());
  return t;
}

// One upstream connection: plain TCP or TLS over TCP, bound to one io_context.
struct Connection {
  Executor executor;
  std::string origin;
  std::optional<beast::tcp_stream> plain;
  std::optional<beast::ssl_stream<beast::tcp_stream>> secure;
  beast::flat_buffer buffer;
  std::chrono::steady_clock::time_point idle_since;
  bool reused = false;

  // The read timeout: one deadline timer for the connection's life (see
  // watchdog.h); expiry closes the socket.
  std::shared_ptr<transport::Watchdog> watchdog;

  explicit Connection(Executor s)
      : executor(std::move(s)),
        watchdog(transport::Watchdog::make(executor, [this] { close(); })) {}

  beast::tcp_stream& lowest() { return secure ? beast::get_lowest_layer(*secure) : *plain; }
  void close() {
    if (!secure && !plain) return;
    error_code ignored;
    lowest().socket().shutdown(tcp::socket::shutdown_both, ignored);
    lowest().socket().close(ignored);
  }
};

class Handle final : public RequestHandle {
 public:
  explicit Handle(Executor s) : executor(std::move(s)) {}

  void cancel() override {
    asio::post(executor, [self = shared_from_this_handle()] {
      if (!self) return;
      self->cancelled = true;
      if (self->active != nullptr) self->active->close();
    });
  }

  Executor executor;
  // Touched only on the executor's (single) thread.
  bool cancelled = false;
  Connection* active = nullptr;
  std::weak_ptr<Handle> weak_self;

 private:
  std::shared_ptr<Handle> shared_from_this_handle() { return weak_self.lock(); }
};

ClientErrorKind classify(const error_code& ec);

// What went wrong on `c`: its read timeout (the watchdog closed it), or `ec`.
ClientErrorKind failure_of(const Connection& c, const error_code& ec) {
  return c.watchdog->fired() ? ClientErrorKind::kTimeout : classify(ec);
}

std::string describe(ClientErrorKind kind, const error_code& ec) {
  return kind == ClientErrorKind::kTimeout ? "no data within the read timeout" : ec.message();
}

ClientErrorKind classify(const error_code& ec) {
  if (ec == beast::error::timeout) return ClientErrorKind::kTimeout;
  if (ec == asio::error::operation_aborted) return ClientErrorKind::kCancelled;
  if (ec == bhttp::error::end_of_stream || ec == asio::error::eof ||
      ec == asio::error::connection_reset || ec == asio::error::broken_pipe ||
      ec == ssl::error::stream_truncated) {
    return ClientErrorKind::kReset;
  }
  if (ec.category() == bhttp::make_error_code(bhttp::error::bad_target).category()) {
    return ClientErrorKind::kProtocol;
  }
  return ClientErrorKind::kConnect;
}

class ClientImpl final : public HttpClient, public std::enable_shared_from_this<ClientImpl> {
 public:
  ClientImpl(IoRuntime& runtime, ClientOptions options)
      : runtime_(runtime.impl()), options_(std::move(options)), tls_(ssl::context::tls_client) {
    tls_.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                     ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
    if (options_.verify_tls) {
      tls_.set_verify_mode(ssl::verify_peer);
      error_code ec;
      if (options_.ca_file) {
        tls_.load_verify_file(*options_.ca_file, ec);
        if (ec) {
          throw std::runtime_error("cannot load CA file '" + *options_.ca_file +
                                   "': " + ec.message());
        }
      } else {
        // The system trust store (~200 certificates) is loaded on the first
        // https:// connection, not here: plain-http upstreams never pay for it
        // (it costs ~20 ms and ~1 MiB at startup).
        load_system_cas_ = true;
      }
    } else {
      tls_.set_verify_mode(ssl::verify_none);
    }
  }

  std::shared_ptr<RequestHandle> send(ClientRequest request, ClientCallbacks callbacks) override {
    auto target = parse_target(request.url);
    asio::io_context& ioc = runtime_.local();
    std::unique_ptr<Connection> connection;
    if (target) connection = take_idle(ioc, target->origin());
    auto executor = connection ? connection->executor : ioc.get_executor();
    auto handle = std::make_shared<Handle>(executor);
    handle->weak_self = handle;
    if (!target) {
      asio::post(executor, [callbacks = std::move(callbacks), url = request.url] {
        if (callbacks.on_complete) {
          callbacks.on_complete(
              ClientError{ClientErrorKind::kInvalid, "invalid URL '" + url + "'"});
        }
      });
      return handle;
    }
    asio::co_spawn(executor,
                   run(shared_from_this(), std::move(request), *target, std::move(callbacks),
                       std::move(connection), handle),
                   asio::detached);
    return handle;
  }

 private:
  using PoolKey = std::pair<const asio::execution_context*, std::string>;

  std::unique_ptr<Connection> take_idle(const asio::io_context& ioc, const std::string& origin) {
    std::lock_guard lock(pool_mutex_);
    auto it = idle_.find(PoolKey(&ioc, origin));
    if (it == idle_.end()) return nullptr;
    auto& queue = it->second;
    const auto now = std::chrono::steady_clock::now();
    while (!queue.empty()) {
      std::unique_ptr<Connection> c = std::move(queue.back());
      queue.pop_back();
      if (now - c->idle_since < kMaxIdle) {
        c->reused = true;
        return c;
      }
      // Too old: the upstream has probably closed it. Close on its own thread.
      auto* raw = c.release();
      asio::post(raw->executor, [raw] {
        raw->close();
        delete raw;
      });
    }
    return nullptr;
  }

  void give_back(std::unique_ptr<Connection> c) {
    c->idle_since = std::chrono::steady_clock::now();
    std::lock_guard lock(pool_mutex_);
    auto& queue = idle_[PoolKey(&c->executor.context(), c->origin)];
    if (queue.size() >= options_.max_idle_per_origin) {
      c->close();
      return;
    }
    queue.push_back(std::move(c));
  }

  asio::awaitable<std::optional<ClientError>> connect(Connection& c, const Target& t) {
    tcp::resolver resolver(c.executor);
    auto [rec, endpoints] = co_await resolver.async_resolve(t.host, t.port, kUseTuple);
    if (rec) {
      co_return ClientError{ClientErrorKind::kConnect,
                            "cannot resolve " + t.host + ": " + rec.message()};
    }
    beast::tcp_stream stream(c.executor);
    stream.expires_after(options_.connect_timeout);
    auto [cec, endpoint] = co_await stream.async_connect(endpoints, kUseTuple);
    if (cec) {
      co_return ClientError{
          cec == beast::error::timeout ? ClientErrorKind::kTimeout : ClientErrorKind::kConnect,
          "cannot connect to " + t.host + ":" + t.port + ": " + cec.message()};
    }
    error_code ignored;
    stream.socket().set_option(tcp::no_delay(true), ignored);
    // From here on the connection's watchdog times reads and writes.
    stream.expires_never();
    if (!t.tls) {
      c.plain.emplace(std::move(stream));
      co_return std::nullopt;
    }
    if (load_system_cas_) {
      std::call_once(system_cas_loaded_, [this] {
        error_code ignored;
        tls_.set_default_verify_paths(ignored);
      });
    }
    c.secure.emplace(std::move(stream), tls_);
    if (!SSL_set_tlsext_host_name(c.secure->native_handle(), t.host.c_str())) {
      co_return ClientError{ClientErrorKind::kConnect, "cannot set TLS server name"};
    }
    if (options_.verify_tls) c.secure->set_verify_callback(ssl::host_name_verification(t.host));
    beast::get_lowest_layer(*c.secure).expires_after(options_.connect_timeout);
    auto [hec] = co_await c.secure->async_handshake(ssl::stream_base::client, kUseTuple);
    beast::get_lowest_layer(*c.secure).expires_never();
    if (hec) {
      co_return ClientError{ClientErrorKind::kConnect, "TLS handshake with " + t.host + ":" +
                                                           t.port + " failed: " + hec.message()};
    }
    co_return std::nullopt;
  }

  template <typename Stream>
  static asio::awaitable<error_code> write_request(Stream& stream,
                                                   bhttp::request<bhttp::string_body>& req) {
    auto [ec, n] = co_await bhttp::async_write(stream, req, kUseTuple);
    co_return ec;
  }

  template <typename Stream>
  static asio::awaitable<error_code> read_some(Stream& stream, beast::flat_buffer& buffer,
                                               bhttp::response_parser<bhttp::buffer_body>& parser,
                                               bool header_only) {
    error_code ec;
    std::size_t n = 0;
    if (header_only) {
      std::tie(ec, n) = co_await bhttp::async_read_header(stream, buffer, parser, kUseTuple);
    } else {
      // read_some, not read: hand over whatever arrived (streams must not wait
      // for the 16 KiB buffer to fill).
      std::tie(ec, n) = co_await bhttp::async_read_some(stream, buffer, parser, kUseTuple);
    }
    co_return ec;
  }

  static asio::awaitable<void> run(std::shared_ptr<ClientImpl> self, ClientRequest request,
                                   Target target, ClientCallbacks callbacks,
                                   std::unique_ptr<Connection> connection,
                                   std::shared_ptr<Handle> handle) {
    std::optional<ClientError> error =
        co_await self->exchange(request, target, callbacks, connection, *handle);
    handle->active = nullptr;
    if (handle->cancelled && (!error || error->kind != ClientErrorKind::kCancelled)) {
      if (error) error = ClientError{ClientErrorKind::kCancelled, "request cancelled"};
    }
    if (callbacks.on_complete) {
      try {
        callbacks.on_complete(error);
      } catch (const std::exception& e) {
        LS_ERROR(kClient, "on_complete threw: {}", e.what());
      }
    }
  }

  asio::awaitable<std::optional<ClientError>> exchange(const ClientRequest& request,
                                                       const Target& target,
                                                       ClientCallbacks& callbacks,
                                                       std::unique_ptr<Connection>& connection,
                                                       Handle& handle) {
    bhttp::request<bhttp::string_body> req{bhttp::string_to_verb(request.method), target.path, 11};
    if (req.method() == bhttp::verb::unknown) req.method_string(request.method);
    req.set(bhttp::field::host, target.host_header());
    req.set(bhttp::field::user_agent, "llama-stack-cpp");
    for (const auto& [name, value] : request.headers.entries()) req.set(name, value);
    req.body() = request.body;
    req.keep_alive(true);
    req.prepare_payload();
    const auto read_timeout = request.read_timeout.value_or(options_.read_timeout);

    for (int attempt = 0;; ++attempt) {
      if (handle.cancelled) co_return ClientError{ClientErrorKind::kCancelled, "request cancelled"};
      if (!connection) {
        connection = std::make_unique<Connection>(handle.executor);
        connection->origin = target.origin();
        handle.active = nullptr;
        if (auto e = co_await connect(*connection, target)) {
          connection.reset();
          if (attempt == 0 && e->kind == ClientErrorKind::kConnect && !handle.cancelled) continue;
          co_return e;
        }
      }
      handle.active = connection.get();
      Connection& c = *connection;
      c.watchdog->arm(read_timeout);
      // No co_await inside ?: here: GCC 12 miscompiles it (runs the wrong arm).
      error_code wec;
      if (c.secure) {
        wec = co_await write_request(*c.secure, req);
      } else {
        wec = co_await write_request(*c.plain, req);
      }
      bhttp::response_parser<bhttp::buffer_body> parser;
      parser.body_limit(boost::none);
      parser.header_limit(64 * 1024);
      error_code hec = wec;
      if (!wec) {
        c.watchdog->arm(read_timeout);
        if (c.secure) {
          hec = co_await read_some(*c.secure, c.buffer, parser, true);
        } else {
          hec = co_await read_some(*c.plain, c.buffer, parser, true);
        }
      }
      if (hec) {
        const ClientErrorKind kind = failure_of(c, hec);
        const bool stale = c.reused && !parser.got_some() && kind != ClientErrorKind::kTimeout;
        connection->close();
        connection.reset();
        handle.active = nullptr;
        if (handle.cancelled)
          co_return ClientError{ClientErrorKind::kCancelled, "request cancelled"};
        if (stale && attempt == 0) continue;  // an idle keep-alive the upstream had closed
        co_return ClientError{kind, "upstream " + target.origin() + ": " + describe(kind, hec)};
      }

      ClientResponseHead head;
      head.status = static_cast<int>(parser.get().result_int());
      for (const auto& field : parser.get()) {
        head.headers.add(field.name_string(), std::string(field.value()));
      }
      if (callbacks.on_head) callbacks.on_head(head);

      char chunk[16 * 1024];
      while (!parser.is_done()) {
        parser.get().body().data = chunk;
        parser.get().body().size = sizeof chunk;
        c.watchdog->arm(read_timeout);
        error_code rec;
        if (c.secure) {
          rec = co_await read_some(*c.secure, c.buffer, parser, false);
        } else {
          rec = co_await read_some(*c.plain, c.buffer, parser, false);
        }
        const std::size_t got = sizeof chunk - parser.get().body().size;
        if (got > 0 && callbacks.on_data && !handle.cancelled) {
          callbacks.on_data(std::string_view(chunk, got));
        }
        if (rec == bhttp::error::need_buffer) continue;
        if (rec) {
          const ClientErrorKind kind = failure_of(c, rec);
          connection->close();
          connection.reset();
          handle.active = nullptr;
          if (handle.cancelled)
            co_return ClientError{ClientErrorKind::kCancelled, "request cancelled"};
          co_return ClientError{kind, "upstream " + target.origin() +
                                          " broke off the response: " + describe(kind, rec)};
        }
      }
      handle.active = nullptr;
      if (parser.get().keep_alive() && !handle.cancelled) {
        c.watchdog->disarm();
        c.reused = false;
        give_back(std::move(connection));
      } else {
        connection->close();
        connection.reset();
      }
      co_return std::nullopt;
    }
  }

  IoRuntime::Impl& runtime_;
  ClientOptions options_;
  ssl::context tls_;
  bool load_system_cas_ = false;
  std::once_flag system_cas_loaded_;
  std::mutex pool_mutex_;
  std::map<PoolKey, std::deque<std::unique_ptr<Connection>>> idle_;
};

}  // namespace

std::string_view to_string(ClientErrorKind kind) {
  switch (kind) {
    case ClientErrorKind::kConnect:
      return "connect";
    case ClientErrorKind::kTimeout:
      return "timeout";
    case ClientErrorKind::kReset:
      return "reset";
    case ClientErrorKind::kProtocol:
      return "protocol";
    case ClientErrorKind::kCancelled:
      return "cancelled";
    case ClientErrorKind::kInvalid:
      return "invalid";
  }
  return "unknown";
}

std::shared_ptr<HttpClient> HttpClient::create(IoRuntime& runtime, ClientOptions options) {
  return std::make_shared<ClientImpl>(runtime, std::move(options));
}

std::shared_ptr<RequestHandle> HttpClient::fetch(ClientRequest request,
                                                 std::function<void(ClientResult)> done,
                                                 std::size_t max_body) {
  auto result = std::make_shared<ClientResult>();
  ClientCallbacks callbacks;
  callbacks.on_head = [result](const ClientResponseHead& head) {
    result->status = head.status;
    result->headers = head.headers;
  };
  callbacks.on_data = [result, max_body](std::string_view chunk) {
    if (result->body.size() + chunk.size() > max_body) {
      if (!result->error) {
        result->error =
            ClientError{ClientErrorKind::kProtocol,
                        "upstream response exceeds " + std::to_string(max_body) + " bytes"};
      }
      return;
    }
    result->body.append(chunk);
  };
  callbacks.on_complete = [result,
                           done = std::move(done)](const std::optional<ClientError>& error) {
    if (error && !result->error) result->error = error;
    done(std::move(*result));
  };
  return send(std::move(request), std::move(callbacks));
}

ClientResult HttpClient::fetch_sync(ClientRequest request) {
  if (IoRuntime::Impl::current() != nullptr) {
    // The request would run on this very thread, which is blocked waiting.
    throw std::logic_error("HttpClient::fetch_sync called from an I/O thread");
  }
  std::promise<ClientResult> promise;
  auto future = promise.get_future();
  fetch(std::move(request), [&promise](ClientResult r) { promise.set_value(std::move(r)); });
  return future.get();
}

}  // namespace llama_stack::http
