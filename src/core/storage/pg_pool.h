// PgPool: a small pool of libpq connections shared by the PostgreSQL
// kvstore and SQL store.
//
// Statements are prepared once per connection and run with bound
// parameters (text, or binary for BYTEA) and binary results. A connection
// that breaks (server restarted, network cut) is dropped together with every
// idle one — they are likely stale too — and new ones are opened on demand,
// so the stores recover by themselves when the server comes back.
//
// Thread-safety: acquire() from any thread; a Lease is used by one thread.
// Errors: StorageError naming the server ("postgres://user@host:port/db").
#pragma once

#include <libpq-fe.h>

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "llama_stack/storage/kvstore.h"

namespace llama_stack::storage {

// A bound parameter: NULL, text, or binary (BYTEA).
struct PgParam {
  static PgParam null() { return PgParam{std::string(), false, true}; }
  static PgParam text(std::string_view value) { return PgParam{std::string(value), false, false}; }
  static PgParam integer(std::int64_t value) { return text(std::to_string(value)); }
  static PgParam bytes(std::string_view value) { return PgParam{std::string(value), true, false}; }
  std::string data;
  bool binary = false;
  bool is_null = false;
};

// A result in binary format: text and BYTEA columns are raw bytes, BIGINT
// columns 8 bytes big-endian, BOOLEAN one byte.
class PgResult {
 public:
  explicit PgResult(PGresult* result) : result_(result, &PQclear) {}
  int rows() const { return PQntuples(result_.get()); }
  bool is_null(int row, int column) const { return PQgetisnull(result_.get(), row, column) != 0; }
  std::string bytes(int row, int column) const;
  std::int64_t int64(int row, int column) const;
  double float64(int row, int column) const;
  // Rows a DELETE/UPDATE/INSERT touched.
  std::size_t affected() const;
  int columns() const { return PQnfields(result_.get()); }
  std::string column_name(int column) const { return PQfname(result_.get(), column); }
  Oid column_type(int column) const { return PQftype(result_.get(), column); }

 private:
  std::unique_ptr<PGresult, void (*)(PGresult*)> result_;
};

class PgPool {
 public:
  // Opens one connection right away, so a wrong address or password is a
  // startup error. Throws StorageError.
  explicit PgPool(PostgresOptions options);
  ~PgPool();
  PgPool(const PgPool&) = delete;
  PgPool& operator=(const PgPool&) = delete;

  class Lease;

  // Waits (up to the connect timeout) while every connection is in use.
  Lease acquire();

  const PostgresOptions& options() const { return options_; }
  const std::string& address() const { return address_; }

 private:
  struct Connection {
    PGconn* conn = nullptr;
    std::set<std::string, std::less<>> prepared;
    std::uint64_t epoch = 0;  // the pool's epoch when it was opened
    ~Connection() {
      if (conn != nullptr) PQfinish(conn);
    }
  };
  std::unique_ptr<Connection> connect();
  void release(std::unique_ptr<Connection> connection, bool broken);

  const PostgresOptions options_;
  const std::string address_;
  std::mutex mutex_;
  std::condition_variable available_;
  std::vector<std::unique_ptr<Connection>> idle_;  // guarded by mutex_
  int open_ = 0;                                   // guarded by mutex_
  std::uint64_t epoch_ = 0;                        // guarded by mutex_; bumped when one breaks
};

class PgPool::Lease {
 public:
  Lease(PgPool* pool, std::unique_ptr<Connection> connection)
      : pool_(pool), connection_(std::move(connection)) {}
  ~Lease();
  Lease(Lease&&) noexcept = default;
  Lease& operator=(Lease&&) = delete;
  Lease(const Lease&) = delete;

  // Runs a statement prepared under `name` (once per connection). Throws
  // StorageError; a connection-level failure marks the lease broken.
  PgResult run(std::string_view name, const char* sql, const std::vector<PgParam>& params = {});
  // Runs SQL text without parameters (BEGIN, COMMIT).
  PgResult exec(const char* sql);
  // Runs schema statements (CREATE TABLE IF NOT EXISTS, ...) in one
  // transaction under a database-wide advisory lock: replicas starting at
  // once would otherwise race on the catalog and fail.
  void migrate(const std::vector<std::string>& statements);
  bool broken() const { return broken_; }

 private:
  PgResult check(PGresult* result, std::string_view what);

  PgPool* pool_;
  std::unique_ptr<Connection> connection_;
  bool broken_ = false;
};

}  // namespace llama_stack::storage
