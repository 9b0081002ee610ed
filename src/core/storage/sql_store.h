// SqlStore: a small relational store for the records Llama Stack keeps in
// SQL (`inference_store`, and next responses, files, traces), modelled on
// Llama Stack's SqlStore: tables, upsert, filtered and ordered scans with
// keyset pagination, delete — no SQL text in callers, so a PostgreSQL
// backend plugs in beside SQLite without touching them.
//
// Table and column names must be identifiers ([A-Za-z_][A-Za-z0-9_]*);
// values are always bound, never spliced into SQL.
//
// Thread-safety: implementations are safe for concurrent use.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "llama_stack/storage/kvstore.h"

namespace llama_stack::storage {

// NULL, an integer, a real or text (JSON is stored as text).
using SqlValue = std::variant<std::monostate, std::int64_t, double, std::string>;
using SqlRow = std::map<std::string, SqlValue, std::less<>>;

enum class SqlType { kInteger, kReal, kText, kJson };

struct SqlColumn {
  std::string name;
  SqlType type = SqlType::kText;
  bool primary_key = false;
};

// `column = value` conditions, ANDed; a NULL value means IS NULL.
using SqlWhere = std::vector<std::pair<std::string, SqlValue>>;

struct SqlQuery {
  std::string table;
  SqlWhere where;
  // (column, descending), in priority order.
  std::vector<std::pair<std::string, bool>> order_by;
  // Keyset pagination: only rows that come after a row whose order_by
  // columns hold these values (one per order_by column), in that order.
  std::vector<SqlValue> after;
  std::optional<std::int64_t> limit;
};

class SqlStore {
 public:
  virtual ~SqlStore() = default;

  // Creates the table, or adds the columns an existing one lacks (its rows stay).
  virtual void create_table(const std::string& table, const std::vector<SqlColumn>& columns) = 0;
  virtual void create_index(const std::string& table, const std::string& index,
                            const std::vector<std::string>& columns) = 0;
  // Inserts `row`, replacing any row with the same primary key.
  virtual void upsert(const std::string& table, const SqlRow& row) = 0;
  // Calls `on_row` for each matching row, in order, until it returns false.
  virtual void scan(const SqlQuery& query, const std::function<bool(SqlRow row)>& on_row) = 0;
  // Deletes matching rows; returns how many.
  virtual std::size_t remove(const std::string& table, const SqlWhere& where) = 0;
  // Which backend ("sqlite", "postgres").
  virtual std::string_view dialect() const = 0;

  std::vector<SqlRow> fetch(const SqlQuery& query);
  std::optional<SqlRow> fetch_one(SqlQuery query);
};

// Typed reads of a row's columns (absent or of another type → default).
std::int64_t sql_int(const SqlRow& row, std::string_view column, std::int64_t fallback = 0);
std::string sql_text(const SqlRow& row, std::string_view column);
bool sql_is_null(const SqlRow& row, std::string_view column);

// SQLite (WAL): the file is created with its parent folders. Throws StorageError.
std::shared_ptr<SqlStore> open_sqlite_sql_store(const std::string& db_path);

// PostgreSQL (pooled connections; reconnects after the server restarts).
// Throws StorageError naming the server when it cannot connect.
std::shared_ptr<SqlStore> open_postgres_sql_store(const PostgresOptions& options);

}  // namespace llama_stack::storage
