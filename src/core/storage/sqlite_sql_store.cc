// SqlStore on SQLite: one connection (serialized mode) behind a mutex;
// statements are built from checked identifiers with bound values.
#include <sqlite3.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <mutex>

#include "core/storage/sql_build.h"
#include "core/storage/sql_store.h"
#include "llama_stack/storage/kvstore.h"

namespace llama_stack::storage {
namespace {

const char* sql_type(SqlType type) {
  switch (type) {
    case SqlType::kInteger:
      return "INTEGER";
    case SqlType::kReal:
      return "REAL";
    case SqlType::kText:
    case SqlType::kJson:
      return "TEXT";
  }
  return "TEXT";
}

class Statement {
 public:
  Statement(sqlite3* db, const std::string& sql) : db_(db) {
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt_, nullptr) != SQLITE_OK) {
      throw StorageError(std::string("sql store: ") + sqlite3_errmsg(db));
    }
  }
  ~Statement() { sqlite3_finalize(stmt_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  void bind(const SqlValue& value) {
    const int i = ++bound_;
    if (const auto* v = std::get_if<std::int64_t>(&value)) {
      sqlite3_bind_int64(stmt_, i, *v);
    } else if (const auto* d = std::get_if<double>(&value)) {
      sqlite3_bind_double(stmt_, i, *d);
    } else if (const auto* s = std::get_if<std::string>(&value)) {
      sqlite3_bind_text(stmt_, i, s->data(), static_cast<int>(s->size()), SQLITE_TRANSIENT);
    } else {
      sqlite3_bind_null(stmt_, i);
    }
  }
  bool step() {
    const int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    throw StorageError(std::string("sql store: ") + sqlite3_errmsg(db_));
  }
  SqlRow row() const {
    SqlRow out;
    for (int i = 0, n = sqlite3_column_count(stmt_); i < n; ++i) {
      std::string name = sqlite3_column_name(stmt_, i);
      switch (sqlite3_column_type(stmt_, i)) {
        case SQLITE_INTEGER:
          out.emplace(std::move(name), static_cast<std::int64_t>(sqlite3_column_int64(stmt_, i)));
          break;
        case SQLITE_FLOAT:
          out.emplace(std::move(name), sqlite3_column_double(stmt_, i));
          break;
        case SQLITE_NULL:
          out.emplace(std::move(name), std::monostate{});
          break;
        default: {
          const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, i));
          out.emplace(std::move(name),
                      std::string(text, static_cast<std::size_t>(sqlite3_column_bytes(stmt_, i))));
        }
      }
    }
    return out;
  }

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
  int bound_ = 0;
};

using sql::identifier;
constexpr auto kMarks = sql::Placeholders::kQuestionMark;

class SqliteSqlStore final : public SqlStore {
 public:
  explicit SqliteSqlStore(const std::string& path) {
    std::error_code ec;
    const auto parent = std::filesystem::path(path).parent_path();
    if (!parent.empty()) std::filesystem::create_directories(parent, ec);
    if (sqlite3_open_v2(path.c_str(), &db_,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                        nullptr) != SQLITE_OK) {
      std::string message = db_ != nullptr ? sqlite3_errmsg(db_) : "out of memory";
      sqlite3_close(db_);
      db_ = nullptr;
      throw StorageError("cannot open '" + path + "': " + message);
    }
    sqlite3_busy_timeout(db_, 5000);
    try {
      exec("PRAGMA journal_mode=WAL");
      exec("PRAGMA synchronous=NORMAL");
    } catch (const StorageError& e) {
      sqlite3_close(db_);
      db_ = nullptr;
      throw StorageError("'" + path + "': " + e.what());
    }
  }
  ~SqliteSqlStore() override { sqlite3_close(db_); }

  void create_table(const std::string& table, const std::vector<SqlColumn>& columns) override {
    std::lock_guard lock(mutex_);
    std::string sql = "CREATE TABLE IF NOT EXISTS " + identifier(table) + " (";
    for (std::size_t i = 0; i < columns.size(); ++i) {
      if (i > 0) sql += ", ";
      sql += identifier(columns[i].name) + " " + sql_type(columns[i].type);
      if (columns[i].primary_key) sql += " PRIMARY KEY";
    }
    exec(sql + ")");
    // Columns added since the table was first created.
    std::vector<std::string> present;
    Statement info(db_, "PRAGMA table_info(" + table + ")");
    while (info.step()) present.push_back(sql_text(info.row(), "name"));
    for (const auto& column : columns) {
      if (std::find(present.begin(), present.end(), column.name) != present.end()) continue;
      exec("ALTER TABLE " + table + " ADD COLUMN " + column.name + " " + sql_type(column.type));
    }
  }

  void create_index(const std::string& table, const std::string& index,
                    const std::vector<std::string>& columns) override {
    std::lock_guard lock(mutex_);
    std::string sql =
        "CREATE INDEX IF NOT EXISTS " + identifier(index) + " ON " + identifier(table) + "(";
    for (std::size_t i = 0; i < columns.size(); ++i) {
      sql += (i > 0 ? ", " : "") + identifier(columns[i]);
    }
    exec(sql + ")");
  }

  void upsert(const std::string& table, const SqlRow& row) override {
    std::string names, marks;
    for (const auto& [column, value] : row) {
      names += (names.empty() ? "" : ", ") + identifier(column);
      marks += marks.empty() ? "?" : ", ?";
    }
    std::lock_guard lock(mutex_);
    Statement s(db_, "INSERT OR REPLACE INTO " + identifier(table) + " (" + names + ") VALUES (" +
                         marks + ")");
    for (const auto& [column, value] : row) s.bind(value);
    s.step();
  }

  void scan(const SqlQuery& query, const std::function<bool(SqlRow row)>& on_row) override {
    std::vector<SqlValue> values;
    const std::string sql = sql::select(query, values, kMarks);
    std::lock_guard lock(mutex_);
    Statement s(db_, sql);
    for (const auto& v : values) s.bind(v);
    while (s.step()) {
      if (!on_row(s.row())) break;
    }
  }

  std::size_t remove(const std::string& table, const SqlWhere& where) override {
    std::vector<SqlValue> values;
    const std::string sql =
        "DELETE FROM " + identifier(table) + sql::where_clause(where, values, kMarks);
    std::lock_guard lock(mutex_);
    Statement s(db_, sql);
    for (const auto& v : values) s.bind(v);
    s.step();
    return static_cast<std::size_t>(sqlite3_changes(db_));
  }

  std::string_view dialect() const override { return "sqlite"; }

 private:
  void exec(const std::string& sql) {
    char* error = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &error) != SQLITE_OK) {
      std::string message = error != nullptr ? error : "unknown error";
      sqlite3_free(error);
      throw StorageError("sql store: " + message);
    }
  }

  sqlite3* db_ = nullptr;
  std::mutex mutex_;
};

}  // namespace

std::vector<SqlRow> SqlStore::fetch(const SqlQuery& query) {
  std::vector<SqlRow> rows;
  scan(query, [&](SqlRow row) {
    rows.push_back(std::move(row));
    return true;
  });
  return rows;
}

std::optional<SqlRow> SqlStore::fetch_one(SqlQuery query) {
  query.limit = 1;
  std::optional<SqlRow> out;
  scan(query, [&](SqlRow row) {
    out = std::move(row);
    return false;
  });
  return out;
}

std::int64_t sql_int(const SqlRow& row, std::string_view column, std::int64_t fallback) {
  auto it = row.find(column);
  if (it == row.end()) return fallback;
  if (const auto* v = std::get_if<std::int64_t>(&it->second)) return *v;
  return fallback;
}

std::string sql_text(const SqlRow& row, std::string_view column) {
  auto it = row.find(column);
  if (it == row.end()) return {};
  if (const auto* s = std::get_if<std::string>(&it->second)) return *s;
  return {};
}

bool sql_is_null(const SqlRow& row, std::string_view column) {
  auto it = row.find(column);
  return it == row.end() || std::holds_alternative<std::monostate>(it->second);
}

std::shared_ptr<SqlStore> open_sqlite_sql_store(const std::string& db_path) {
  return std::make_shared<SqliteSqlStore>(db_path);
}

}  // namespace llama_stack::storage
