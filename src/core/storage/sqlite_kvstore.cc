// SQLite KVStore. One connection guarded by a mutex: SQLite serializes
// writers anyway, and our writes are small; WAL lets readers in other
// processes (a second replica, `sqlite3` on the shell) proceed.
#include <sqlite3.h>

#include <chrono>
#include <filesystem>
#include <mutex>
#include <optional>

#include "core/util/metrics.h"
#include "llama_stack/storage/kvstore.h"

namespace llama_stack::storage {
namespace {

// A prepared statement, compiled once per store and reused: preparing costs
// more than running these one-row statements. Not thread-safe; the store's
// mutex guards it.
class Prepared {
 public:
  Prepared(sqlite3* db, const char* sql) {
    if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt_, nullptr) != SQLITE_OK) {
      throw StorageError(std::string("sqlite prepare failed: ") + sqlite3_errmsg(db));
    }
  }
  ~Prepared() { sqlite3_finalize(stmt_); }
  Prepared(const Prepared&) = delete;
  Prepared& operator=(const Prepared&) = delete;
  sqlite3_stmt* get() const { return stmt_; }

 private:
  sqlite3_stmt* stmt_ = nullptr;
};

// One use of a Prepared statement; resets it (and its bindings) when done.
class Statement {
 public:
  Statement(sqlite3* db, const Prepared& prepared) : db_(db), stmt_(prepared.get()) {}
  ~Statement() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  Statement& bind(int index, std::string_view text) {
    sqlite3_bind_text(stmt_, index, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Statement& bind(int index, std::int64_t value) {
    sqlite3_bind_int64(stmt_, index, value);
    return *this;
  }
  Statement& bind_null(int index) {
    sqlite3_bind_null(stmt_, index);
    return *this;
  }
  // Returns true while a row is available.
  bool step() {
    int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    throw StorageError(std::string("sqlite: ") + sqlite3_errmsg(db_));
  }
  std::string text(int column) const {
    const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, column));
    return p == nullptr
               ? std::string()
               : std::string(p, static_cast<std::size_t>(sqlite3_column_bytes(stmt_, column)));
  }
  std::int64_t int64(int column) const { return sqlite3_column_int64(stmt_, column); }

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_;
};

// Times one operation into llama_stack_kvstore_operation_duration_seconds.
enum class Op { kGet, kSet, kRemove, kRange, kScan, kIncrement, kUpdate, kTransaction };

class OpTimer {
 public:
  explicit OpTimer(Op op) : op_(op) {
    if (metrics::enabled()) start_ = std::chrono::steady_clock::now();
  }
  ~OpTimer() {
    if (start_ == std::chrono::steady_clock::time_point{}) return;
    static metrics::Histogram* const histograms[] = {
        &series("get"),         &series("set"),       &series("delete"), &series("range"),
        &series("scan_prefix"), &series("increment"), &series("update"), &series("transaction")};
    histograms[static_cast<int>(op_)]->observe(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count());
  }
  OpTimer(const OpTimer&) = delete;
  OpTimer& operator=(const OpTimer&) = delete;

 private:
  static metrics::Histogram& series(std::string_view op) {
    return metrics::catalog().kvstore_duration.with({"sqlite", op});
  }
  Op op_;
  std::chrono::steady_clock::time_point start_{};
};

class SqliteKVStore final : public KVStore {
 public:
  explicit SqliteKVStore(const std::string& db_path) : path_(db_path) {
    std::error_code ec;
    const auto parent = std::filesystem::path(db_path).parent_path();
    if (!parent.empty()) std::filesystem::create_directories(parent, ec);
    if (ec) {
      throw StorageError("cannot create directory '" + parent.string() +
                         "' for kvstore: " + ec.message());
    }
    if (sqlite3_open_v2(db_path.c_str(), &db_,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                        nullptr) != SQLITE_OK) {
      std::string message = db_ ? sqlite3_errmsg(db_) : "out of memory";
      sqlite3_close(db_);
      db_ = nullptr;
      throw StorageError("cannot open kvstore '" + db_path + "': " + message);
    }
    sqlite3_busy_timeout(db_, 5000);
    exec("PRAGMA journal_mode=WAL");
    exec("PRAGMA synchronous=NORMAL");
    exec(
        "CREATE TABLE IF NOT EXISTS kvstore (key TEXT PRIMARY KEY, value TEXT, "
        "expiration INTEGER)");
    sql_.emplace(db_);
  }

  ~SqliteKVStore() override {
    sql_.reset();  // statements are finalized before the connection closes
    if (db_ != nullptr) {
      sqlite3_wal_checkpoint_v2(db_, nullptr, SQLITE_CHECKPOINT_TRUNCATE, nullptr, nullptr);
      sqlite3_close(db_);
    }
  }

  std::optional<std::string> get(std::string_view key) override {
    const OpTimer timer(Op::kGet);
    std::lock_guard lock(mutex_);
    Statement s(db_, sql_->get);
    s.bind(1, key).bind(2, now());
    if (!s.step()) return std::nullopt;
    return s.text(0);
  }

  void set(std::string_view key, std::string_view value,
           std::optional<Clock::time_point> expiration) override {
    const OpTimer timer(Op::kSet);
    std::lock_guard lock(mutex_);
    Statement s(db_, sql_->put);
    s.bind(1, key).bind(2, value);
    if (expiration) {
      s.bind(3, to_millis(*expiration));
    } else {
      s.bind_null(3);
    }
    s.step();
  }

  void remove(std::string_view key) override {
    const OpTimer timer(Op::kRemove);
    std::lock_guard lock(mutex_);
    Statement s(db_, sql_->remove);
    s.bind(1, key);
    s.step();
  }

  std::vector<std::pair<std::string, std::string>> range(std::string_view start_key,
                                                         std::string_view end_key) override {
    const OpTimer timer(Op::kRange);
    std::lock_guard lock(mutex_);
    Statement s(db_, sql_->range);
    s.bind(1, start_key).bind(2, end_key).bind(3, now());
    return collect(s);
  }

  std::vector<std::pair<std::string, std::string>> scan_prefix(std::string_view prefix) override {
    const OpTimer timer(Op::kScan);
    std::lock_guard lock(mutex_);
    Statement s(db_, sql_->scan_prefix);
    s.bind(1, static_cast<std::int64_t>(prefix.size())).bind(2, prefix).bind(3, now());
    return collect(s);
  }

  std::int64_t increment(std::string_view key, std::int64_t delta,
                         std::optional<Clock::time_point> expiration) override {
    const OpTimer timer(Op::kIncrement);
    std::lock_guard lock(mutex_);
    Statement s(db_, sql_->increment);
    s.bind(1, key).bind(2, delta);
    if (expiration) {
      s.bind(3, to_millis(*expiration));
    } else {
      s.bind_null(3);
    }
    s.bind(4, now());
    if (!s.step()) throw StorageError("increment returned no row");
    return s.int64(0);
  }

  std::string update_entry(std::string_view key, const UpdateEntryFn& fn) override {
    const OpTimer timer(Op::kUpdate);
    std::lock_guard lock(mutex_);
    // IMMEDIATE takes the write lock up front (waiting out the busy timeout),
    // so no other connection — in this process or another — can write
    // between our read and our write.
    // Inside transaction(): the enclosing transaction commits (or rolls back).
    const bool own = transaction_depth_ == 0;
    if (own) Statement(db_, sql_->begin).step();
    try {
      std::optional<std::string> current;
      {
        Statement s(db_, sql_->get);
        s.bind(1, key).bind(2, now());
        if (s.step()) current = s.text(0);
      }
      std::optional<StoredValue> next = fn(current);
      if (next) {
        Statement s(db_, sql_->put);
        s.bind(1, key).bind(2, next->value);
        if (next->expiration) {
          s.bind(3, to_millis(*next->expiration));
        } else {
          s.bind_null(3);
        }
        s.step();
      } else {
        Statement s(db_, sql_->remove);
        s.bind(1, key);
        s.step();
      }
      if (own) Statement(db_, sql_->commit).step();
      return next ? std::move(next->value) : std::string();
    } catch (...) {
      // A failed COMMIT may leave the transaction open; some errors roll it
      // back themselves.
      if (own && sqlite3_get_autocommit(db_) == 0) {
        sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
      }
      throw;
    }
  }

  void transaction(const std::function<void()>& body) override {
    const OpTimer timer(Op::kTransaction);
    std::lock_guard lock(mutex_);
    if (transaction_depth_ > 0) {  // nested: part of the outer one
      body();
      return;
    }
    Statement(db_, sql_->begin).step();
    ++transaction_depth_;
    try {
      body();
      --transaction_depth_;
      Statement(db_, sql_->commit).step();
    } catch (...) {
      transaction_depth_ = 0;
      if (sqlite3_get_autocommit(db_) == 0) {
        sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
      }
      throw;
    }
  }

  std::size_t purge_expired() override {
    std::lock_guard lock(mutex_);
    Statement s(db_, sql_->purge);
    s.bind(1, now());
    s.step();
    return static_cast<std::size_t>(sqlite3_changes(db_));
  }

  void flush() override {
    std::lock_guard lock(mutex_);
    sqlite3_wal_checkpoint_v2(db_, nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
  }

 private:
  static std::int64_t now() { return to_millis(Clock::now()); }

  void exec(const char* sql) {
    char* error = nullptr;
    if (sqlite3_exec(db_, sql, nullptr, nullptr, &error) != SQLITE_OK) {
      std::string message = error != nullptr ? error : "unknown error";
      sqlite3_free(error);
      throw StorageError("kvstore '" + path_ + "': " + message);
    }
  }

  static std::vector<std::pair<std::string, std::string>> collect(Statement& s) {
    std::vector<std::pair<std::string, std::string>> out;
    while (s.step()) out.emplace_back(s.text(0), s.text(1));
    return out;
  }

  // Every statement the store runs, prepared once.
  struct Statements {
    explicit Statements(sqlite3* db)
        : get(db,
              "SELECT value FROM kvstore WHERE key = ? AND (expiration IS NULL OR expiration > ?)"),
          put(db, "INSERT OR REPLACE INTO kvstore (key, value, expiration) VALUES (?, ?, ?)"),
          remove(db, "DELETE FROM kvstore WHERE key = ?"),
          range(db,
                "SELECT key, value FROM kvstore WHERE key >= ? AND key <= ? AND "
                "(expiration IS NULL OR expiration > ?) ORDER BY key"),
          // substr() comparison instead of LIKE: keys may contain '%' and '_'.
          scan_prefix(db,
                      "SELECT key, value FROM kvstore WHERE substr(key, 1, ?) = ? AND "
                      "(expiration IS NULL OR expiration > ?) ORDER BY key"),
          // One statement: atomic even across processes sharing the file.
          increment(db,
                    "INSERT INTO kvstore (key, value, expiration) VALUES (?1, ?2, ?3) "
                    "ON CONFLICT(key) DO UPDATE SET "
                    "value = CASE WHEN expiration IS NOT NULL AND expiration <= ?4 THEN ?2 "
                    "             ELSE CAST(value AS INTEGER) + ?2 END, "
                    "expiration = CASE WHEN expiration IS NOT NULL AND expiration <= ?4 THEN ?3 "
                    "                  ELSE expiration END "
                    "RETURNING CAST(value AS INTEGER)"),
          purge(db, "DELETE FROM kvstore WHERE expiration IS NOT NULL AND expiration <= ?"),
          begin(db, "BEGIN IMMEDIATE"),
          commit(db, "COMMIT") {}
    Prepared get, put, remove, range, scan_prefix, increment, purge, begin, commit;
  };

  std::string path_;
  // Recursive: increment/update_entry run inside transaction() on the same thread.
  std::recursive_mutex mutex_;
  int transaction_depth_ = 0;  // guarded by mutex_
  sqlite3* db_ = nullptr;
  std::optional<Statements> sql_;
};

}  // namespace

std::unique_ptr<KVStore> open_sqlite_kvstore(const std::string& db_path) {
  return std::make_unique<SqliteKVStore>(db_path);
}

}  // namespace llama_stack::storage
