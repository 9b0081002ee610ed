// inline::meta-reference (telemetry): spans to the `console` sink (one log
// line each) and the `sqlite` sink (Python's tables: traces, spans,
// span_events), written by one background thread in batches from a bounded
// queue — a request never waits for a sink; a full queue drops spans
// (counted, logged once a minute). Queries read the SQLite store on the
// worker threads. `otel_trace`/`otel_metric` export spans and the metrics
// registry over OTLP/HTTP (otlp_exporter.h). Traces are kept for
// `retention_days` and/or up to `max_traces` (oldest removed first). Each
// root span records its caller (`__owner__`); queries show a caller only the
// traces the router's predicate lets them read.
#include "providers/inline/telemetry/meta_reference.h"

#include <fmt/format.h>
#include <sqlite3.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <deque>
#include <filesystem>
#include <map>
#include <mutex>
#include <regex>
#include <thread>
#include <tuple>

#include "core/config/config_node.h"
#include "core/config/stack_config.h"
#include "core/log/log.h"
#include "core/util/api_error.h"
#include "core/util/json.h"
#include "core/util/metrics.h"
#include "llama_stack/async/thread_pool.h"
#include "providers/inline/telemetry/otlp_exporter.h"
#include "providers/inline/telemetry/trace_store.h"

namespace llama_stack::providers::inline_ {
namespace {

using config::ConfigNode;
using config::Diagnostics;
using config::MapReader;
using telemetry::column;
using telemetry::Db;
using telemetry::iso;
using telemetry::matches;
using telemetry::may_read;
using telemetry::Sampler;
using telemetry::span_of;

constexpr std::size_t kQueueLimit = 20000;
constexpr std::size_t kWakeBatch = 4096;

struct TelemetryConfig {
  std::vector<std::string> sinks{"console", "sqlite"};
  std::string service_name = "llama-stack";
  std::string sqlite_db_path;
  std::optional<std::string> otel_trace_endpoint, otel_metric_endpoint;
  std::optional<std::int64_t> retention_days, max_traces;

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
    if (auto name = r.string("service_name")) {
      c.service_name = *name;
    } else if (const char* env = std::getenv("OTEL_SERVICE_NAME"); env != nullptr && *env) {
      c.service_name = env;
    }
    c.retention_days = r.integer("retention_days", 1, 36500);
    c.max_traces = r.integer("max_traces", 1, INT64_C(1) << 40);
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

class MetaReferenceTelemetry final : public TelemetryProvider {
 public:
  MetaReferenceTelemetry(ProviderContext context, TelemetryConfig config)
      : context_(std::move(context)), config_(std::move(config)) {}

  ~MetaReferenceTelemetry() override { shutdown(); }

  void initialize() override {
    sampler_ = Sampler::from_env();
    // The store of the query API; written only with the `sqlite` sink.
    db_ = std::make_unique<Db>(config_.sqlite_db_path);
    if (config_.has("otel_trace") || config_.has("otel_metric")) {
      if (context_.runtime == nullptr) throw std::runtime_error("telemetry: no I/O runtime");
      exporter_ = std::make_unique<OtlpExporter>(
          *context_.runtime,
          OtlpSettings::from(config_.otel_trace_endpoint, config_.otel_metric_endpoint,
                             config_.has("otel_trace"), config_.has("otel_metric"),
                             config_.service_name));
      const OtlpSettings& o = exporter_->settings();
      LS_INFO(kCore, "{}: OTLP/HTTP protobuf export{}{}", context_.provider_id,
              o.traces_url ? ", spans to " + *o.traces_url : "",
              o.metrics_url ? ", metrics to " + *o.metrics_url : "");
    }
    apply_retention();
    last_retention_ = std::chrono::steady_clock::now();
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
    if (exporter_) exporter_->stop();
  }

  bool sampled(const std::string& trace_id) const override { return sampler_.keep(trace_id); }

  void record(apis::SpanRecord span) override {
    if (!sampler_.keep(span.trace_id)) return;
    {
      std::lock_guard lock(mutex_);
      if (stopping_) return;
      if (queue_.size() >= kQueueLimit) {
        ++dropped_;
        metrics::catalog().spans_dropped.with({"queue_full"}).inc();
        return;
      }
      queue_.push_back(std::move(span));
      // The writer wakes every 200 ms by itself; a full batch wakes it early.
      // (A notify per span would be a futex call on the request path.)
      if (queue_.size() != kWakeBatch) return;
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
        if (!may_read(query.readable, attributes)) return;
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

  async::Task<json::object> get_trace(const apis::CallContext& context, std::string trace_id,
                                      apis::TraceReadable readable) override {
    auto work = async::offload<std::optional<json::object>>(context.executor, workers(), [&] {
      flush();
      std::optional<json::object> out;
      if (!trace_readable(trace_id, readable)) return out;
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
                                     std::string span_id, apis::TraceReadable readable) override {
    auto work = async::offload<std::optional<json::object>>(context.executor, workers(), [&] {
      flush();
      std::optional<json::object> out;
      if (!trace_readable(trace_id, readable)) return out;
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
                                          std::optional<std::int64_t> max_depth,
                                          apis::TraceReadable readable) override {
    auto work = async::offload<json::object>(context.executor, workers(), [&] {
      flush();
      json::object out;
      std::string trace_id;
      db_->query("SELECT trace_id FROM spans WHERE span_id = ?", {span_id},
                 [&](sqlite3_stmt* stmt) { trace_id = column(stmt, 0); });
      if (trace_id.empty() || !trace_readable(trace_id, readable)) return out;
      tree(span_id, attributes_to_return, max_depth, 0, out);
      return out;
    });
    json::object tree_of = co_await work;
    if (tree_of.empty()) throw ApiError::not_found("Span '" + span_id + "' not found");
    co_return tree_of;
  }

  async::Task<json::object> query_metrics(const apis::CallContext& context,
                                          apis::MetricQuery query) override {
    std::vector<std::pair<const apis::MetricLabelMatcher*, std::regex>> patterns;
    for (const auto& m : query.label_matchers) {
      if (m.op != "=" && m.op != "!=" && m.op != "=~" && m.op != "!~") {
        throw JsonFieldError("label_matchers", "Field 'label_matchers': unknown operator '" + m.op +
                                                   "' (=, !=, =~, !~)");
      }
      std::regex re;
      if (m.op == "=~" || m.op == "!~") {
        try {
          re = std::regex(m.value, std::regex::ECMAScript);
        } catch (const std::regex_error& e) {
          throw JsonFieldError(
              "label_matchers",
              "Field 'label_matchers': invalid regular expression '" + m.value + "': " + e.what());
        }
      }
      patterns.emplace_back(&m, std::move(re));
    }
    auto work = async::offload<json::object>(context.executor, workers(), [&] {
      flush();
      const std::int64_t end =
          query.end_time.value_or(std::chrono::duration_cast<std::chrono::seconds>(
                                      std::chrono::system_clock::now().time_since_epoch())
                                      .count());
      // Series by their labels' JSON, points in time order.
      std::map<std::string, std::pair<json::object, std::map<std::int64_t, double>>> series;
      db_->query(
          "SELECT timestamp, value, labels, owner FROM metric_points WHERE name = ? AND "
          "timestamp >= CAST(? AS INTEGER) AND timestamp <= CAST(? AS INTEGER) ORDER BY timestamp",
          {query.metric, std::to_string(query.start_time), std::to_string(end)},
          [&](sqlite3_stmt* stmt) {
            json::object labels;
            try {
              json::value l = parse_json(column(stmt, 2));
              if (l.is_object()) labels = std::move(l.get_object());
            } catch (const std::exception&) {
            }
            for (const auto& [m, re] : patterns) {
              const json::value* v = labels.if_contains(m->name);
              const std::string actual =
                  v != nullptr && v->is_string() ? std::string(v->get_string()) : "";
              bool ok = true;
              if (m->op == "=") ok = actual == m->value;
              if (m->op == "!=") ok = actual != m->value;
              if (m->op == "=~") ok = std::regex_match(actual, re);
              if (m->op == "!~") ok = !std::regex_match(actual, re);
              if (!ok) return;
            }
            if (query.readable) {
              std::optional<apis::Owner> owner;
              if (const std::string o = column(stmt, 3); !o.empty()) {
                try {
                  owner = apis::Owner::from_json(parse_json(o));
                } catch (const std::exception&) {
                }
              }
              if (!query.readable(owner)) return;
            }
            std::int64_t ts = sqlite3_column_int64(stmt, 0);
            if (query.instant) {
              ts = end;
            } else if (query.granularity_seconds) {
              ts -= (ts - query.start_time) % *query.granularity_seconds;
            }
            auto& entry = series[to_json(labels)];
            entry.first = labels;
            entry.second[ts] += sqlite3_column_double(stmt, 1);
          });
      json::array data;
      for (auto& [key, entry] : series) {
        json::array labels, values;
        for (const auto& [name, value] : entry.first) {
          labels.push_back(json::object{{"name", name}, {"value", value}});
        }
        for (const auto& [ts, value] : entry.second) {
          values.push_back(json::object{{"timestamp", ts}, {"value", value}, {"unit", "tokens"}});
        }
        data.push_back(json::object{{"metric", query.metric},
                                    {"labels", std::move(labels)},
                                    {"values", std::move(values)}});
      }
      return json::object{{"data", std::move(data)}};
    });
    co_return co_await work;
  }

  async::Task<json::array> query_spans(const apis::CallContext& context,
                                       std::vector<apis::QueryCondition> attribute_filters,
                                       std::vector<std::string> attributes_to_return,
                                       std::optional<std::int64_t> max_depth,
                                       apis::TraceReadable readable) override {
    apis::TraceQuery query;
    query.attribute_filters = std::move(attribute_filters);
    query.readable = std::move(readable);
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

  // Every query reads the SQLite store, on the worker threads.
  async::Executor& workers() const {
    if (!config_.has("sqlite")) {
      throw ApiError::bad_request("The telemetry provider '" + context_.provider_id +
                                  "' has no sqlite sink: add `sqlite` to its sinks to query "
                                  "traces, spans and metrics");
    }
    if (context_.workers == nullptr) throw ApiError::internal("telemetry: no worker threads");
    return *context_.workers;
  }

  // REQUIRES: a worker thread. Whether the trace exists and the caller may
  // read it (by the owner on its root span).
  bool trace_readable(const std::string& trace_id, const apis::TraceReadable& readable) {
    if (!readable) return true;
    std::optional<json::object> root;
    db_->query(
        "SELECT s.attributes FROM traces t JOIN spans s ON s.span_id = t.root_span_id WHERE "
        "t.trace_id = ?",
        {trace_id}, [&](sqlite3_stmt* stmt) {
          root.emplace();
          try {
            json::value a = parse_json(column(stmt, 0));
            if (a.is_object()) *root = std::move(a.get_object());
          } catch (const std::exception&) {
          }
        });
    return root && may_read(readable, *root);
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
    // Through the trace index (no index on parent_span_id: one less B-tree per written span).
    db_->query(
        "SELECT span_id FROM spans WHERE trace_id = (SELECT trace_id FROM spans WHERE span_id = "
        "?1) AND parent_span_id = ?1 ORDER BY start_time",
        {span_id}, [&](sqlite3_stmt* stmt) { children.push_back(column(stmt, 0)); });
    for (const auto& child : children) tree(child, attributes_to_return, max_depth, depth + 1, out);
  }

  // Waits until what was queued before this call is written (for queries).
  void flush() {
    std::unique_lock lock(mutex_);
    const std::uint64_t target = queued_total_ + queue_.size();
    ++flush_waiters_;
    wake_.notify_all();
    written_.wait_for(lock, std::chrono::seconds(2),
                      [&] { return written_total_ >= target || stopping_; });
    --flush_waiters_;
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
        // Batches of up to 200 ms, or kWakeBatch spans, or what a query waits for.
        wake_.wait_for(lock, std::chrono::milliseconds(200), [&] {
          return stopping_ || flush_waiters_ > 0 || queue_.size() >= kWakeBatch;
        });
        batch.swap(queue_);
        queued_total_ += batch.size();
        if (batch.empty() && stopping_) return;
      }
      if (dropped_ > 0 &&
          std::chrono::steady_clock::now() - last_drop_log > std::chrono::minutes(1)) {
        LS_WARN(kCore, "telemetry: {} span(s) dropped (queue full)", dropped_.load());
        last_drop_log = std::chrono::steady_clock::now();
      }
      const std::size_t count = batch.size();
      if (count > 0) write(batch);
      if (exporter_ && count > 0) exporter_->enqueue(std::move(batch));
      if (std::chrono::steady_clock::now() - last_retention_ > std::chrono::minutes(1)) {
        apply_retention();
        last_retention_ = std::chrono::steady_clock::now();
      }
      {
        std::lock_guard lock(mutex_);
        written_total_ += count;
      }
      written_.notify_all();
    }
  }

  // Token metrics of a batch, summed per second, metric and series (labels,
  // owner): a few rows per batch instead of three per model call.
  using TokenSums =
      std::map<std::tuple<std::int64_t, std::string, std::string, std::string>, double>;

  // prompt_tokens, completion_tokens and total_tokens of a model call's span.
  static void add_token_metrics(const apis::SpanRecord& span, TokenSums& sums) {
    auto count = [&](const char* key) -> std::int64_t {
      const json::value* v = span.attributes.if_contains(key);
      return v != nullptr && v->is_int64() ? v->get_int64() : 0;
    };
    auto text = [&](const char* key) -> std::string {
      const json::value* v = span.attributes.if_contains(key);
      return v != nullptr && v->is_string() ? std::string(v->get_string()) : std::string();
    };
    const std::int64_t prompt = count("prompt_tokens"), completion = count("completion_tokens");
    if (prompt == 0 && completion == 0) return;
    std::string labels =
        to_json(json::object{{"model_id", text("model")}, {"provider_id", text("provider_id")}});
    const json::value* owner = span.attributes.if_contains("__owner__");
    std::string owner_text = owner != nullptr ? to_json(*owner) : "";
    const std::int64_t second = span.end_us / 1000000;
    sums[{second, "prompt_tokens", labels, owner_text}] += static_cast<double>(prompt);
    sums[{second, "completion_tokens", labels, owner_text}] += static_cast<double>(completion);
    sums[{second, "total_tokens", std::move(labels), std::move(owner_text)}] +=
        static_cast<double>(prompt + completion);
  }

  void write_token_metrics(const TokenSums& sums) {
    for (const auto& [key, value] : sums) {
      const auto& [second, name, labels, owner] = key;
      db_->query(
          "INSERT INTO metric_points (name, timestamp, value, unit, labels, owner) VALUES (?, "
          "CAST(? AS INTEGER), CAST(? AS REAL), 'tokens', ?, NULLIF(?, ''))",
          {name, std::to_string(second), fmt::format("{}", value), labels, owner});
    }
  }

  // Removes traces older than retention_days and beyond max_traces (oldest
  // first), with their spans and events. On the writer thread.
  void apply_retention() {
    if (!config_.has("sqlite") || (!config_.retention_days && !config_.max_traces)) return;
    try {
      db_->exec("BEGIN");
      db_->exec("CREATE TEMP TABLE IF NOT EXISTS expired (trace_id TEXT PRIMARY KEY)");
      db_->exec("DELETE FROM expired");
      if (config_.retention_days) {
        const auto cutoff = std::chrono::duration_cast<std::chrono::microseconds>(
                                std::chrono::system_clock::now().time_since_epoch())
                                .count() -
                            *config_.retention_days * INT64_C(86400000000);
        db_->query("INSERT OR IGNORE INTO expired SELECT trace_id FROM traces WHERE start_time < ?",
                   {iso(cutoff)});
        // Spans of traces whose root never arrived (or logged events) age out too.
        db_->query(
            "DELETE FROM span_events WHERE span_id IN (SELECT span_id FROM spans WHERE "
            "start_time < ?)",
            {iso(cutoff)});
        db_->query("DELETE FROM spans WHERE start_time < ?", {iso(cutoff)});
        db_->query("DELETE FROM metric_points WHERE timestamp < CAST(? AS INTEGER)",
                   {std::to_string(cutoff / 1000000)});
      }
      if (config_.max_traces) {
        db_->query(
            "INSERT OR IGNORE INTO expired SELECT trace_id FROM traces ORDER BY start_time DESC "
            "LIMIT -1 OFFSET ?",
            {std::to_string(*config_.max_traces)});
      }
      db_->exec(
          "DELETE FROM span_events WHERE span_id IN (SELECT span_id FROM spans WHERE trace_id IN "
          "(SELECT trace_id FROM expired))");
      db_->exec("DELETE FROM spans WHERE trace_id IN (SELECT trace_id FROM expired)");
      db_->exec("DELETE FROM traces WHERE trace_id IN (SELECT trace_id FROM expired)");
      db_->exec("COMMIT");
    } catch (const std::exception& e) {
      try {
        db_->exec("ROLLBACK");
      } catch (const std::exception&) {
      }
      LS_WARN(kCore, "telemetry: applying the trace retention failed: {}", e.what());
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
    if (!config_.has("sqlite")) return;  // export only
    try {
      db_->exec("BEGIN");
      TokenSums token_sums;
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
        if (span.name.starts_with("inference.") && span.status == "ok") {
          add_token_metrics(span, token_sums);
        }
      }
      write_token_metrics(token_sums);
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
  int flush_waiters_ = 0;  // queries waiting for the writer
  bool stopping_ = false;
  std::atomic<std::uint64_t> dropped_{0};
  Sampler sampler_;
  std::unique_ptr<OtlpExporter> exporter_;
  std::chrono::steady_clock::time_point last_retention_{};
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
