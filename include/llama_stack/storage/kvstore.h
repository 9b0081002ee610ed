// KVStore: the key-value store behind the resource registry, quotas, rate
// limits and provider state (Llama Stack's `kvstore` configs).
//
// Keys and values are byte strings. A value may carry an expiration; expired
// entries are invisible to every read and are purged lazily.
//
// Thread-safety: implementations are safe for concurrent use from any thread.
// Errors: operations throw StorageError when the backend fails (disk full,
// database locked past the busy timeout, server unreachable).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace llama_stack::storage {

class StorageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

using Clock = std::chrono::system_clock;

// Milliseconds since the epoch: how every store keeps expirations.
inline std::int64_t to_millis(Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

// What an `update_entry` function writes: the value and its expiration.
struct StoredValue {
  std::string value;
  std::optional<Clock::time_point> expiration;
};

class KVStore {
 public:
  virtual ~KVStore() = default;

  virtual std::optional<std::string> get(std::string_view key) = 0;

  // Inserts or replaces. `expiration` (absolute) unset → never expires.
  virtual void set(std::string_view key, std::string_view value,
                   std::optional<Clock::time_point> expiration = std::nullopt) = 0;

  virtual void remove(std::string_view key) = 0;

  // Entries with start_key <= key <= end_key, ordered by key.
  virtual std::vector<std::pair<std::string, std::string>> range(std::string_view start_key,
                                                                 std::string_view end_key) = 0;

  // Entries whose key starts with `prefix`, ordered by key.
  virtual std::vector<std::pair<std::string, std::string>> scan_prefix(std::string_view prefix) = 0;

  // Atomically adds `delta` to the integer stored at `key` (absent or expired
  // counts as 0) and returns the new value. `expiration` applies when the
  // entry is created (or re-created after expiring); it is kept otherwise.
  virtual std::int64_t increment(std::string_view key, std::int64_t delta,
                                 std::optional<Clock::time_point> expiration = std::nullopt) = 0;

  // Atomic read-modify-write: reads the value at `key` (absent or expired →
  // nullopt), calls `fn` with it, and writes what `fn` returns (nullopt →
  // delete) with `expiration` (unset → never expires). Returns the new value,
  // or "" when the entry was deleted. Atomic across threads and, for stores
  // shared between processes (SQLite), across processes. If `fn` throws,
  // nothing is written and the exception propagates.
  // REQUIRES: `fn` does not call this store: it runs with the store locked
  // (for SQLite, inside a write transaction), so it should also be short.
  using UpdateFn =
      std::function<std::optional<std::string>(const std::optional<std::string>& current)>;
  virtual std::string update(std::string_view key, const UpdateFn& fn,
                             std::optional<Clock::time_point> expiration = std::nullopt);

  // Like `update`, but `fn` also chooses the expiration, for state whose
  // lifetime depends on its new value (a rate limiter's TAT). Stores that
  // support atomic updates implement this; the default throws StorageError.
  using UpdateEntryFn =
      std::function<std::optional<StoredValue>(const std::optional<std::string>& current)>;
  virtual std::string update_entry(std::string_view key, const UpdateEntryFn& fn);

  // Runs `body` as one transaction: the writes it makes through this store
  // commit together, with one disk write instead of one each (SQLite: one
  // BEGIN IMMEDIATE … COMMIT; `increment` and `update_entry` called inside
  // join it). If `body` throws, SQLite rolls every write of it back. Stores
  // without transactions (memory) just run `body`.
  virtual void transaction(const std::function<void()>& body) { body(); }

  // How many operations the store serves well at once. 1 (SQLite): one
  // writer, so callers batch operations into one transaction; more
  // (PostgreSQL, Redis: the connection pool's size): operations are network
  // round trips, each atomic on its own, better run side by side.
  virtual std::size_t concurrency() const { return 1; }

  // Deletes expired entries; returns how many.
  virtual std::size_t purge_expired() = 0;

  // Makes every completed write durable (a checkpoint for SQLite).
  virtual void flush() {}
};

// A store that prefixes every key with "<namespace>:" (Llama Stack's
// `namespace` option). Owns nothing; `inner` must outlive it.
std::unique_ptr<KVStore> make_namespaced_kvstore(std::shared_ptr<KVStore> inner,
                                                 std::string name_space);

// In-memory store, for tests and ephemeral state.
std::unique_ptr<KVStore> make_memory_kvstore();

// SQLite store at `db_path` (parent folders are created). WAL journal,
// busy timeout, one table `kvstore(key, value, expiration)`.
std::unique_ptr<KVStore> open_sqlite_kvstore(const std::string& db_path);

// Whether `name` may name a table or column in SQL we build:
// [A-Za-z_][A-Za-z0-9_]*, at most 63 bytes (PostgreSQL's limit).
bool is_sql_identifier(std::string_view name);

// Where a PostgreSQL server is and how to reach it (Llama Stack's postgres
// kvstore and sql store keys, plus TLS and the pool).
struct PostgresOptions {
  std::string host = "localhost";
  int port = 5432;
  std::string db = "llamastack";
  std::string user;
  std::string password;
  std::string table_name = "llamastack_kvstore";  // kvstore only
  std::string ssl_mode;      // libpq sslmode: disable, require, verify-ca, verify-full, ...
  std::string ca_cert_path;  // libpq sslrootcert
  int pool_size = 4;         // connections kept open
  int connect_timeout_seconds = 5;
  // "postgres://user@host:port/db" (never the password), for errors and logs.
  std::string describe() const;
};

// PostgreSQL store: table `table_name(key TEXT COLLATE "C" PRIMARY KEY,
// value BYTEA, expiration BIGINT)`, created when absent. Every operation is
// one statement except update/update_entry (one transaction under a
// per-key advisory lock), so each is atomic across replicas sharing the
// database. transaction() runs its body without an enclosing transaction:
// each operation commits on its own. Connections are pooled; a broken one is
// replaced on the next call, so the store recovers when the server does.
// Throws StorageError naming the server when it cannot connect.
std::unique_ptr<KVStore> open_postgres_kvstore(const PostgresOptions& options);

struct RedisOptions {
  std::string host = "localhost";
  int port = 6379;
  std::string username;  // ACL user (Redis 6+); empty → the default user
  std::string password;
  int database = 0;
  int pool_size = 8;      // one server thread: more requests in flight hide round trips
  int timeout_ms = 5000;  // connect and per-command
  // Sorted sets that index keys (for range/scan_prefix) and expirations.
  std::string index_key = "llama_stack:kvstore:index";
  std::string expiry_key = "llama_stack:kvstore:expiry";
  std::string describe() const;  // "redis://host:port/database"
};

// Redis store. Values are plain Redis strings under their own keys, with
// Redis expirations; two sorted sets index them for ordered range scans.
// set/remove/increment are single Lua scripts; update/update_entry are
// optimistic transactions (WATCH/MULTI/EXEC, retried on conflict), so each
// is atomic across replicas. transaction() runs its body as is.
std::unique_ptr<KVStore> open_redis_kvstore(const RedisOptions& options);

}  // namespace llama_stack::storage
