#include "providers/inline/telemetry/trace_store.h"

#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <stdexcept>

#include "core/log/log.h"
#include "core/util/ids.h"

namespace llama_stack::providers::inline_::telemetry {

Sampler Sampler::from_env() {
  Sampler s;
  const char* name = std::getenv("OTEL_TRACES_SAMPLER");
  if (name == nullptr || *name == '\0') return s;
  std::string n = name;
  if (n.starts_with("parentbased_")) n = n.substr(12);
  if (n == "always_on") return s;
  if (n == "always_off") {
    s.ratio = 0;
    return s;
  }
  if (n == "traceidratio") {
    const char* arg = std::getenv("OTEL_TRACES_SAMPLER_ARG");
    char* end = nullptr;
    const double r = arg != nullptr ? std::strtod(arg, &end) : 1.0;
    if (arg != nullptr && (*end != '\0' || r < 0 || r > 1)) {
      LS_WARN(kCore, "telemetry: OTEL_TRACES_SAMPLER_ARG='{}' is not a ratio in [0, 1]; using 1",
              arg);
    } else {
      s.ratio = r;
    }
    return s;
  }
  LS_WARN(kCore, "telemetry: unknown OTEL_TRACES_SAMPLER '{}'; sampling every trace", name);
  return s;
}

bool Sampler::keep(const std::string& trace_id) const {
  if (ratio >= 1) return true;
  if (ratio <= 0 || trace_id.size() < 16) return false;
  // The low 64 bits of the trace id against the ratio (as OpenTelemetry's
  // TraceIdRatioBased does).
  const std::uint64_t low =
      std::strtoull(trace_id.substr(trace_id.size() - 16).c_str(), nullptr, 16);
  return static_cast<double>(low) < ratio * 18446744073709551616.0;
}

std::optional<apis::Owner> owner_of(const json::object& root_attributes) {
  const json::value* owner = root_attributes.if_contains("__owner__");
  return owner != nullptr ? apis::Owner::from_json(*owner) : std::nullopt;
}

bool may_read(const apis::TraceReadable& readable, const json::object& root_attributes) {
  return !readable || readable(owner_of(root_attributes));
}

std::string iso(std::int64_t us) {
  return iso8601_micros(us);
}

Db::Db(const std::string& path) {
  const std::filesystem::path p(path);
  if (p.has_parent_path()) std::filesystem::create_directories(p.parent_path());
  if (sqlite3_open_v2(path.c_str(), &db_,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                      nullptr) != SQLITE_OK) {
    const std::string message = db_ != nullptr ? sqlite3_errmsg(db_) : "out of memory";
    sqlite3_close_v2(db_);
    db_ = nullptr;
    throw std::runtime_error("telemetry: cannot open '" + path + "': " + message);
  }
  sqlite3_busy_timeout(db_, 5000);
  exec("PRAGMA journal_mode=WAL");
  // Span ids and trace ids are random: each batch touches index pages all
  // over the B-trees. A larger page cache keeps them in memory between batches
  // (grows only as used).
  exec("PRAGMA cache_size=-16384");
  exec("PRAGMA synchronous=NORMAL");
  // Checkpoints copy the WAL into the database (and sync): every 1000 pages by
  // default, i.e. about every batch here. 20000 pages (~80 MB of WAL) first.
  exec("PRAGMA wal_autocheckpoint=20000");  // WAL: durable at checkpoints; a crash loses at most
                                            // the last batch
  exec(
      "CREATE TABLE IF NOT EXISTS traces (trace_id TEXT PRIMARY KEY, service_name TEXT, "
      "root_span_id TEXT, start_time TIMESTAMP, end_time TIMESTAMP, created_at TIMESTAMP "
      "DEFAULT CURRENT_TIMESTAMP)");
  exec(
      "CREATE TABLE IF NOT EXISTS spans (span_id TEXT PRIMARY KEY, trace_id TEXT REFERENCES "
      "traces(trace_id), parent_span_id TEXT, name TEXT, start_time TIMESTAMP, end_time "
      "TIMESTAMP, attributes TEXT, status TEXT, kind TEXT)");
  exec(
      "CREATE TABLE IF NOT EXISTS span_events (id INTEGER PRIMARY KEY AUTOINCREMENT, span_id "
      "TEXT REFERENCES spans(span_id), name TEXT, timestamp TIMESTAMP, attributes TEXT)");
  // Ours: the token metrics of model calls, for the metrics query API.
  exec(
      "CREATE TABLE IF NOT EXISTS metric_points (id INTEGER PRIMARY KEY AUTOINCREMENT, name "
      "TEXT, timestamp INTEGER, value REAL, unit TEXT, labels TEXT, owner TEXT)");
  exec("CREATE INDEX IF NOT EXISTS idx_metric_points ON metric_points(name, timestamp)");
  exec("CREATE INDEX IF NOT EXISTS idx_spans_trace ON spans(trace_id)");
  exec("CREATE INDEX IF NOT EXISTS idx_traces_start ON traces(start_time)");
}
Db::~Db() {
  sqlite3_close_v2(db_);
}

void Db::exec(const char* sql) {
  std::lock_guard lock(mutex_);
  char* error = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &error) != SQLITE_OK) {
    std::string message = error != nullptr ? error : "unknown error";
    sqlite3_free(error);
    throw std::runtime_error("telemetry: " + message);
  }
}

void Db::query(const char* sql, const std::vector<std::string>& binds,
               const std::function<void(sqlite3_stmt*)>& row) {
  std::lock_guard lock(mutex_);
  // Statements are prepared once per SQL text and reused (reset after each use).
  sqlite3_stmt*& stmt = statements_[sql];
  if (stmt == nullptr && sqlite3_prepare_v2(db_, sql, -1, &stmt, nullptr) != SQLITE_OK) {
    stmt = nullptr;
    throw std::runtime_error(std::string("telemetry: ") + sqlite3_errmsg(db_));
  }
  for (std::size_t i = 0; i < binds.size(); ++i) {
    sqlite3_bind_text(stmt, static_cast<int>(i + 1), binds[i].data(),
                      static_cast<int>(binds[i].size()), SQLITE_TRANSIENT);
  }
  int rc;
  try {
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
      if (row) row(stmt);
    }
  } catch (...) {
    sqlite3_reset(stmt);
    sqlite3_clear_bindings(stmt);
    throw;
  }
  sqlite3_reset(stmt);
  sqlite3_clear_bindings(stmt);
  if (rc != SQLITE_DONE) throw std::runtime_error(std::string("telemetry: ") + sqlite3_errmsg(db_));
}

std::string column(sqlite3_stmt* stmt, int i) {
  const unsigned char* t = sqlite3_column_text(stmt, i);
  return t != nullptr ? reinterpret_cast<const char*>(t) : "";
}

json::object span_of(sqlite3_stmt* stmt) {
  // span_id, trace_id, parent_span_id, name, start_time, end_time, attributes, status
  json::object attributes;
  try {
    json::value a = parse_json(column(stmt, 6));
    if (a.is_object()) attributes = std::move(a.get_object());
  } catch (const std::exception&) {
  }
  const std::string parent = column(stmt, 2);
  return json::object{
      {"span_id", column(stmt, 0)},
      {"trace_id", column(stmt, 1)},
      {"parent_span_id", parent.empty() ? json::value(nullptr) : json::value(parent)},
      {"name", column(stmt, 3)},
      {"start_time", column(stmt, 4)},
      {"end_time", column(stmt, 5)},
      {"attributes", std::move(attributes)},
      {"status", column(stmt, 7)}};
}

bool matches(const json::object& attributes, const std::vector<apis::QueryCondition>& filters) {
  for (const auto& f : filters) {
    const json::value* v = attributes.if_contains(f.key);
    if (v == nullptr) return false;
    const std::string actual = v->is_string() ? std::string(v->get_string()) : to_json(*v);
    const std::string wanted =
        f.value.is_string() ? std::string(f.value.get_string()) : to_json(f.value);
    bool ok = false;
    if (f.op == "eq") ok = actual == wanted;
    if (f.op == "ne") ok = actual != wanted;
    if (f.op == "gt" || f.op == "lt") {
      if (v->is_number() && f.value.is_number()) {
        ok = f.op == "gt" ? v->to_number<double>() > f.value.to_number<double>()
                          : v->to_number<double>() < f.value.to_number<double>();
      } else {
        ok = f.op == "gt" ? actual > wanted : actual < wanted;
      }
    }
    if (!ok) return false;
  }
  return true;
}

}  // namespace llama_stack::providers::inline_::telemetry
