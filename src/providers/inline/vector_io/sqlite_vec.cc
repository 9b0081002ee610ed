// inline::sqlite-vec (and the deprecated spelling inline::sqlite_vec): our
// own implementation of what Llama Stack's sqlite-vec provider does — chunks,
// their vectors and an FTS5 full-text index in one SQLite file; vector,
// keyword and hybrid search. The sqlite-vec extension itself is not packaged
// for Debian 12, so vectors are searched exactly in memory (loaded from the
// file at startup, kept in step with every insert) and keyword search is
// SQLite's FTS5 with BM25.
//
// Schema: vector_dbs(id, record); chunks(seq, vector_db_id, id, stored) with
// stored = providers/utils/vector_search.h's form; chunks_fts(content) (FTS5,
// rowid = the chunk's seq).
#include <sqlite3.h>

#include <filesystem>
#include <mutex>
#include <shared_mutex>
#include <unordered_map>

#include "core/config/config_node.h"
#include "core/log/log.h"
#include "core/util/api_error.h"
#include "llama_stack/async/thread_pool.h"
#include "llama_stack/providers/provider.h"
#include "llama_stack/storage/kvstore.h"
#include "providers/inline/inline_providers.h"
#include "providers/utils/vector_search.h"

namespace llama_stack::providers::inline_ {
namespace {

using config::ConfigNode;
using config::Diagnostics;
using config::MapReader;

struct SqliteVecConfig {
  std::string db_path;

  static SqliteVecConfig parse(const ConfigNode& node, Diagnostics& diagnostics) {
    SqliteVecConfig c;
    MapReader r(node, diagnostics);
    c.db_path = r.path("db_path").value_or("");
    if (c.db_path.empty()) {
      diagnostics.error(node.location, node.path + ".db_path", "required key is missing");
    }
    r.accept({"kvstore"});  // later Llama Stack versions keep vector DB records there
    r.finish();
    return c;
  }
};

// A prepared statement, finalized on scope exit.
class Statement {
 public:
  Statement(sqlite3* db, const char* sql) : db_(db) {
    if (sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr) != SQLITE_OK) {
      throw storage::StorageError(std::string("sqlite-vec: ") + sqlite3_errmsg(db));
    }
  }
  ~Statement() { sqlite3_finalize(stmt_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  Statement& bind(int i, std::string_view text) {
    sqlite3_bind_text(stmt_, i, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Statement& bind(int i, std::int64_t v) {
    sqlite3_bind_int64(stmt_, i, v);
    return *this;
  }
  bool step() {
    const int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    throw storage::StorageError(std::string("sqlite-vec: ") + sqlite3_errmsg(db_));
  }
  std::string text(int column) const {
    const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, column));
    return p == nullptr ? std::string() : std::string(p, sqlite3_column_bytes(stmt_, column));
  }
  double real(int column) const { return sqlite3_column_double(stmt_, column); }
  std::int64_t integer(int column) const { return sqlite3_column_int64(stmt_, column); }
  // For the next row of a batch: the same statement, new bindings.
  void reset() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
};

struct Collection {
  explicit Collection(std::size_t dimension) : dimension(dimension), vectors(dimension) {}
  std::size_t dimension;
  utils::FlatIndex vectors;
  std::unordered_map<std::string, apis::Chunk> chunks;
  std::shared_mutex mutex;
};

class SqliteVecIO final : public VectorIOProvider {
 public:
  SqliteVecIO(ProviderContext context, SqliteVecConfig config)
      : context_(std::move(context)), config_(std::move(config)) {}
  ~SqliteVecIO() override { close(); }

  void initialize() override {
    const std::filesystem::path path(config_.db_path);
    if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path());
    if (sqlite3_open_v2(config_.db_path.c_str(), &db_,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                        nullptr) != SQLITE_OK) {
      const std::string message = db_ != nullptr ? sqlite3_errmsg(db_) : "out of memory";
      close();
      throw storage::StorageError("sqlite-vec: cannot open '" + config_.db_path + "': " + message);
    }
    sqlite3_busy_timeout(db_, 5000);
    exec("PRAGMA journal_mode=WAL");
    exec("CREATE TABLE IF NOT EXISTS vector_dbs (id TEXT PRIMARY KEY, record TEXT NOT NULL)");
    exec(
        "CREATE TABLE IF NOT EXISTS chunks (seq INTEGER PRIMARY KEY AUTOINCREMENT, "
        "vector_db_id TEXT NOT NULL, id TEXT NOT NULL, stored TEXT NOT NULL, "
        "UNIQUE (vector_db_id, id))");
    exec(
        "CREATE VIRTUAL TABLE IF NOT EXISTS chunks_fts USING fts5(vector_db_id UNINDEXED, "
        "id UNINDEXED, content)");
    std::size_t total = 0;
    Statement dbs(db_, "SELECT id, record FROM vector_dbs");
    while (dbs.step()) {
      const std::string id = dbs.text(0);
      const apis::VectorDB record = apis::VectorDB::from_json(parse_json(dbs.text(1)));
      auto c = std::make_shared<Collection>(static_cast<std::size_t>(record.embedding_dimension));
      Statement rows(db_, "SELECT stored FROM chunks WHERE vector_db_id = ? ORDER BY seq");
      rows.bind(1, id);
      while (rows.step()) {
        try {
          apis::Chunk chunk = utils::decode_stored_chunk(rows.text(0));
          c->vectors.add(chunk.id, chunk.embedding);
          std::string chunk_id = chunk.id;
          c->chunks[chunk_id] = std::move(chunk);
        } catch (const std::exception& e) {
          LS_WARN(kCore, "{}: an unreadable chunk of '{}' skipped: {}", context_.provider_id, id,
                  e.what());
        }
      }
      total += c->chunks.size();
      collections_[id] = std::move(c);
    }
    LS_INFO(kCore, "{} (inline::sqlite-vec): {} vector database(s), {} chunk(s) in {}",
            context_.provider_id, collections_.size(), total, config_.db_path);
  }

  void shutdown() noexcept override { close(); }

  void health(std::function<void(HealthResponse)> done) override {
    std::lock_guard lock(db_mutex_);
    done(db_ != nullptr ? HealthResponse{"OK", ""} : HealthResponse{"Error", "not open"});
  }

  void register_vector_db(const apis::VectorDB& vector_db) override {
    std::lock_guard lock(collections_mutex_);
    auto it = collections_.find(vector_db.identifier);
    const auto dimension = static_cast<std::size_t>(vector_db.embedding_dimension);
    {
      std::lock_guard db_lock(db_mutex_);
      if (it != collections_.end() && it->second->dimension != dimension) {
        LS_WARN(kCore,
                "{}: vector DB '{}' registered with dimension {} (was {}): its chunks are "
                "dropped",
                context_.provider_id, vector_db.identifier, dimension, it->second->dimension);
        delete_chunks(vector_db.identifier);
        it = collections_.end();
      }
      Statement upsert(db_,
                       "INSERT INTO vector_dbs (id, record) VALUES (?, ?) ON CONFLICT(id) "
                       "DO UPDATE SET record = excluded.record");
      upsert.bind(1, vector_db.identifier).bind(2, to_json(vector_db.to_json())).step();
    }
    if (it == collections_.end()) {
      collections_[vector_db.identifier] = std::make_shared<Collection>(dimension);
    }
  }

  void unregister_vector_db(const std::string& vector_db_id) override {
    std::lock_guard lock(collections_mutex_);
    {
      std::lock_guard db_lock(db_mutex_);
      delete_chunks(vector_db_id);
      Statement drop(db_, "DELETE FROM vector_dbs WHERE id = ?");
      drop.bind(1, vector_db_id).step();
    }
    collections_.erase(vector_db_id);
  }

  async::Task<void> insert_chunks(const apis::CallContext& context, const apis::VectorDB& vector_db,
                                  std::vector<apis::Chunk> chunks) override {
    std::shared_ptr<Collection> c = find(vector_db);
    auto work = async::offload<void>(context.executor, workers(), [&] {
      std::unique_lock lock(c->mutex);
      {
        // One transaction: the chunks land together or not at all.
        std::lock_guard db_lock(db_mutex_);
        exec("BEGIN IMMEDIATE");
        try {
          Statement existing(db_, "SELECT seq FROM chunks WHERE vector_db_id = ? AND id = ?");
          Statement put(db_,
                        "INSERT INTO chunks (vector_db_id, id, stored) VALUES (?, ?, ?) "
                        "ON CONFLICT(vector_db_id, id) DO UPDATE SET stored = excluded.stored "
                        "RETURNING seq");
          Statement old(db_, "DELETE FROM chunks_fts WHERE rowid = ?");
          Statement fts(db_, "INSERT INTO chunks_fts (rowid, content) VALUES (?, ?)");
          for (const auto& chunk : chunks) {
            existing.bind(1, vector_db.identifier).bind(2, chunk.id);
            if (existing.step()) old.bind(1, existing.integer(0)).step();
            existing.reset();
            old.reset();
            put.bind(1, vector_db.identifier)
                .bind(2, chunk.id)
                .bind(3, utils::encode_stored_chunk(chunk));
            if (!put.step()) throw storage::StorageError("sqlite-vec: upsert returned no row");
            const std::int64_t seq = put.integer(0);
            while (put.step()) {
            }
            put.reset();
            fts.bind(1, seq).bind(2, chunk.text).step();
            fts.reset();
          }
          exec("COMMIT");
        } catch (...) {
          exec("ROLLBACK");
          throw;
        }
      }
      for (auto& chunk : chunks) {
        c->vectors.add(chunk.id, chunk.embedding);
        std::string id = chunk.id;
        c->chunks[id] = std::move(chunk);
      }
    });
    co_await work;
  }

  async::Task<void> delete_chunks(const apis::CallContext& context, const apis::VectorDB& vector_db,
                                  std::vector<std::string> chunk_ids) override {
    std::shared_ptr<Collection> c = find(vector_db);
    auto work = async::offload<void>(context.executor, workers(), [&] {
      std::unique_lock lock(c->mutex);
      {
        std::lock_guard db_lock(db_mutex_);
        exec("BEGIN IMMEDIATE");
        try {
          Statement drop(db_, "DELETE FROM chunks WHERE vector_db_id = ? AND id = ? RETURNING seq");
          Statement fts(db_, "DELETE FROM chunks_fts WHERE rowid = ?");
          for (const auto& id : chunk_ids) {
            drop.bind(1, vector_db.identifier).bind(2, id);
            std::vector<std::int64_t> seqs;
            while (drop.step()) seqs.push_back(drop.integer(0));
            drop.reset();
            for (std::int64_t seq : seqs) {
              fts.bind(1, seq).step();
              fts.reset();
            }
          }
          exec("COMMIT");
        } catch (...) {
          exec("ROLLBACK");
          throw;
        }
      }
      for (const auto& id : chunk_ids) {
        c->vectors.remove(id);
        c->chunks.erase(id);
      }
    });
    co_await work;
  }

  async::Task<std::vector<apis::Chunk>> list_chunks(const apis::CallContext& context,
                                                    const apis::VectorDB& vector_db,
                                                    apis::ChunkFilter keep) override {
    std::shared_ptr<Collection> c = find(vector_db);
    auto work = async::offload<std::vector<apis::Chunk>>(context.executor, workers(), [&] {
      std::shared_lock lock(c->mutex);
      std::vector<std::string> ids;
      {
        std::lock_guard db_lock(db_mutex_);
        Statement s(db_, "SELECT id FROM chunks WHERE vector_db_id = ? ORDER BY seq");
        s.bind(1, vector_db.identifier);
        while (s.step()) ids.push_back(s.text(0));
      }
      std::vector<apis::Chunk> out;
      for (const auto& id : ids) {
        auto it = c->chunks.find(id);
        if (it != c->chunks.end() && (!keep || keep(it->second))) out.push_back(it->second);
      }
      return out;
    });
    co_return co_await work;
  }

  async::Task<apis::QueryChunksResponse> query_chunks(const apis::CallContext& context,
                                                      const apis::VectorDB& vector_db,
                                                      apis::VectorQuery query) override {
    std::shared_ptr<Collection> c = find(vector_db);
    auto work = async::offload<apis::QueryChunksResponse>(
        context.executor, workers(), [&]() { return search(vector_db.identifier, *c, query); });
    co_return co_await work;
  }

 private:
  async::Executor& workers() const {
    if (context_.workers == nullptr) {
      throw ApiError::internal("inline::sqlite-vec: no worker threads");
    }
    return *context_.workers;
  }

  void exec(const char* sql) {
    char* error = nullptr;
    if (sqlite3_exec(db_, sql, nullptr, nullptr, &error) != SQLITE_OK) {
      std::string message = error != nullptr ? error : "unknown error";
      sqlite3_free(error);
      throw storage::StorageError("sqlite-vec: " + message);
    }
  }

  void close() {
    std::lock_guard lock(db_mutex_);
    if (db_ != nullptr) sqlite3_close_v2(db_);
    db_ = nullptr;
  }

  // REQUIRES: db_mutex_.
  void delete_chunks(const std::string& vector_db_id) {
    Statement fts(db_,
                  "DELETE FROM chunks_fts WHERE rowid IN (SELECT seq FROM chunks WHERE "
                  "vector_db_id = ?)");
    fts.bind(1, vector_db_id).step();
    Statement chunks(db_, "DELETE FROM chunks WHERE vector_db_id = ?");
    chunks.bind(1, vector_db_id).step();
  }

  std::shared_ptr<Collection> find(const apis::VectorDB& vector_db) {
    {
      std::lock_guard lock(collections_mutex_);
      auto it = collections_.find(vector_db.identifier);
      if (it != collections_.end()) return it->second;
    }
    register_vector_db(vector_db);  // known to the registry but not to this file
    std::lock_guard lock(collections_mutex_);
    return collections_.at(vector_db.identifier);
  }

  // FTS5 MATCH text for a free-form query: each word quoted, ORed — never a
  // syntax error, whatever the punctuation.
  static std::string match_expression(std::string_view text) {
    std::string out;
    for (const auto& word : utils::word_tokens(text)) {
      if (!out.empty()) out += " OR ";
      out += '"' + word + '"';  // words hold no quotes
    }
    return out;
  }

  apis::QueryChunksResponse search(const std::string& vector_db_id, Collection& c,
                                   const apis::VectorQuery& q) {
    std::shared_lock lock(c.mutex);
    const auto k = static_cast<std::size_t>(q.max_chunks);
    std::vector<std::pair<std::string, double>> vector_hits, keyword_hits;
    const utils::IdFilter keep = [&](const std::string& id) {
      auto it = c.chunks.find(id);
      return it != c.chunks.end() && q.filter(it->second);
    };
    const utils::IdFilter* filter = q.filter ? &keep : nullptr;
    if (q.mode != apis::SearchMode::kKeyword) {
      for (const auto& [id, distance] : c.vectors.search(q.embedding, k, filter)) {
        vector_hits.emplace_back(id, utils::distance_score(distance));
      }
    }
    if (q.mode != apis::SearchMode::kVector) {
      const std::string match = match_expression(q.text);
      if (!match.empty()) {
        std::lock_guard db_lock(db_mutex_);
        Statement s(db_,
                    "SELECT c.id, bm25(chunks_fts) AS score FROM chunks_fts JOIN chunks c ON "
                    "c.seq = chunks_fts.rowid WHERE chunks_fts MATCH ? AND c.vector_db_id = ? "
                    "ORDER BY score LIMIT ?");
        // Filtered: every match is read, best first, until k pass the filter.
        s.bind(1, match)
            .bind(2, vector_db_id)
            .bind(3, filter ? std::int64_t{-1} : static_cast<std::int64_t>(k));
        while (keyword_hits.size() < k && s.step()) {
          std::string id = s.text(0);
          if (filter != nullptr && !keep(id)) continue;
          keyword_hits.emplace_back(std::move(id), -s.real(1));  // higher is better
        }
      }
    }
    return utils::query_response(std::move(vector_hits), std::move(keyword_hits), q,
                                 [&](const std::string& id) -> const apis::Chunk* {
                                   auto it = c.chunks.find(id);
                                   return it == c.chunks.end() ? nullptr : &it->second;
                                 });
  }

  ProviderContext context_;
  SqliteVecConfig config_;
  std::mutex db_mutex_;
  sqlite3* db_ = nullptr;
  std::mutex collections_mutex_;
  std::unordered_map<std::string, std::shared_ptr<Collection>> collections_;
};

ProviderSpec sqlite_vec_spec_named(const char* type, const char* description) {
  ProviderSpec spec;
  spec.api = "vector_io";
  spec.provider_type = type;
  spec.description = description;
  spec.api_dependencies = {"inference"};
  spec.validate_config = [](const ConfigNode& node, Diagnostics& d) {
    SqliteVecConfig::parse(node, d);
  };
  spec.create = [](const ProviderContext& context, const ConfigNode& node) {
    Diagnostics ignored;
    return std::unique_ptr<Provider>(
        new SqliteVecIO(context, SqliteVecConfig::parse(node, ignored)));
  };
  return spec;
}

}  // namespace

ProviderSpec sqlite_vec_spec() {
  return sqlite_vec_spec_named("inline::sqlite-vec",
                               "Chunks, vectors and an FTS5 index in one SQLite file");
}

ProviderSpec sqlite_vec_deprecated_spec() {
  return sqlite_vec_spec_named("inline::sqlite_vec", "Deprecated spelling of inline::sqlite-vec");
}

}  // namespace llama_stack::providers::inline_
