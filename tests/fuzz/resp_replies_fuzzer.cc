// RESP replies: what a Redis server answers, read by the redis kvstore
// (hiredis's reader, then our handling of each reply's type and shape).
// A fake server on loopback answers each command batch it receives with the
// next segment of the input (segments are separated by "|||"), then closes
// the connection; the first byte picks the store operation. Every operation
// must either return or throw StorageError — nothing else.
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "fuzz/fuzz_support.h"
#include "llama_stack/storage/kvstore.h"

using namespace llama_stack;

namespace {

class FakeRedis {
 public:
  FakeRedis() {
    listener_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = 0;
    if (::bind(listener_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
        ::listen(listener_, 16) != 0) {
      std::abort();
    }
    socklen_t length = sizeof address;
    ::getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &length);
    port = ntohs(address.sin_port);
    std::thread([this] { serve(); }).detach();
  }

  // The answers for the next operation.
  void script(std::string_view input) {
    std::vector<std::string> segments;
    for (;;) {
      const std::size_t at = input.find("|||");
      segments.emplace_back(input.substr(0, at));
      if (at == std::string_view::npos) break;
      input.remove_prefix(at + 3);
    }
    std::lock_guard lock(mutex_);
    segments_ = std::move(segments);
    ++generation_;
  }

  int port = 0;

 private:
  void serve() {
    for (;;) {
      const int fd = ::accept(listener_, nullptr, nullptr);
      if (fd < 0) continue;
      std::uint64_t seen = 0;
      std::size_t next = 0;
      char buffer[65536];
      for (bool first = true;; first = false) {
        // The first command may come much later (an idle pooled connection);
        // after an answer, a client that sends nothing more is waiting for
        // bytes this input does not have: close, so it fails at once.
        pollfd waiting{fd, POLLIN, 0};
        if (!first && ::poll(&waiting, 1, 20) <= 0) break;
        if (::recv(fd, buffer, sizeof buffer, 0) <= 0) break;
        std::string answer;
        bool last = false;
        {
          std::lock_guard lock(mutex_);
          if (seen != generation_) {
            seen = generation_;
            next = 0;
          }
          if (next < segments_.size()) answer = segments_[next++];
          last = next >= segments_.size();
        }
        if (!answer.empty() && ::send(fd, answer.data(), answer.size(), MSG_NOSIGNAL) < 0) break;
        if (last) break;
      }
      ::close(fd);
    }
  }

  int listener_ = -1;
  std::mutex mutex_;
  std::vector<std::string> segments_;
  std::uint64_t generation_ = 0;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static FakeRedis* server = new FakeRedis();  // lives for the process
  static storage::KVStore* store = [] {
    storage::RedisOptions options;
    options.host = "127.0.0.1";
    options.port = server->port;
    options.pool_size = 1;
    options.timeout_ms = 1000;
    return storage::open_redis_kvstore(options).release();
  }();
  if (size == 0) return 0;
  const int op = data[0] % 9;
  server->script(fuzz::as_text(data + 1, size - 1));
  try {
    switch (op) {
      case 0:
        (void)store->get("k");
        break;
      case 1:
        store->set("k", "v", storage::Clock::now() + std::chrono::seconds(60));
        break;
      case 2:
        store->remove("k");
        break;
      case 3:
        (void)store->range("a", "z");
        break;
      case 4:
        (void)store->scan_prefix("quota:");
        break;
      case 5:
        (void)store->increment("n", 1, storage::Clock::now() + std::chrono::seconds(60));
        break;
      case 6:
        (void)store->update(
            "u", [](const std::optional<std::string>& v) { return v.value_or("") + "x"; });
        break;
      case 7:
        (void)store->purge_expired();
        break;
      default:
        (void)store->update_entry("t", [](const std::optional<std::string>& v) {
          return std::optional<storage::StoredValue>(storage::StoredValue{
              v.value_or("") + "y", storage::Clock::now() + std::chrono::seconds(60)});
        });
        break;
    }
  } catch (const storage::StorageError&) {
    // 503 with Retry-After for the request that needed the store.
  }
  return 0;
}
