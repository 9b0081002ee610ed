// SqlStore on PostgreSQL: the same tables, upserts and keyset scans as the
// SQLite store, on the shared connection pool. Text columns use the "C"
// collation so ordering is bytewise, as in SQLite.
#include <libpq-fe.h>

#include <cstdio>
#include <functional>
#include <map>
#include <mutex>

#include "core/storage/pg_pool.h"
#include "core/storage/sql_build.h"
#include "core/storage/sql_store.h"

namespace llama_stack::storage {
namespace {

// Type OIDs (pg_type.h is a server header).
constexpr Oid kBool = 16, kInt8 = 20, kInt2 = 21, kInt4 = 23, kFloat4 = 700, kFloat8 = 701;

using sql::identifier;
constexpr auto kMarks = sql::Placeholders::kNumbered;

const char* sql_type(SqlType type) {
  switch (type) {
    case SqlType::kInteger:
      return "BIGINT";
    case SqlType::kReal:
      return "DOUBLE PRECISION";
    case SqlType::kText:
    case SqlType::kJson:
      return "TEXT COLLATE \"C\"";
  }
  return "TEXT";
}

PgParam param(const SqlValue& value) {
  if (const auto* v = std::get_if<std::int64_t>(&value)) return PgParam::integer(*v);
  if (const auto* d = std::get_if<double>(&value)) {
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%.17g", *d);
    return PgParam::text(buffer);
  }
  if (const auto* s = std::get_if<std::string>(&value)) return PgParam::text(*s);
  return PgParam::null();
}

std::vector<PgParam> params_of(const std::vector<SqlValue>& values) {
  std::vector<PgParam> params;
  params.reserve(values.size());
  for (const auto& v : values) params.push_back(param(v));
  return params;
}

// A name for a statement, stable for its text (prepared once per connection).
std::string statement_name(const std::string& sql) {
  return "sql_" + std::to_string(std::hash<std::string>{}(sql));
}

class PostgresSqlStore final : public SqlStore {
 public:
  explicit PostgresSqlStore(const PostgresOptions& options) : pool_(options) {}

  void create_table(const std::string& table, const std::vector<SqlColumn>& columns) override {
    std::string sql = "CREATE TABLE IF NOT EXISTS " + identifier(table) + " (";
    std::string key;
    for (std::size_t i = 0; i < columns.size(); ++i) {
      if (i > 0) sql += ", ";
      sql += identifier(columns[i].name) + " " + sql_type(columns[i].type);
      if (columns[i].primary_key) {
        sql += " PRIMARY KEY";
        key = columns[i].name;
      }
    }
    sql += ")";
    std::vector<std::string> statements{sql};
    for (const auto& column : columns) {
      if (column.primary_key) continue;
      statements.push_back("ALTER TABLE " + table + " ADD COLUMN IF NOT EXISTS " + column.name +
                           " " + sql_type(column.type));
    }
    pool_.acquire().migrate(statements);
    std::lock_guard lock(mutex_);
    primary_keys_[table] = key;
  }

  void create_index(const std::string& table, const std::string& index,
                    const std::vector<std::string>& columns) override {
    std::string sql =
        "CREATE INDEX IF NOT EXISTS " + identifier(index) + " ON " + identifier(table) + "(";
    for (std::size_t i = 0; i < columns.size(); ++i) {
      sql += (i > 0 ? ", " : "") + identifier(columns[i]);
    }
    sql += ")";
    pool_.acquire().migrate({sql});
  }

  void upsert(const std::string& table, const SqlRow& row) override {
    const std::string key = primary_key(table);
    std::string names, marks, updates;
    std::vector<PgParam> params;
    for (const auto& [column, value] : row) {
      names += (names.empty() ? "" : ", ") + identifier(column);
      params.push_back(param(value));
      marks += (marks.empty() ? "$" : ", $") + std::to_string(params.size());
      if (column != key)
        updates += (updates.empty() ? "" : ", ") + column + " = EXCLUDED." + column;
    }
    std::string sql =
        "INSERT INTO " + identifier(table) + " (" + names + ") VALUES (" + marks + ")";
    if (!key.empty()) {
      sql += " ON CONFLICT (" + key + ") DO " +
             (updates.empty() ? std::string("NOTHING") : "UPDATE SET " + updates);
    }
    run(sql, params, true);
  }

  void scan(const SqlQuery& query, const std::function<bool(SqlRow row)>& on_row) override {
    std::vector<SqlValue> values;
    const std::string sql = sql::select(query, values, kMarks);
    const std::vector<PgParam> params = params_of(values);
    const PgResult result = run(sql, params, true);
    for (int i = 0; i < result.rows(); ++i) {
      SqlRow row;
      for (int c = 0; c < result.columns(); ++c) {
        std::string name = result.column_name(c);
        if (result.is_null(i, c)) {
          row.emplace(std::move(name), std::monostate{});
          continue;
        }
        switch (result.column_type(c)) {
          case kBool:
          case kInt2:
          case kInt4:
          case kInt8:
            row.emplace(std::move(name), result.int64(i, c));
            break;
          case kFloat4:
          case kFloat8:
            row.emplace(std::move(name), result.float64(i, c));
            break;
          default:
            row.emplace(std::move(name), result.bytes(i, c));
        }
      }
      if (!on_row(std::move(row))) break;
    }
  }

  std::size_t remove(const std::string& table, const SqlWhere& where) override {
    std::vector<SqlValue> values;
    const std::string sql =
        "DELETE FROM " + identifier(table) + sql::where_clause(where, values, kMarks);
    return run(sql, params_of(values), true).affected();
  }

  std::string_view dialect() const override { return "postgres"; }

 private:
  std::string primary_key(const std::string& table) {
    std::lock_guard lock(mutex_);
    auto it = primary_keys_.find(table);
    if (it == primary_keys_.end()) {
      throw StorageError("sql store: table '" + table + "' was not created by this store");
    }
    return it->second;
  }

  // Every statement here may run twice (upserts, reads, deletes by key), so
  // one on a connection found broken is retried once on a fresh one.
  PgResult run(const std::string& sql, const std::vector<PgParam>& params, bool idempotent) {
    const std::string name = statement_name(sql);
    for (int attempt = 0;; ++attempt) {
      auto lease = pool_.acquire();
      try {
        return lease.run(name, sql.c_str(), params);
      } catch (const StorageError&) {
        if (!lease.broken() || !idempotent || attempt > 0) throw;
      }
    }
  }

  PgPool pool_;
  std::mutex mutex_;
  std::map<std::string, std::string, std::less<>> primary_keys_;  // guarded by mutex_
};

}  // namespace

std::shared_ptr<SqlStore> open_postgres_sql_store(const PostgresOptions& options) {
  return std::make_shared<PostgresSqlStore>(options);
}

}  // namespace llama_stack::storage
