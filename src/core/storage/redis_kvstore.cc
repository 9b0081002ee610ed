// Redis KVStore (see kvstore.h for the layout and atomicity), on hiredis'
// synchronous API with a small pool of connections. Every call runs on the
// caller's thread; callers on I/O threads go through a GroupCommitter or a
// thread pool, as for SQLite.
#include <hiredis.h>
#include <sys/socket.h>

#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <span>
#include <thread>
#include <type_traits>
#include <vector>

#include "core/log/log.h"
#include "core/storage/store_metrics.h"
#include "llama_stack/storage/kvstore.h"

namespace llama_stack::storage {
namespace {

// KEYS: key, index, expiry. ARGV: value, expiration in ms since the epoch
// or "". A past expiration deletes the key at once (SET ... PXAT).
constexpr std::string_view kSetScript = R"lua(
if ARGV[2] == '' then
  redis.call('SET', KEYS[1], ARGV[1])
  redis.call('ZREM', KEYS[3], KEYS[1])
else
  redis.call('SET', KEYS[1], ARGV[1], 'PXAT', ARGV[2])
  redis.call('ZADD', KEYS[3], ARGV[2], KEYS[1])
end
redis.call('ZADD', KEYS[2], 0, KEYS[1])
return 1
)lua";

// KEYS: key, index, expiry.
constexpr std::string_view kRemoveScript = R"lua(
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], KEYS[1])
redis.call('ZREM', KEYS[3], KEYS[1])
return 1
)lua";

// KEYS: key, index, expiry. ARGV: delta, expiration or "". A live key keeps
// its expiration (INCRBY does); an absent or expired one starts at delta.
constexpr std::string_view kIncrementScript = R"lua(
if redis.call('EXISTS', KEYS[1]) == 1 then
  return redis.call('INCRBY', KEYS[1], ARGV[1])
end
if ARGV[2] == '' then
  redis.call('SET', KEYS[1], ARGV[1])
  redis.call('ZREM', KEYS[3], KEYS[1])
else
  redis.call('SET', KEYS[1], ARGV[1], 'PXAT', ARGV[2])
  redis.call('ZADD', KEYS[3], ARGV[2], KEYS[1])
end
redis.call('ZADD', KEYS[2], 0, KEYS[1])
return tonumber(ARGV[1])
)lua";

// KEYS: index, expiry. ARGV: now in ms. Drops index entries of keys whose
// expiration has passed (Redis has already dropped the keys themselves).
constexpr std::string_view kPurgeScript = R"lua(
local gone = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', ARGV[1])
for _, key in ipairs(gone) do
  redis.call('DEL', key)
  redis.call('ZREM', KEYS[1], key)
  redis.call('ZREM', KEYS[2], key)
end
return #gone
)lua";

using Reply = std::unique_ptr<redisReply, void (*)(void*)>;

class RedisKVStore final : public KVStore {
 private:
  // One leased connection; `broken` once the connection failed.
  struct Connection {
    RedisKVStore* store;
    redisContext* context;
    bool broken = false;

    // Queues a command without waiting (pipelining); next_reply() reads the
    // replies in order.
    void append(std::span<const std::string_view> args) {
      std::vector<const char*> argv;
      std::vector<std::size_t> lengths;
      argv.reserve(args.size());
      lengths.reserve(args.size());
      for (std::string_view a : args) {
        argv.push_back(a.data());
        lengths.push_back(a.size());
      }
      if (redisAppendCommandArgv(context, static_cast<int>(argv.size()), argv.data(),
                                 lengths.data()) != REDIS_OK) {
        broken = true;
        throw StorageError(store->address_ + ": " + context->errstr);
      }
      ++pending;
    }
    void append(std::initializer_list<std::string_view> args) {
      append(std::span<const std::string_view>(args.begin(), args.size()));
    }
    // The next reply of what was appended; an error reply throws (after the
    // other pending replies are read, so the connection stays in step).
    Reply next_reply() {
      void* raw = nullptr;
      if (redisGetReply(context, &raw) != REDIS_OK || raw == nullptr) {
        broken = true;
        throw StorageError(store->address_ + ": " +
                           (context->errstr[0] != '\0' ? context->errstr : "connection lost"));
      }
      --pending;
      Reply reply(static_cast<redisReply*>(raw), freeReplyObject);
      if (reply->type == REDIS_REPLY_ERROR) {
        std::string message(reply->str, reply->len);
        while (pending > 0) next_reply_quietly();
        throw StorageError(store->address_ + ": " + message);
      }
      return reply;
    }
    void next_reply_quietly() {
      void* raw = nullptr;
      if (redisGetReply(context, &raw) != REDIS_OK || raw == nullptr) {
        broken = true;
        pending = 0;
        return;
      }
      --pending;
      freeReplyObject(raw);
    }
    int pending = 0;

    // One command and its reply (an error reply throws).
    Reply command(std::span<const std::string_view> args) {
      append(args);
      return next_reply();
    }
    Reply command(std::initializer_list<std::string_view> args) {
      append(args);
      return next_reply();
    }
  };

 public:
  explicit RedisKVStore(RedisOptions options)
      : options_(std::move(options)), address_(options_.describe()) {
    if (options_.pool_size < 1) throw StorageError(address_ + ": pool_size must be at least 1");
    auto first = connect();
    ++open_;
    idle_.push_back(std::move(first));
  }

  ~RedisKVStore() override {
    for (redisContext* c : idle_) redisFree(c);
  }

  std::optional<std::string> get(std::string_view key) override {
    const StoreOpTimer timer("redis", StoreOp::kGet);
    return with_connection(true, [&](Connection& c) -> std::optional<std::string> {
      Reply r = c.command({"GET", key});
      if (r->type == REDIS_REPLY_NIL) return std::nullopt;
      return std::string(r->str, r->len);
    });
  }

  void set(std::string_view key, std::string_view value,
           std::optional<Clock::time_point> expiration) override {
    const StoreOpTimer timer("redis", StoreOp::kSet);
    const std::string at = expiration ? std::to_string(expiration_ms(*expiration)) : "";
    with_connection(true, [&](Connection& c) {
      c.command({"EVAL", kSetScript, "3", key, options_.index_key, options_.expiry_key, value, at});
      return 0;
    });
  }

  void remove(std::string_view key) override {
    const StoreOpTimer timer("redis", StoreOp::kRemove);
    with_connection(true, [&](Connection& c) {
      c.command({"EVAL", kRemoveScript, "3", key, options_.index_key, options_.expiry_key});
      return 0;
    });
  }

  std::vector<std::pair<std::string, std::string>> range(std::string_view start_key,
                                                         std::string_view end_key) override {
    const StoreOpTimer timer("redis", StoreOp::kRange);
    return lex_range("[" + std::string(start_key), "[" + std::string(end_key));
  }

  std::vector<std::pair<std::string, std::string>> scan_prefix(std::string_view prefix) override {
    const StoreOpTimer timer("redis", StoreOp::kScan);
    // Keys k with prefix <= k < successor(prefix), bytewise: the prefix
    // without trailing 0xff bytes, its last byte incremented.
    std::string end(prefix);
    while (!end.empty() && static_cast<unsigned char>(end.back()) == 0xff) end.pop_back();
    if (end.empty()) return lex_range("[" + std::string(prefix), "+");
    end.back() = static_cast<char>(static_cast<unsigned char>(end.back()) + 1);
    return lex_range("[" + std::string(prefix), "(" + end);
  }

  std::int64_t increment(std::string_view key, std::int64_t delta,
                         std::optional<Clock::time_point> expiration) override {
    const StoreOpTimer timer("redis", StoreOp::kIncrement);
    const std::string at = expiration ? std::to_string(expiration_ms(*expiration)) : "";
    // Not idempotent: never retried blindly.
    return with_connection(false, [&](Connection& c) {
      Reply r = c.command({"EVAL", kIncrementScript, "3", key, options_.index_key,
                           options_.expiry_key, std::to_string(delta), at});
      if (r->type != REDIS_REPLY_INTEGER) throw StorageError(address_ + ": increment: bad reply");
      return static_cast<std::int64_t>(r->integer);
    });
  }

  std::string update_entry(std::string_view key, const UpdateEntryFn& fn) override {
    const StoreOpTimer timer("redis", StoreOp::kUpdate);
    return with_connection(false, [&](Connection& c) {
      try {
        return update_once(c, key, fn);
      } catch (const StorageError&) {
        if (!c.broken) {  // leave no MULTI or WATCH behind on a pooled connection
          try {
            c.command({"DISCARD"});
          } catch (const StorageError&) {
          }
          try {
            c.command({"UNWATCH"});
          } catch (const StorageError&) {
          }
        }
        throw;
      }
    });
  }

  std::string update_once(Connection& c, std::string_view key, const UpdateEntryFn& fn) {
    {
      // Optimistic: WATCH makes EXEC fail if anyone wrote the key after our
      // read, in which case the read-compute-write starts over.
      for (int attempt = 0; attempt < 1000; ++attempt) {
        // Pipelined: one round trip for WATCH + GET, one for MULTI … EXEC.
        c.append({"WATCH", key});
        c.append({"GET", key});
        c.next_reply();
        std::optional<std::string> current;
        {
          Reply r = c.next_reply();
          if (r->type != REDIS_REPLY_NIL) current.emplace(r->str, r->len);
        }
        std::optional<StoredValue> next;
        try {
          next = fn(current);
        } catch (...) {
          c.command({"UNWATCH"});
          throw;
        }
        c.append({"MULTI"});
        std::string at;
        if (next) {
          if (next->expiration) at = std::to_string(expiration_ms(*next->expiration));
          c.append({"EVAL", kSetScript, "3", key, options_.index_key, options_.expiry_key,
                    next->value, at});
        } else {
          c.append({"EVAL", kRemoveScript, "3", key, options_.index_key, options_.expiry_key});
        }
        c.append({"EXEC"});
        c.next_reply();  // OK
        c.next_reply();  // QUEUED (an error here aborts the EXEC too)
        Reply exec = c.next_reply();
        if (exec->type == REDIS_REPLY_ARRAY) {
          for (std::size_t i = 0; i < exec->elements; ++i) {
            if (exec->element[i]->type == REDIS_REPLY_ERROR) {
              throw StorageError(address_ + ": update: " +
                                 std::string(exec->element[i]->str, exec->element[i]->len));
            }
          }
          return next ? std::move(next->value) : std::string();
        }
        // Nil: the key changed under us; go again, after a pause that grows
        // with the conflicts so contending writers spread out.
        std::this_thread::sleep_for(std::chrono::microseconds(20 * std::min(attempt, 50)));
      }
      throw StorageError(address_ + ": update of one key kept conflicting; gave up");
    }
  }

  std::size_t concurrency() const override { return static_cast<std::size_t>(options_.pool_size); }

  std::size_t purge_expired() override {
    return with_connection(true, [&](Connection& c) {
      Reply r = c.command({"EVAL", kPurgeScript, "2", options_.index_key, options_.expiry_key,
                           std::to_string(to_millis(Clock::now()))});
      return r->type == REDIS_REPLY_INTEGER ? static_cast<std::size_t>(r->integer) : 0;
    });
  }

 private:
  // Redis refuses PXAT 0 and below; anything already past expires at once.
  static std::int64_t expiration_ms(Clock::time_point t) {
    return std::max<std::int64_t>(1, to_millis(t));
  }

  std::vector<std::pair<std::string, std::string>> lex_range(const std::string& from,
                                                             const std::string& to) {
    return with_connection(true, [&](Connection& c) {
      std::vector<std::pair<std::string, std::string>> out;
      Reply keys = c.command({"ZRANGEBYLEX", options_.index_key, from, to});
      constexpr std::size_t kChunk = 512;
      for (std::size_t begin = 0; begin < keys->elements; begin += kChunk) {
        const std::size_t end = std::min(keys->elements, begin + kChunk);
        std::vector<std::string_view> mget{"MGET"};
        for (std::size_t i = begin; i < end; ++i) {
          mget.emplace_back(keys->element[i]->str, keys->element[i]->len);
        }
        Reply values = c.command(mget);
        if (values->type != REDIS_REPLY_ARRAY || values->elements != end - begin) {
          throw StorageError(address_ + ": MGET: unexpected reply");
        }
        for (std::size_t i = begin; i < end; ++i) {
          const redisReply* v = values->element[i - begin];
          if (v->type != REDIS_REPLY_STRING) continue;  // expired since it was indexed
          out.emplace_back(std::string(keys->element[i]->str, keys->element[i]->len),
                           std::string(v->str, v->len));
        }
      }
      return out;
    });
  }

  redisContext* connect() {
    const timeval timeout{options_.timeout_ms / 1000, (options_.timeout_ms % 1000) * 1000};
    redisContext* c = redisConnectWithTimeout(options_.host.c_str(), options_.port, timeout);
    if (c == nullptr) throw StorageError("cannot connect to " + address_ + ": out of memory");
    if (c->err != 0) {
      std::string message = c->errstr;
      redisFree(c);
      throw StorageError("cannot connect to " + address_ + ": " + message);
    }
    redisSetTimeout(c, timeout);
    redisEnableKeepAlive(c);
    Connection connection{this, c};
    try {
      if (!options_.password.empty()) {
        if (options_.username.empty()) {
          connection.command({"AUTH", options_.password});
        } else {
          connection.command({"AUTH", options_.username, options_.password});
        }
      }
      if (options_.database != 0) {
        connection.command({"SELECT", std::to_string(options_.database)});
      }
    } catch (const StorageError& e) {
      redisFree(c);
      throw StorageError(std::string("cannot connect to ") + e.what());
    }
    return c;
  }

  // Leases a connection for `body`; a broken one is closed (with every idle
  // one: after a restart they are all stale) and, for operations that may
  // safely run twice, the body is retried once on a fresh connection.
  template <typename Body>
  std::invoke_result_t<Body&, Connection&> with_connection(bool idempotent, Body&& body) {
    for (int attempt = 0;; ++attempt) {
      Connection connection{this, acquire()};
      try {
        auto result = body(connection);
        release(connection.context, false);
        return result;
      } catch (const StorageError&) {
        release(connection.context, connection.broken);
        if (!connection.broken || !idempotent || attempt > 0) throw;
      } catch (...) {
        release(connection.context, connection.broken);
        throw;
      }
    }
  }

  static bool closed_by_peer(redisContext* c) {
    char byte;
    const ssize_t n = ::recv(c->fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
  }

  redisContext* acquire() {
    std::unique_lock lock(mutex_);
    const auto deadline =
        std::chrono::steady_clock::now() + std::chrono::milliseconds(options_.timeout_ms);
    while (idle_.empty() && open_ >= options_.pool_size) {
      if (available_.wait_until(lock, deadline) == std::cv_status::timeout && idle_.empty() &&
          open_ >= options_.pool_size) {
        throw StorageError(address_ + ": every pooled connection stayed busy");
      }
    }
    while (!idle_.empty()) {
      redisContext* c = idle_.back();
      idle_.pop_back();
      // A restarted server closed this socket: drop it before a command
      // that must not run twice is sent on it.
      if (!closed_by_peer(c)) return c;
      --open_;
      redisFree(c);
      LS_WARN(kCore, "{}: a pooled connection was closed by the server; reconnecting", address_);
    }
    ++open_;
    lock.unlock();
    try {
      return connect();
    } catch (...) {
      lock.lock();
      --open_;
      available_.notify_one();
      throw;
    }
  }

  void release(redisContext* c, bool broken) {
    std::vector<redisContext*> stale;
    {
      std::lock_guard lock(mutex_);
      if (broken) {
        stale.push_back(c);
        stale.insert(stale.end(), idle_.begin(), idle_.end());
        open_ -= static_cast<int>(stale.size());
        idle_.clear();
      } else {
        idle_.push_back(c);
      }
    }
    available_.notify_all();
    for (redisContext* s : stale) redisFree(s);
  }

  const RedisOptions options_;
  const std::string address_;
  std::mutex mutex_;
  std::condition_variable available_;
  std::vector<redisContext*> idle_;  // guarded by mutex_
  int open_ = 0;                     // guarded by mutex_
};

}  // namespace

std::string RedisOptions::describe() const {
  return "redis://" + host + ":" + std::to_string(port) + "/" + std::to_string(database);
}

std::unique_ptr<KVStore> open_redis_kvstore(const RedisOptions& options) {
  return std::make_unique<RedisKVStore>(options);
}

}  // namespace llama_stack::storage
