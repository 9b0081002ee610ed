// inline::meta-reference (telemetry): spans to the `console` sink (one log
// line each) and the `sqlite` sink (Python's tables: traces, spans,
// span_events), written by one background thread in batches from a bounded
// queue — a request never waits for a sink; a full queue drops spans
// (counted, logged once a minute). Queries read the SQLite store on the
// worker threads. `otel_trace`/`otel_metric` sinks are accepted and not
// exported yet (a warning at startup).
#include "providers/inline/telemetry/meta_reference.h"

#include <sqlite3.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <ctime>
#include <deque>
#include <filesystem>
#include <mutex>
#include <thread>

#include "core/config/config_node.h"
#include "core/config/stack_config.h"
#include "core/log/log.h"
#include "core/util/api_error.h"
#include "core/util/json.h"
#include "core/util/metrics.h"
#include "llama_stack/async/thread_pool.h"

namespace llama_stack::providers::inline_ {
namespace {

using config::ConfigNode;
using config::Diagnostics;
using config::MapReader;

constexpr std::size_t kQueueLimit = 10000;

struct TelemetryConfig {
  std::vector<std::string> sinks{"console", "sqlite"};
  std::string service_name = "llama-stack";
  std::string sqlite_db_path;
  std::optional<std::string> otel_trace_endpoint, otel_metric_endpoint;

  static TelemetryConfig parse(const ConfigNode& node, Diagnostics& diagnostics) {
    TelemetryConfig c;
    c.sqlite_db_path = config::config_dir() + "/trace_store.db";
    MapReader r(node, diagnostics);
    if (const ConfigNode* s = r.node("sinks"); s != nullptr && !s->is_null()) {
      c.sinks.clear();
      std::vector<std::string> names;
      if (s->is_scalar()) {
        std::string rest = s->scalar;
        std::size_t pos = 0;
        while (pos <= rest.size()) {
          std::size_t comma = rest.find(',', pos);
          if (comma == std::string::npos) comma = rest.size();
          std::string name = rest.substr(pos, comma - pos);
          name.erase(0, name.find_first_not_of(" \t"));
          name.erase(name.find_last_not_of(" \t") + 1);
          if (!name.empty()) names.push_back(name);
          pos = comma + 1;
        }
      } else {
        for (const auto& item : s->items) names.push_back(item.scalar);
      }
      for (const auto& name : names) {
        if (name != "console" && name != "sqlite" && name != "otel_trace" &&
            name != "otel_metric") {
          diagnostics.error(*s, "unknown telemetry sink '" + name +
                                    "' (console, sqlite, otel_trace, otel_metric)");
        }
        c.sinks.push_back(name);
      }
    }
    c.service_name = r.string_or("service_name", c.service_name);
    if (auto p = r.path("sqlite_db_path")) c.sqlite_db_path = *p;
    c.otel_trace_endpoint = r.string("otel_trace_endpoint");
    c.otel_metric_endpoint = r.string("otel_metric_endpoint");
    r.accept({"otel_exporter_otlp_endpoint"});
    r.finish();
    return c;
  }

  bool has(std::string_view sink) const {
    return std::find(sinks.begin(), sinks.end(), sink) != sinks.end();
  }
};

std::string iso(std::int64_t us) {
  const std::time_t seconds = static_cast<std::time_t>(us / 1000000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%06lldZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<long long>(us % 1000000));
  return buf;
}

class Db {
 public:
  explicit Db(const std::string& path) {
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
    exec("CREATE INDEX IF NOT EXISTS idx_spans_trace ON spans(trace_id)");
    exec("CREATE INDEX IF NOT EXISTS idx_traces_start ON traces(start_time)");
  }
  ~Db() { sqlite3_close_v2(db_); }

  void exec(const char* sql) {
    char* error = nullptr;
    if (sqlite3_exec(db_, sql, nullptr, nullptr, &error) != SQLITE_OK) {
      std::string message = error != nullptr ? error : "unknown error";
      sqlite3_free(error);
      throw std::runtime_error("telemetry: " + message);
    }
  }

  // Runs `sql` with text bindings; calls `row` with each result row's columns.
  void query(const char* sql, const std::vector<std::string>& binds,
             const std::function<void(sqlite3_stmt*)>& row = {}) {
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db_, sql, -1, &stmt, nullptr) != SQLITE_OK) {
      throw std::runtime_error(std::string("telemetry: ") + sqlite3_errmsg(db_));
    }
    for (std::size_t i = 0; i < binds.size(); ++i) {
      sqlite3_bind_text(stmt, static_cast<int>(i + 1), binds[i].data(),
                        static_cast<int>(binds[i].size()), SQLITE_TRANSIENT);
    }
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
      if (row) row(stmt);
    }
    sqlite3_finalize(stmt);
    if (rc != SQLITE_DONE)
      throw std::runtime_error(std::string("telemetry: ") + sqlite3_errmsg(db_));
  }

 private:
  sqlite3* db_ = nullptr;
};

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

class MetaReferenceTelemetry final : public TelemetryProvider {
 public:
  MetaReferenceTelemetry(ProviderContext context, TelemetryConfig config)
      : context_(std::move(context)), config_(std::move(config)) {}

  ~MetaReferenceTelemetry() override { shutdown(); }

  void initialize() override {
    if (config_.has("otel_trace") || config_.has("otel_metric")) {
      LS_WARN(kCore, "{}: the otel_trace/otel_metric sinks are accepted but do not export yet",
              context_.provider_id);
    }
    // Python's sqlite sink is its store of record for the query API; the
    // queries need it, so it is always opened.
    db_ = std::make_unique<Db>(config_.sqlite_db_path);
    writer_ = std::thread([this] { write_loop(); });
    LS_INFO(kCore, "{} (inline::meta-reference telemetry): sinks {}, traces in {}",
            context_.provider_id, sinks_text(), config_.sqlite_db_path);
  }

  void shutdown() noexcept override {
    {
      std::lock_guard lock(mutex_);
      if (stopping_) return;
      stopping_ = true;
    }
    wake_.notify_all();
    if (writer_.joinable()) writer_.join();
  }

  void record(apis::SpanRecord span) override {
    {
      std::lock_guard lock(mutex_);
      if (stopping_) return;
      if (queue_.size() >= kQueueLimit) {
        ++dropped_;
        metrics::catalog().spans_dropped.with({"queue_full"}).inc();
        return;
      }
      queue_.push_back(std::move(span));
    }
    wake_.notify_one();
  }

  async::Task<void> log_event(const apis::CallContext& context, json::object event) override {
    JsonReader r(event, "event");
    const std::string type = r.required_string("type");
    if (type != "unstructured_log" && type != "metric" && type != "structured_log") {
      throw JsonFieldError("event.type",
                           "Field 'event.type' must be unstructured_log, metric or structured_log");
    }
    apis::SpanRecord span;
    span.trace_id = r.required_string("trace_id");
    span.span_id = r.required_string("span_id");
    span.name = type == "structured_log" ? "structured_log" : type;
    span.start_us = span.end_us = std::chrono::duration_cast<std::chrono::microseconds>(
                                      std::chrono::system_clock::now().time_since_epoch())
                                      .count();
    span.attributes = event;
    span.attributes.erase("trace_id");
    span.attributes.erase("span_id");
    span.parent_span_id = context.span_id;
    // Events are kept as their own spans, children of the caller's request.
    span.span_id = span.span_id + "-event-" + std::to_string(span.start_us);
    record(std::move(span));
    co_return;
  }

  async::Task<json::array> query_traces(const apis::CallContext& context,
                                        apis::TraceQuery query) override {
    auto work = async::offload<json::array>(context.executor, workers(), [&] {
      flush();
      std::string order = "start_time DESC";
      for (const auto& o : query.order_by) {
        const bool desc = o.starts_with('-');
        const std::string field = desc ? o.substr(1) : o;
        if (field != "start_time" && field != "end_time" && field != "trace_id") {
          throw JsonFieldError("order_by", "Field 'order_by': unknown field '" + field + "'");
        }
        order = field + (desc ? " DESC" : " ASC");
      }
      json::array out;
      std::int64_t skipped = 0;
      const std::string sql =
          "SELECT t.trace_id, t.root_span_id, t.start_time, t.end_time, "
          "s.attributes FROM traces t JOIN spans s ON s.span_id = "
          "t.root_span_id ORDER BY t." +
          order;
      db_->query(sql.c_str(), {}, [&](sqlite3_stmt* stmt) {
        if (static_cast<std::int64_t>(out.size()) >= query.limit) return;
        json::object attributes;
        try {
          json::value a = parse_json(column(stmt, 4));
          if (a.is_object()) attributes = std::move(a.get_object());
        } catch (const std::exception&) {
        }
        if (!matches(attributes, query.attribute_filters)) return;
        if (skipped++ < query.offset) return;
        out.push_back(json::object{{"trace_id", column(stmt, 0)},
                                   {"root_span_id", column(stmt, 1)},
                                   {"start_time", column(stmt, 2)},
                                   {"end_time", column(stmt, 3)}});
      });
      return out;
    });
    co_return co_await work;
  }

  async::Task<json::object> get_trace(const apis::CallContext& context,
                                      std::string trace_id) override {
    auto work = async::offload<std::optional<json::object>>(context.executor, workers(), [&] {
      flush();
      std::optional<json::object> out;
      db_->query(
          "SELECT trace_id, root_span_id, start_time, end_time FROM traces WHERE trace_id = ?",
          {trace_id}, [&](sqlite3_stmt* stmt) {
            out = json::object{{"trace_id", column(stmt, 0)},
                               {"root_span_id", column(stmt, 1)},
                               {"start_time", column(stmt, 2)},
                               {"end_time", column(stmt, 3)}};
          });
      return out;
    });
    std::optional<json::object> trace = co_await work;
    if (!trace) throw ApiError::not_found("Trace '" + trace_id + "' not found");
    co_return std::move(*trace);
  }

  async::Task<json::object> get_span(const apis::CallContext& context, std::string trace_id,
                                     std::string span_id) override {
    auto work = async::offload<std::optional<json::object>>(context.executor, workers(), [&] {
      flush();
      std::optional<json::object> out;
      db_->query((std::string(kSpanColumns) + " WHERE trace_id = ? AND span_id = ?").c_str(),
                 {trace_id, span_id}, [&](sqlite3_stmt* stmt) { out = span_of(stmt); });
      return out;
    });
    std::optional<json::object> span = co_await work;
    if (!span)
      throw ApiError::not_found("Span '" + span_id + "' not found in trace '" + trace_id + "'");
    span->erase("status");
    co_return std::move(*span);
  }

  async::Task<json::object> get_span_tree(const apis::CallContext& context, std::string span_id,
                                          std::vector<std::string> attributes_to_return,
                                          std::optional<std::int64_t> max_depth) override {
    auto work = async::offload<json::object>(context.executor, workers(), [&] {
      flush();
      json::object out;
      tree(span_id, attributes_to_return, max_depth, 0, out);
      return out;
    });
    json::object tree_of = co_await work;
    if (tree_of.empty()) throw ApiError::not_found("Span '" + span_id + "' not found");
    co_return tree_of;
  }

  async::Task<json::array> query_spans(const apis::CallContext& context,
                                       std::vector<apis::QueryCondition> attribute_filters,
                                       std::vector<std::string> attributes_to_return,
                                       std::optional<std::int64_t> max_depth) override {
    apis::TraceQuery query;
    query.attribute_filters = std::move(attribute_filters);
    query.limit = 1000;
    auto traces = query_traces(context, std::move(query));
    json::array roots = co_await std::move(traces);
    auto work = async::offload<json::array>(context.executor, workers(), [&] {
      json::array out;
      for (const auto& t : roots) {
        json::object spans;
        tree(std::string(t.as_object().at("root_span_id").as_string()), attributes_to_return,
             max_depth, 0, spans);
        for (auto& [id, span] : spans) {
          json::object s = span.as_object();
          s.erase("status");
          out.push_back(std::move(s));
        }
      }
      return out;
    });
    co_return co_await work;
  }

 private:
  static constexpr const char* kSpanColumns =
      "SELECT span_id, trace_id, parent_span_id, name, start_time, end_time, attributes, status "
      "FROM spans";

  async::Executor& workers() const {
    if (context_.workers == nullptr) throw ApiError::internal("telemetry: no worker threads");
    return *context_.workers;
  }

  // REQUIRES: a worker thread. `span_id` and its descendants into `out`.
  void tree(const std::string& span_id, const std::vector<std::string>& attributes_to_return,
            std::optional<std::int64_t> max_depth, std::int64_t depth, json::object& out) {
    std::optional<json::object> span;
    db_->query((std::string(kSpanColumns) + " WHERE span_id = ?").c_str(), {span_id},
               [&](sqlite3_stmt* stmt) { span = span_of(stmt); });
    if (!span) return;
    if (!attributes_to_return.empty()) {
      json::object kept;
      for (const auto& key : attributes_to_return) {
        if (const json::value* v = span->at("attributes").as_object().if_contains(key))
          kept[key] = *v;
      }
      (*span)["attributes"] = std::move(kept);
    }
    out[span_id] = std::move(*span);
    if (max_depth && depth >= *max_depth) return;
    std::vector<std::string> children;
    db_->query("SELECT span_id FROM spans WHERE parent_span_id = ? ORDER BY start_time", {span_id},
               [&](sqlite3_stmt* stmt) { children.push_back(column(stmt, 0)); });
    for (const auto& child : children) tree(child, attributes_to_return, max_depth, depth + 1, out);
  }

  // Waits until what was queued before this call is written (for queries).
  void flush() {
    std::unique_lock lock(mutex_);
    const std::uint64_t target = queued_total_ + queue_.size();
    wake_.notify_all();
    written_.wait_for(lock, std::chrono::seconds(2),
                      [&] { return written_total_ >= target || stopping_; });
  }

  std::string sinks_text() const {
    std::string out;
    for (const auto& s : config_.sinks) out += (out.empty() ? "" : ",") + s;
    return out;
  }

  void write_loop() {
    auto last_drop_log = std::chrono::steady_clock::now();
    for (;;) {
      std::deque<apis::SpanRecord> batch;
      {
        std::unique_lock lock(mutex_);
        wake_.wait_for(lock, std::chrono::milliseconds(200),
                       [&] { return stopping_ || !queue_.empty(); });
        batch.swap(queue_);
        queued_total_ += batch.size();
        if (batch.empty() && stopping_) return;
      }
      if (dropped_ > 0 &&
          std::chrono::steady_clock::now() - last_drop_log > std::chrono::minutes(1)) {
        LS_WARN(kCore, "telemetry: {} span(s) dropped (queue full)", dropped_.load());
        last_drop_log = std::chrono::steady_clock::now();
      }
      if (!batch.empty()) write(batch);
      {
        std::lock_guard lock(mutex_);
        written_total_ += batch.size();
      }
      written_.notify_all();
    }
  }

  void write(const std::deque<apis::SpanRecord>& batch) {
    for (const auto& span : batch) {
      if (config_.has("console")) {
        LS_INFO(kCore, "span {} trace={} span={}{} {:.3f}ms {}", span.name, span.trace_id,
                span.span_id, span.parent_span_id.empty() ? "" : " parent=" + span.parent_span_id,
                static_cast<double>(span.end_us - span.start_us) / 1000.0, span.status);
      }
    }
    try {
      db_->exec("BEGIN");
      for (const auto& span : batch) {
        if (span.parent_span_id.empty()) {
          db_->query(
              "INSERT OR REPLACE INTO traces (trace_id, service_name, root_span_id, "
              "start_time, end_time) VALUES (?, ?, ?, ?, ?)",
              {span.trace_id, config_.service_name, span.span_id, iso(span.start_us),
               iso(span.end_us)});
        }
        db_->query(
            "INSERT OR REPLACE INTO spans (span_id, trace_id, parent_span_id, name, "
            "start_time, end_time, attributes, status, kind) VALUES (?, ?, NULLIF(?, ''), "
            "?, ?, ?, ?, ?, 'internal')",
            {span.span_id, span.trace_id, span.parent_span_id, span.name, iso(span.start_us),
             iso(span.end_us), to_json(span.attributes), span.status});
      }
      db_->exec("COMMIT");
    } catch (const std::exception& e) {
      try {
        db_->exec("ROLLBACK");
      } catch (const std::exception&) {
      }
      dropped_ += batch.size();
      metrics::catalog().spans_dropped.with({"store_error"}).inc(batch.size());
      LS_WARN(kCore, "telemetry: writing {} span(s) failed (dropped): {}", batch.size(), e.what());
    }
  }

  ProviderContext context_;
  TelemetryConfig config_;
  std::unique_ptr<Db> db_;
  std::mutex mutex_;
  std::condition_variable wake_, written_;
  std::deque<apis::SpanRecord> queue_;
  std::uint64_t queued_total_ = 0, written_total_ = 0;
  bool stopping_ = false;
  std::atomic<std::uint64_t> dropped_{0};
  std::thread writer_;
};

}  // namespace

ProviderSpec meta_reference_telemetry_spec() {
  ProviderSpec spec;
  spec.api = "telemetry";
  spec.provider_type = "inline::meta-reference";
  spec.description = "Spans to the console and SQLite (Python's tables), and the telemetry API";
  spec.validate_config = [](const ConfigNode& node, Diagnostics& d) {
    TelemetryConfig::parse(node, d);
  };
  spec.create = [](const ProviderContext& context, const ConfigNode& node) {
    Diagnostics ignored;
    return std::unique_ptr<Provider>(
        new MetaReferenceTelemetry(context, TelemetryConfig::parse(node, ignored)));
  };
  return spec;
}

}  // namespace llama_stack::providers::inline_
