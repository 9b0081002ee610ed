// The transport's wire pieces, shared by the HTTP server's files: the
// channel that carries a handler's answer back to its connection
// (ChannelSink: responses, streamed chunks, aborts, from any thread), and the
// conversions between Beast's messages and our plain HttpRequest /
// HttpResponse. Asio and Beast: include it from transport files only.
#pragma once

#include <boost/asio.hpp>
#include <boost/asio/experimental/concurrent_channel.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <atomic>
#include <cstdio>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "core/server/http_server.h"
#include "core/server/http_types.h"
#include "core/server/route_table.h"

namespace llama_stack::server::wire {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using boost::system::error_code;
constexpr auto kUseTuple = asio::as_tuple(asio::use_awaitable);

struct Event {
  // kStream: the streamed response has news (started, more bytes, or ended);
  // the connection takes it all from the sink in one go (ChannelSink::take).
  enum class Kind { kResponse, kStream, kAbort };
  Kind kind = Kind::kResponse;
  HttpResponse response;  // kResponse
};

using EventChannel = asio::experimental::concurrent_channel<void(error_code, Event)>;

// What a streamed response has accumulated since the connection last looked.
struct StreamNews {
  std::optional<HttpResponse> head;  // set once: status, headers, content type
  std::string data;                  // bytes of every chunk written since
  bool ended = false;
};

// ResponseSink that forwards to the connection coroutine. Streamed chunks are
// not sent one event each: they accumulate here and one event wakes the
// connection, which then writes everything that arrived meanwhile with one
// system call. A chunk is never held back: the wake-up is sent at once, and
// coalescing only happens when the connection is still busy writing.
class ChannelSink final : public ResponseSink {
 public:
  explicit ChannelSink(std::shared_ptr<EventChannel> channel) : channel_(std::move(channel)) {}

  void send(HttpResponse response) override {
    finished_.store(true, std::memory_order_release);
    push(Event{Event::Kind::kResponse, std::move(response)});
  }
  void start_stream(int status, Headers headers, std::string content_type) override {
    HttpResponse head;
    head.status = status;
    head.headers = std::move(headers);
    head.content_type = std::move(content_type);
    update([&](StreamNews& news) { news.head = std::move(head); });
  }
  void write_chunk(std::string data) override {
    if (data.empty() || cancelled()) return;
    update([&](StreamNews& news) {
      if (news.data.empty()) {
        news.data = std::move(data);
      } else {
        news.data += data;
      }
    });
  }
  void end_stream() override {
    finished_.store(true, std::memory_order_release);
    update([](StreamNews& news) { news.ended = true; });
  }
  void abort() override {
    finished_.store(true, std::memory_order_release);
    push(Event{Event::Kind::kAbort, {}});
  }

  void post(std::function<void()> task) override {
    asio::post(channel_->get_executor(), std::move(task));
  }
  bool running_here() const override {
    // The connection's executor is its io_context's (one thread per context).
    const auto* executor = channel_->get_executor().target<asio::io_context::executor_type>();
    return executor != nullptr && executor->running_in_this_thread();
  }

  // Everything the stream has accumulated; the next update sends a new event.
  StreamNews take() {
    std::lock_guard lock(mutex_);
    notified_ = false;
    return std::exchange(news_, {});
  }

  bool cancelled() const override { return cancelled_.load(); }
  // True once the handler sent anything (a response, or stream news).
  bool answered() const { return pushed_.load(std::memory_order_acquire); }
  // True once the answer is complete (a response, or a stream's end or abort).
  bool finished() const { return finished_.load(std::memory_order_acquire); }
  void on_cancel(std::function<void()> callback) override {
    std::unique_lock lock(mutex_);
    if (cancelled_) {
      lock.unlock();
      callback();
      return;
    }
    on_cancel_ = std::move(callback);
  }

  // Called by the connection when the client is gone.
  void cancel() {
    if (cancelled_.exchange(true)) return;
    std::function<void()> callback;
    {
      std::lock_guard lock(mutex_);
      callback = std::move(on_cancel_);
    }
    if (callback) callback();
  }

 private:
  template <typename F>
  void update(F&& change) {
    bool notify = false;
    {
      std::lock_guard lock(mutex_);
      change(news_);
      notify = !std::exchange(notified_, true);
    }
    if (notify) push(Event{Event::Kind::kStream, {}});
  }

  void push(Event event) {
    pushed_.store(true, std::memory_order_release);
    // async_send keeps order and never drops; the channel has room for bursts.
    channel_->async_send(error_code{}, std::move(event), asio::detached);
  }

  std::shared_ptr<EventChannel> channel_;
  std::atomic<bool> cancelled_{false};
  std::atomic<bool> pushed_{false};
  std::atomic<bool> finished_{false};
  std::mutex mutex_;
  StreamNews news_;        // guarded by mutex_
  bool notified_ = false;  // a kStream event is queued and not yet taken
  std::function<void()> on_cancel_;
};

// Appends one HTTP/1.1 chunk (RFC 9112 §7.1) holding `data`.
inline void append_chunk(std::string& out, std::string_view data) {
  char size[20];
  const int n = std::snprintf(size, sizeof size, "%zx\r\n", data.size());
  out.append(size, static_cast<std::size_t>(n));
  out.append(data);
  out.append("\r\n");
}

inline HttpRequest to_http_request(http::request<http::string_body>& req,
                                   const tcp::endpoint& remote, bool tls) {
  HttpRequest out;
  out.method = std::string(req.method_string());
  out.target = std::string(req.target());
  std::string_view target = req.target();
  const auto qpos = target.find('?');
  out.path = std::string(target.substr(0, qpos));
  if (qpos != std::string_view::npos) {
    std::string_view query = target.substr(qpos + 1);
    std::size_t pos = 0;
    while (pos <= query.size()) {
      std::size_t amp = query.find('&', pos);
      if (amp == std::string_view::npos) amp = query.size();
      std::string_view pair = query.substr(pos, amp - pos);
      if (!pair.empty()) {
        const auto eq = pair.find('=');
        out.query.emplace_back(percent_decode(pair.substr(0, eq), true),
                               eq == std::string_view::npos
                                   ? std::string()
                                   : percent_decode(pair.substr(eq + 1), true));
      }
      pos = amp + 1;
    }
  }
  for (const auto& field : req) {
    out.headers.add(field.name_string(), std::string(field.value()));
  }
  out.body = std::move(req.body());
  auto address = remote.address();
  if (address.is_v6() && address.to_v6().is_v4_mapped()) {
    address = asio::ip::make_address_v4(asio::ip::v4_mapped, address.to_v6());
  }
  out.remote_address = address.to_string();
  out.remote_port = remote.port();
  out.tls = tls;
  return out;
}

template <typename Body>
void apply_headers(http::response<Body>& res, const HttpResponse& response) {
  for (const auto& [name, value] : response.headers.entries()) res.insert(name, value);
  if (!response.headers.contains("content-type") && !response.content_type.empty()) {
    res.set(http::field::content_type, response.content_type);
  }
  res.set(http::field::server, "llama-stack-cpp");
}

}  // namespace llama_stack::server::wire
