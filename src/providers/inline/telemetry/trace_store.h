// The telemetry provider's SQLite store — Python's tables (traces, spans,
// span_events) and ours (metric_points) — the helpers its queries share, and
// the trace sampler (OTEL_TRACES_SAMPLER).
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/util/json.h"
#include "llama_stack/apis/telemetry.h"

namespace llama_stack::providers::inline_::telemetry {

// OTEL_TRACES_SAMPLER(_ARG): always_on, always_off, traceidratio and their
// parentbased_ forms (which sample like the root sampler: the parent's
// sampled flag is not consulted). The ratio decision is a function of the
// trace id, so every span of a trace is kept or dropped together.
struct Sampler {
  double ratio = 1.0;
  static Sampler from_env();
  bool keep(const std::string& trace_id) const;
};

// One connection (SQLITE_OPEN_FULLMUTEX); creates the tables at open.
class Db {
 public:
  explicit Db(const std::string& path);
  ~Db();
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  void exec(const char* sql);
  // Runs `sql` with text bindings; calls `row` with each result row's columns.
  void query(const char* sql, const std::vector<std::string>& binds,
             const std::function<void(sqlite3_stmt*)>& row = {});

 private:
  sqlite3* db_ = nullptr;
  std::recursive_mutex mutex_;  // the statement cache; row callbacks may query again
  std::unordered_map<std::string, sqlite3_stmt*> statements_;
};

// The owner recorded on a root span (`__owner__`), if any.
std::optional<apis::Owner> owner_of(const json::object& root_attributes);
bool may_read(const apis::TraceReadable& readable, const json::object& root_attributes);
// Unix microseconds as ISO 8601 UTC with microseconds ("…T12:00:00.000123Z").
std::string iso(std::int64_t us);
std::string column(sqlite3_stmt* stmt, int i);
// A row of kSpanColumns as the API's span object.
json::object span_of(sqlite3_stmt* stmt);
// Whether the attributes satisfy every condition (eq, ne, gt, lt).
bool matches(const json::object& attributes, const std::vector<apis::QueryCondition>& filters);

}  // namespace llama_stack::providers::inline_::telemetry
