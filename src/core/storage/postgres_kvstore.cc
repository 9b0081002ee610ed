// PostgreSQL KVStore (see kvstore.h for the layout and atomicity).
#include <chrono>
#include <functional>
#include <type_traits>

#include "core/storage/pg_pool.h"
#include "core/storage/store_metrics.h"
#include "llama_stack/storage/kvstore.h"

namespace llama_stack::storage {
namespace {

std::int64_t now_ms() {
  return to_millis(Clock::now());
}

PgParam expiration_param(const std::optional<Clock::time_point>& expiration) {
  return expiration ? PgParam::integer(to_millis(*expiration)) : PgParam::null();
}

class PostgresKVStore final : public KVStore {
 public:
  explicit PostgresKVStore(const PostgresOptions& options) : pool_(options) {
    const std::string& t = options.table_name;
    if (!is_sql_identifier(t)) {
      throw StorageError(pool_.address() + ": table_name '" + t +
                         "' must be an SQL identifier ([A-Za-z_][A-Za-z0-9_]*, at most 63)");
    }
    sql_.get = "SELECT value FROM " + t +
               " WHERE key = $1 AND (expiration IS NULL OR expiration > $2::bigint)";
    sql_.put = "INSERT INTO " + t +
               " (key, value, expiration) VALUES ($1, $2, $3::bigint) ON CONFLICT (key) DO "
               "UPDATE SET value = EXCLUDED.value, expiration = EXCLUDED.expiration";
    sql_.remove = "DELETE FROM " + t + " WHERE key = $1";
    sql_.range = "SELECT key, value FROM " + t +
                 " WHERE key >= $1 AND key <= $2 AND (expiration IS NULL OR expiration > "
                 "$3::bigint) ORDER BY key";
    // `key >= prefix` lets the primary key index narrow the scan.
    sql_.scan_prefix = "SELECT key, value FROM " + t +
                       " WHERE key >= $1 AND left(key, $2::int) = $1 AND (expiration IS NULL OR "
                       "expiration > $3::bigint) ORDER BY key";
    // One statement: atomic across every replica sharing the table.
    sql_.increment =
        "INSERT INTO " + t +
        " AS t (key, value, expiration) VALUES ($1, convert_to($2::bigint::text, 'UTF8'), "
        "$3::bigint) ON CONFLICT (key) DO UPDATE SET "
        "value = CASE WHEN t.expiration IS NOT NULL AND t.expiration <= $4::bigint "
        "THEN EXCLUDED.value "
        "ELSE convert_to((convert_from(t.value, 'UTF8')::bigint + $2::bigint)::text, 'UTF8') END, "
        "expiration = CASE WHEN t.expiration IS NOT NULL AND t.expiration <= $4::bigint "
        "THEN EXCLUDED.expiration ELSE t.expiration END "
        "RETURNING convert_from(value, 'UTF8')::bigint";
    // Serializes read-modify-writes of one key across connections and
    // replicas, whether or not its row exists yet. The table name seeds the
    // hash so two tables' keys do not contend.
    sql_.lock = "SELECT pg_advisory_xact_lock(hashtextextended($1, hashtext('" + t + "')))";
    sql_.purge = "DELETE FROM " + t + " WHERE expiration IS NOT NULL AND expiration <= $1::bigint";

    auto lease = pool_.acquire();
    lease.migrate({"CREATE TABLE IF NOT EXISTS " + t +
                   " (key TEXT COLLATE \"C\" PRIMARY KEY, value BYTEA NOT NULL, expiration "
                   "BIGINT)"});
    // Python Llama Stack's table of the same default name holds TEXT values
    // and TIMESTAMP expirations: refuse it clearly rather than fail later.
    auto layout = lease.run("kv_layout",
                            "SELECT data_type::text FROM information_schema.columns WHERE "
                            "table_name = $1 AND column_name = 'value' AND "
                            "table_schema = current_schema()",
                            {PgParam::text(t)});
    if (layout.rows() == 1 && layout.bytes(0, 0) != "bytea") {
      throw StorageError(pool_.address() + ": table '" + t +
                         "' exists with another layout (value " + layout.bytes(0, 0) +
                         "; a Python Llama Stack table?): set table_name to a table of its own");
    }
  }

  std::optional<std::string> get(std::string_view key) override {
    const StoreOpTimer timer("postgres", StoreOp::kGet);
    return with_lease(true, [&](PgPool::Lease& lease) -> std::optional<std::string> {
      auto r =
          lease.run("kv_get", sql_.get.c_str(), {PgParam::text(key), PgParam::integer(now_ms())});
      if (r.rows() == 0) return std::nullopt;
      return r.bytes(0, 0);
    });
  }

  void set(std::string_view key, std::string_view value,
           std::optional<Clock::time_point> expiration) override {
    const StoreOpTimer timer("postgres", StoreOp::kSet);
    with_lease(true, [&](PgPool::Lease& lease) {
      lease.run("kv_put", sql_.put.c_str(),
                {PgParam::text(key), PgParam::bytes(value), expiration_param(expiration)});
      return 0;
    });
  }

  void remove(std::string_view key) override {
    const StoreOpTimer timer("postgres", StoreOp::kRemove);
    with_lease(true, [&](PgPool::Lease& lease) {
      lease.run("kv_remove", sql_.remove.c_str(), {PgParam::text(key)});
      return 0;
    });
  }

  std::vector<std::pair<std::string, std::string>> range(std::string_view start_key,
                                                         std::string_view end_key) override {
    const StoreOpTimer timer("postgres", StoreOp::kRange);
    return with_lease(true, [&](PgPool::Lease& lease) {
      return collect(lease.run(
          "kv_range", sql_.range.c_str(),
          {PgParam::text(start_key), PgParam::text(end_key), PgParam::integer(now_ms())}));
    });
  }

  std::vector<std::pair<std::string, std::string>> scan_prefix(std::string_view prefix) override {
    const StoreOpTimer timer("postgres", StoreOp::kScan);
    return with_lease(true, [&](PgPool::Lease& lease) {
      return collect(lease.run(
          "kv_scan", sql_.scan_prefix.c_str(),
          {PgParam::text(prefix), PgParam::integer(static_cast<std::int64_t>(prefix.size())),
           PgParam::integer(now_ms())}));
    });
  }

  std::int64_t increment(std::string_view key, std::int64_t delta,
                         std::optional<Clock::time_point> expiration) override {
    const StoreOpTimer timer("postgres", StoreOp::kIncrement);
    // Not idempotent: a failure is reported, never retried blindly.
    return with_lease(false, [&](PgPool::Lease& lease) {
      auto r = lease.run("kv_increment", sql_.increment.c_str(),
                         {PgParam::text(key), PgParam::integer(delta), expiration_param(expiration),
                          PgParam::integer(now_ms())});
      if (r.rows() != 1) throw StorageError(pool_.address() + ": increment returned no row");
      return r.int64(0, 0);
    });
  }

  std::string update_entry(std::string_view key, const UpdateEntryFn& fn) override {
    const StoreOpTimer timer("postgres", StoreOp::kUpdate);
    return with_lease(false, [&](PgPool::Lease& lease) {
      lease.exec("BEGIN");
      try {
        lease.run("kv_lock", sql_.lock.c_str(), {PgParam::text(key)});
        std::optional<std::string> current;
        {
          auto r = lease.run("kv_get", sql_.get.c_str(),
                             {PgParam::text(key), PgParam::integer(now_ms())});
          if (r.rows() == 1) current = r.bytes(0, 0);
        }
        std::optional<StoredValue> next = fn(current);
        if (next) {
          lease.run("kv_put", sql_.put.c_str(),
                    {PgParam::text(key), PgParam::bytes(next->value),
                     expiration_param(next->expiration)});
        } else {
          lease.run("kv_remove", sql_.remove.c_str(), {PgParam::text(key)});
        }
        lease.exec("COMMIT");
        return next ? std::move(next->value) : std::string();
      } catch (...) {
        if (!lease.broken()) {
          try {
            lease.exec("ROLLBACK");
          } catch (const StorageError&) {  // the connection is dropped on release
          }
        }
        throw;
      }
    });
  }

  std::size_t concurrency() const override {
    return static_cast<std::size_t>(pool_.options().pool_size);
  }

  std::size_t purge_expired() override {
    return with_lease(true, [&](PgPool::Lease& lease) {
      return lease.run("kv_purge", sql_.purge.c_str(), {PgParam::integer(now_ms())}).affected();
    });
  }

 private:
  // Runs `body` on a pooled connection. A connection found broken (the
  // server restarted since it was opened) is replaced and, for operations
  // that may safely run twice, the body is retried once on a fresh one.
  template <typename Body>
  std::invoke_result_t<Body&, PgPool::Lease&> with_lease(bool idempotent, Body&& body) {
    for (int attempt = 0;; ++attempt) {
      auto lease = pool_.acquire();
      try {
        return body(lease);
      } catch (const StorageError&) {
        if (!lease.broken() || !idempotent || attempt > 0) throw;
      }
    }
  }

  static std::vector<std::pair<std::string, std::string>> collect(const PgResult& r) {
    std::vector<std::pair<std::string, std::string>> out;
    out.reserve(static_cast<std::size_t>(r.rows()));
    for (int i = 0; i < r.rows(); ++i) out.emplace_back(r.bytes(i, 0), r.bytes(i, 1));
    return out;
  }

  struct Statements {
    std::string get, put, remove, range, scan_prefix, increment, lock, purge;
  };

  PgPool pool_;
  Statements sql_;
};

}  // namespace

std::unique_ptr<KVStore> open_postgres_kvstore(const PostgresOptions& options) {
  return std::make_unique<PostgresKVStore>(options);
}

}  // namespace llama_stack::storage
