#include "core/storage/inference_store.h"

#include <sqlite3.h>

#include <filesystem>

#include "core/log/log.h"
#include "llama_stack/storage/kvstore.h"

namespace llama_stack::storage {
namespace {

constexpr std::size_t kMaxQueue = 10'000;

class Stmt {
 public:
  Stmt(sqlite3* db, const char* sql) : db_(db) {
    if (sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr) != SQLITE_OK) {
      throw StorageError(std::string("inference store: ") + sqlite3_errmsg(db));
    }
  }
  ~Stmt() { sqlite3_finalize(stmt_); }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  Stmt& text(int i, std::string_view s) {
    sqlite3_bind_text(stmt_, i, s.data(), static_cast<int>(s.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Stmt& integer(int i, std::int64_t v) {
    sqlite3_bind_int64(stmt_, i, v);
    return *this;
  }
  bool step() {
    int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    throw StorageError(std::string("inference store: ") + sqlite3_errmsg(db_));
  }
  std::string column_text(int i) const {
    const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, i));
    return p == nullptr ? std::string() : std::string(p);
  }
  std::int64_t column_int(int i) const { return sqlite3_column_int64(stmt_, i); }

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
};

json::value owner_of(const Stmt& s) {
  const std::string text = s.column_text(5);
  if (text.empty()) return nullptr;
  try {
    return parse_json(text);
  } catch (const std::exception&) {
    return nullptr;
  }
}

json::object row_to_object(const Stmt& s) {
  // columns: id, created, model, choices, input_messages
  json::object out{{"id", s.column_text(0)},
                   {"object", "chat.completion"},
                   {"created", s.column_int(1)},
                   {"model", s.column_text(2)}};
  try {
    out["choices"] = parse_json(s.column_text(3));
    out["input_messages"] = parse_json(s.column_text(4));
  } catch (const std::exception& e) {
    LS_WARN(kInference, "inference store row {} is corrupt: {}", s.column_text(0), e.what());
    out["choices"] = json::array{};
    out["input_messages"] = json::array{};
  }
  return out;
}

}  // namespace

InferenceStore::InferenceStore(const std::string& db_path) {
  std::error_code ec;
  const auto parent = std::filesystem::path(db_path).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  if (sqlite3_open_v2(db_path.c_str(), &db_,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                      nullptr) != SQLITE_OK) {
    std::string message = db_ != nullptr ? sqlite3_errmsg(db_) : "out of memory";
    sqlite3_close(db_);
    db_ = nullptr;
    throw StorageError("cannot open inference store '" + db_path + "': " + message);
  }
  sqlite3_busy_timeout(db_, 5000);
  for (const char* sql :
       {"PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL",
        "CREATE TABLE IF NOT EXISTS chat_completions (id TEXT PRIMARY KEY, created INTEGER, "
        "model TEXT, choices TEXT, input_messages TEXT)",
        "CREATE INDEX IF NOT EXISTS chat_completions_created ON chat_completions(created)"}) {
    char* error = nullptr;
    if (sqlite3_exec(db_, sql, nullptr, nullptr, &error) != SQLITE_OK) {
      std::string message = error != nullptr ? error : "unknown error";
      sqlite3_free(error);
      sqlite3_close(db_);
      db_ = nullptr;
      throw StorageError("inference store '" + db_path + "': " + message);
    }
  }
  // The owner column (for access checks) came after the first schema.
  if (sqlite3_exec(db_, "SELECT owner FROM chat_completions LIMIT 0", nullptr, nullptr, nullptr) !=
      SQLITE_OK) {
    char* error = nullptr;
    if (sqlite3_exec(db_, "ALTER TABLE chat_completions ADD COLUMN owner TEXT", nullptr, nullptr,
                     &error) != SQLITE_OK) {
      std::string message = error != nullptr ? error : "unknown error";
      sqlite3_free(error);
      sqlite3_close(db_);
      db_ = nullptr;
      throw StorageError("inference store '" + db_path + "': " + message);
    }
  }
  writer_ = std::thread([this] { writer_loop(); });
}

InferenceStore::~InferenceStore() {
  {
    std::lock_guard lock(queue_mutex_);
    stopping_ = true;
  }
  queue_changed_.notify_all();
  if (writer_.joinable()) writer_.join();
  if (db_ != nullptr) sqlite3_close(db_);
}

void InferenceStore::record(json::object completion, json::array input_messages,
                            json::value owner) {
  std::unique_lock lock(queue_mutex_);
  queue_changed_.wait(lock, [this] { return queue_.size() < kMaxQueue || stopping_; });
  queue_.push_back({std::move(completion), std::move(input_messages), std::move(owner)});
  queue_changed_.notify_all();
}

void InferenceStore::writer_loop() {
  std::unique_lock lock(queue_mutex_);
  for (;;) {
    queue_changed_.wait(lock, [this] { return !queue_.empty() || stopping_; });
    if (queue_.empty() && stopping_) return;
    Pending pending = std::move(queue_.front());
    queue_.pop_front();
    ++in_flight_;
    lock.unlock();
    try {
      write(pending);
    } catch (const std::exception& e) {
      LS_ERROR(kInference, "inference store write failed: {}", e.what());
    }
    lock.lock();
    --in_flight_;
    queue_changed_.notify_all();
  }
}

void InferenceStore::write(const Pending& pending) {
  const auto& c = pending.completion;
  auto str = [&](std::string_view key) -> std::string {
    auto it = c.find(key);
    return it != c.end() && it->value().is_string() ? std::string(it->value().get_string()) : "";
  };
  std::int64_t created = 0;
  if (auto it = c.find("created"); it != c.end() && it->value().is_int64())
    created = it->value().get_int64();
  json::value choices = json::array{};
  if (auto it = c.find("choices"); it != c.end()) choices = it->value();
  std::lock_guard lock(db_mutex_);
  Stmt s(db_,
         "INSERT OR REPLACE INTO chat_completions (id, created, model, choices, input_messages, "
         "owner) VALUES (?, ?, ?, ?, ?, ?)");
  s.text(1, str("id"))
      .integer(2, created)
      .text(3, str("model"))
      .text(4, to_json(choices))
      .text(5, to_json(pending.input_messages))
      .text(6, to_json(pending.owner));
  s.step();
}

void InferenceStore::flush() {
  std::unique_lock lock(queue_mutex_);
  queue_changed_.wait(lock, [this] { return queue_.empty() && in_flight_ == 0; });
}

std::optional<InferenceStore::Page> InferenceStore::list(const std::optional<std::string>& after,
                                                         int limit, bool descending,
                                                         const std::optional<std::string>& model,
                                                         const Visible& visible) {
  flush();
  std::lock_guard lock(db_mutex_);
  std::int64_t cursor_created = 0, cursor_rowid = 0;
  if (after) {
    Stmt c(db_, "SELECT created, rowid FROM chat_completions WHERE id = ?");
    c.text(1, *after);
    if (!c.step()) return std::nullopt;
    cursor_created = c.column_int(0);
    cursor_rowid = c.column_int(1);
  }
  std::string sql =
      "SELECT id, created, model, choices, input_messages, owner FROM chat_completions WHERE 1=1";
  if (model) sql += " AND model = ?1";
  if (after) {
    sql += descending ? " AND (created < ?2 OR (created = ?2 AND rowid < ?3))"
                      : " AND (created > ?2 OR (created = ?2 AND rowid > ?3))";
  }
  sql += descending ? " ORDER BY created DESC, rowid DESC" : " ORDER BY created ASC, rowid ASC";
  Stmt s(db_, sql.c_str());
  if (model) s.text(1, *model);
  if (after) s.integer(2, cursor_created).integer(3, cursor_rowid);
  Page page;
  while (s.step()) {
    if (visible && !visible(owner_of(s))) continue;
    if (static_cast<int>(page.data.size()) == limit) {
      page.has_more = true;
      break;
    }
    page.data.push_back(row_to_object(s));
  }
  return page;
}

std::optional<json::object> InferenceStore::get(const std::string& id, const Visible& visible) {
  flush();
  std::lock_guard lock(db_mutex_);
  Stmt s(db_,
         "SELECT id, created, model, choices, input_messages, owner FROM chat_completions WHERE "
         "id = ?");
  s.text(1, id);
  if (!s.step()) return std::nullopt;
  if (visible && !visible(owner_of(s))) return std::nullopt;
  return row_to_object(s);
}

}  // namespace llama_stack::storage
