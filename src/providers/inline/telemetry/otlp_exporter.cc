#include "providers/inline/telemetry/otlp_exporter.h"

#include <cstdlib>

#include <google/protobuf/arena.h>
#include "core/log/log.h"
#include "core/util/json.h"
#include "core/util/metrics.h"

#include "proto/otlp.pb.h"

namespace llama_stack::providers::inline_ {
namespace {

namespace pb = llama_stack::otlp;

std::optional<std::string> env(const char* name) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') return std::nullopt;
  return std::string(v);
}

std::string trimmed(std::string s) {
  s.erase(0, s.find_first_not_of(" \t"));
  s.erase(s.find_last_not_of(" \t") + 1);
  return s;
}

// "%XX" escapes of the W3C baggage format that OTEL_EXPORTER_OTLP_HEADERS uses.
std::string percent_decoded(const std::string& s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      out += static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

// 32 or 16 hex digits → 16 or 8 bytes; empty when not hex of that length.
std::string id_bytes(const std::string& hex, std::size_t digits) {
  if (hex.size() != digits) return {};
  std::string out(digits / 2, '\0');
  for (std::size_t i = 0; i < digits; i += 2) {
    auto nibble = [](char c) -> int {
      if (c >= '0' && c <= '9') return c - '0';
      if (c >= 'a' && c <= 'f') return c - 'a' + 10;
      if (c >= 'A' && c <= 'F') return c - 'A' + 10;
      return -1;
    };
    const int hi = nibble(hex[i]), lo = nibble(hex[i + 1]);
    if (hi < 0 || lo < 0) return {};
    out[i / 2] = static_cast<char>(hi * 16 + lo);
  }
  return out;
}

void set_value(pb::AnyValue& out, const json::value& v) {
  if (v.is_string()) {
    out.set_string_value(std::string(v.get_string()));
  } else if (v.is_bool()) {
    out.set_bool_value(v.get_bool());
  } else if (v.is_int64()) {
    out.set_int_value(v.get_int64());
  } else if (v.is_uint64()) {
    out.set_int_value(static_cast<std::int64_t>(v.get_uint64()));
  } else if (v.is_double()) {
    out.set_double_value(v.get_double());
  } else {
    out.set_string_value(json::serialize(v));
  }
}

void add_attribute(google::protobuf::RepeatedPtrField<pb::KeyValue>& out, std::string key,
                   const json::value& value) {
  pb::KeyValue* kv = out.Add();
  kv->set_key(std::move(key));
  set_value(*kv->mutable_value(), value);
}

void fill_resource(pb::Resource& resource, const std::string& service_name) {
  add_attribute(*resource.mutable_attributes(), "service.name", json::value(service_name));
  add_attribute(*resource.mutable_attributes(), "service.version",
                json::value(LLAMA_STACK_VERSION));
  add_attribute(*resource.mutable_attributes(), "telemetry.sdk.name",
                json::value("llama-stack-cpp"));
  add_attribute(*resource.mutable_attributes(), "telemetry.sdk.language", json::value("cpp"));
}

void fill_scope(pb::InstrumentationScope& scope) {
  scope.set_name("llama-stack");
  scope.set_version(LLAMA_STACK_VERSION);
}

std::int64_t now_unix_nano() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

OtlpSettings OtlpSettings::from(std::optional<std::string> trace_endpoint,
                                std::optional<std::string> metric_endpoint, bool traces,
                                bool metrics, std::string service_name) {
  OtlpSettings s;
  s.service_name = std::move(service_name);
  std::optional<std::string> base = env("OTEL_EXPORTER_OTLP_ENDPOINT");
  if (base) {
    while (!base->empty() && base->back() == '/') base->pop_back();
  }
  auto resolve = [&](std::optional<std::string> configured, const char* specific,
                     const char* path) -> std::optional<std::string> {
    if (auto v = env(specific)) return v;
    if (configured) return configured;
    if (base) return *base + path;
    return std::nullopt;
  };
  if (traces) {
    s.traces_url =
        resolve(std::move(trace_endpoint), "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "/v1/traces");
    if (!s.traces_url) s.traces_url = "http://localhost:4318/v1/traces";  // the OTLP default
  }
  if (metrics) {
    s.metrics_url =
        resolve(std::move(metric_endpoint), "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", "/v1/metrics");
    if (!s.metrics_url) s.metrics_url = "http://localhost:4318/v1/metrics";
  }
  if (auto headers = env("OTEL_EXPORTER_OTLP_HEADERS")) {
    std::size_t pos = 0;
    while (pos <= headers->size()) {
      std::size_t comma = headers->find(',', pos);
      if (comma == std::string::npos) comma = headers->size();
      const std::string pair = headers->substr(pos, comma - pos);
      if (const auto eq = pair.find('='); eq != std::string::npos) {
        std::string name = trimmed(pair.substr(0, eq));
        if (!name.empty())
          s.headers.emplace_back(name, percent_decoded(trimmed(pair.substr(eq + 1))));
      }
      pos = comma + 1;
    }
  }
  auto millis = [](const char* name) -> std::optional<std::chrono::milliseconds> {
    if (auto v = env(name)) {
      char* end = nullptr;
      const long n = std::strtol(v->c_str(), &end, 10);
      if (*end == '\0' && n > 0) return std::chrono::milliseconds(n);
      LS_WARN(kCore, "telemetry: {}='{}' is not a positive number of milliseconds (ignored)", name,
              *v);
    }
    return std::nullopt;
  };
  if (auto interval = millis("OTEL_METRIC_EXPORT_INTERVAL")) s.metric_interval = *interval;
  if (auto timeout = millis("OTEL_EXPORTER_OTLP_TIMEOUT")) s.timeout = *timeout;
  return s;
}

OtlpExporter::OtlpExporter(IoRuntime& runtime, OtlpSettings settings)
    : settings_(std::move(settings)), start_unix_nano_(now_unix_nano()) {
  http::ClientOptions options;
  options.connect_timeout = settings_.timeout;
  options.read_timeout = settings_.timeout;
  options.max_idle_per_origin = 2;
  client_ = http::HttpClient::create(runtime, options);
  thread_ = std::thread([this] { run(); });
}

OtlpExporter::~OtlpExporter() {
  stop();
}

void OtlpExporter::stop() {
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return;
    stopping_ = true;
    stop_deadline_ = std::chrono::steady_clock::now() + kShutdownBudget;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void OtlpExporter::enqueue(std::deque<apis::SpanRecord> spans) {
  if (!settings_.traces_url) return;
  std::size_t dropped = 0;
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return;
    for (auto& span : spans) {
      if (queue_.size() >= settings_.max_queue) {
        ++dropped;
        continue;
      }
      queue_.push_back(std::move(span));
    }
  }
  if (dropped > 0) count_dropped(dropped, "otlp_queue_full");
  wake_.notify_one();
}

void OtlpExporter::count_dropped(std::size_t n, const char* reason) {
  metrics::catalog().spans_dropped.with({reason}).inc(n);
  const auto now = std::chrono::steady_clock::now();
  std::lock_guard lock(mutex_);
  if (now - last_drop_log_ > std::chrono::minutes(1)) {
    last_drop_log_ = now;
    LS_WARN(kCore, "telemetry: {} span(s) dropped by the OTLP exporter ({})", n, reason);
  }
}

void OtlpExporter::run() {
  auto next_metrics = std::chrono::steady_clock::now() + settings_.metric_interval;
  for (;;) {
    std::vector<apis::SpanRecord> batch;
    bool stopping;
    {
      std::unique_lock lock(mutex_);
      wake_.wait_until(lock, next_metrics, [&] { return stopping_ || !queue_.empty(); });
      // A short pause lets a burst fill the batch.
      if (!stopping_ && !queue_.empty() && queue_.size() < kMaxBatch) {
        wake_.wait_for(lock, std::chrono::milliseconds(100),
                       [&] { return stopping_ || queue_.size() >= kMaxBatch; });
      }
      stopping = stopping_;
      if (stopping && std::chrono::steady_clock::now() > stop_deadline_ && !queue_.empty()) {
        const std::size_t left = queue_.size();
        queue_.clear();
        lock.unlock();
        count_dropped(left, "shutdown");
        lock.lock();
      }
      while (!queue_.empty() && batch.size() < kMaxBatch) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    if (!batch.empty()) export_spans(std::move(batch));
    const bool drained = [&] {
      std::lock_guard lock(mutex_);
      return queue_.empty();
    }();
    if (settings_.metrics_url &&
        (std::chrono::steady_clock::now() >= next_metrics || (stopping && drained))) {
      export_metrics();
      next_metrics = std::chrono::steady_clock::now() + settings_.metric_interval;
    }
    if (stopping && drained) return;
  }
}

void OtlpExporter::export_spans(std::vector<apis::SpanRecord> batch) {
  // One arena per request: the thousands of small messages and strings of a
  // batch are one allocation and one free.
  google::protobuf::Arena arena;
  auto& request = *google::protobuf::Arena::CreateMessage<pb::ExportTraceServiceRequest>(&arena);
  pb::ResourceSpans* rs = request.add_resource_spans();
  fill_resource(*rs->mutable_resource(), settings_.service_name);
  pb::ScopeSpans* ss = rs->add_scope_spans();
  fill_scope(*ss->mutable_scope());
  for (const auto& span : batch) {
    std::string trace_id = id_bytes(span.trace_id, 32);
    std::string span_id = id_bytes(span.span_id, 16);
    if (trace_id.empty() || span_id.empty()) continue;  // e.g. a logged event's own id
    pb::Span* s = ss->add_spans();
    s->set_trace_id(std::move(trace_id));
    s->set_span_id(std::move(span_id));
    if (!span.parent_span_id.empty()) s->set_parent_span_id(id_bytes(span.parent_span_id, 16));
    s->set_name(span.name);
    if (span.parent_span_id.empty()) {
      s->set_kind(pb::Span::SPAN_KIND_SERVER);
    } else if (span.name.starts_with("inference.")) {
      s->set_kind(pb::Span::SPAN_KIND_CLIENT);
    } else {
      s->set_kind(pb::Span::SPAN_KIND_INTERNAL);
    }
    s->set_start_time_unix_nano(static_cast<std::uint64_t>(span.start_us) * 1000);
    s->set_end_time_unix_nano(static_cast<std::uint64_t>(span.end_us) * 1000);
    for (const auto& [key, value] : span.attributes) {
      if (key.starts_with("__")) continue;  // our markers (__root__), not attributes
      add_attribute(*s->mutable_attributes(), std::string(key), value);
    }
    if (span.status == "error") s->mutable_status()->set_code(pb::Status::STATUS_CODE_ERROR);
  }
  if (ss->spans_size() == 0) return;
  const std::size_t count = static_cast<std::size_t>(ss->spans_size());
  if (post(*settings_.traces_url, request.SerializeAsString(), "spans")) {
    metrics::catalog().spans_exported.with({}).inc(count);
  } else {
    count_dropped(count, "otlp_export_failed");
  }
}

void OtlpExporter::export_metrics() {
  google::protobuf::Arena arena;
  auto& request = *google::protobuf::Arena::CreateMessage<pb::ExportMetricsServiceRequest>(&arena);
  pb::ResourceMetrics* rm = request.add_resource_metrics();
  fill_resource(*rm->mutable_resource(), settings_.service_name);
  pb::ScopeMetrics* sm = rm->add_scope_metrics();
  fill_scope(*sm->mutable_scope());
  const auto now = static_cast<std::uint64_t>(now_unix_nano());
  const auto start = static_cast<std::uint64_t>(start_unix_nano_);
  for (const auto& family : metrics::Registry::global().snapshot()) {
    if (family.series.empty()) continue;
    pb::Metric* m = sm->add_metrics();
    m->set_name(family.name);
    m->set_description(family.help);
    if (family.name.ends_with("_seconds") || family.name.ends_with("_seconds_total")) {
      m->set_unit("s");
    } else if (family.name.ends_with("_bytes")) {
      m->set_unit("By");
    }
    auto attributes = [&](const metrics::SeriesSnapshot& s,
                          google::protobuf::RepeatedPtrField<pb::KeyValue>& out) {
      for (std::size_t i = 0; i < family.label_names.size() && i < s.label_values.size(); ++i) {
        if (!s.label_values[i].empty()) {
          add_attribute(out, family.label_names[i], json::value(s.label_values[i]));
        }
      }
    };
    switch (family.type) {
      case metrics::Type::kCounter: {
        pb::Sum* sum = m->mutable_sum();
        sum->set_aggregation_temporality(pb::AGGREGATION_TEMPORALITY_CUMULATIVE);
        sum->set_is_monotonic(true);
        for (const auto& s : family.series) {
          pb::NumberDataPoint* p = sum->add_data_points();
          attributes(s, *p->mutable_attributes());
          p->set_start_time_unix_nano(start);
          p->set_time_unix_nano(now);
          p->set_as_double(s.value);
        }
        break;
      }
      case metrics::Type::kGauge: {
        pb::Gauge* gauge = m->mutable_gauge();
        for (const auto& s : family.series) {
          pb::NumberDataPoint* p = gauge->add_data_points();
          attributes(s, *p->mutable_attributes());
          p->set_time_unix_nano(now);
          p->set_as_double(s.value);
        }
        break;
      }
      case metrics::Type::kHistogram: {
        pb::Histogram* histogram = m->mutable_histogram();
        histogram->set_aggregation_temporality(pb::AGGREGATION_TEMPORALITY_CUMULATIVE);
        for (const auto& s : family.series) {
          pb::HistogramDataPoint* p = histogram->add_data_points();
          attributes(s, *p->mutable_attributes());
          p->set_start_time_unix_nano(start);
          p->set_time_unix_nano(now);
          p->set_count(s.count);
          p->set_sum(s.sum);
          for (std::uint64_t b : s.buckets) p->add_bucket_counts(b);
          for (double b : family.bounds) p->add_explicit_bounds(b);
        }
        break;
      }
    }
  }
  post(*settings_.metrics_url, request.SerializeAsString(), "metrics");
}

bool OtlpExporter::post(const std::string& url, const std::string& body, const char* what) {
  auto backoff = std::chrono::milliseconds(500);
  constexpr int kAttempts = 5;
  for (int attempt = 1;; ++attempt) {
    http::ClientRequest request;
    request.method = "POST";
    request.url = url;
    request.body = body;
    request.headers.set("content-type", "application/x-protobuf");
    for (const auto& [name, value] : settings_.headers) request.headers.set(name, value);
    request.read_timeout = settings_.timeout;
    const http::ClientResult result = client_->fetch_sync(std::move(request));
    if (!result.error && result.status >= 200 && result.status < 300) return true;
    const bool retryable = result.error || result.status == 429 || result.status == 502 ||
                           result.status == 503 || result.status == 504;
    const std::string problem =
        result.error ? result.error->message : "HTTP " + std::to_string(result.status);
    bool stopping;
    {
      std::lock_guard lock(mutex_);
      stopping = stopping_;  // shutting down: one attempt each, no waiting
    }
    if (!retryable || attempt >= kAttempts || stopping) {
      LS_WARN(kCore, "telemetry: OTLP export of {} to {} failed ({}){}", what, url, problem,
              retryable ? " after " + std::to_string(attempt) + " attempts" : "");
      return false;
    }
    LS_DEBUG(kCore, "telemetry: OTLP export of {} to {} failed ({}), retrying in {} ms", what, url,
             problem, backoff.count());
    std::unique_lock lock(mutex_);
    wake_.wait_for(lock, backoff, [&] { return stopping_; });
    backoff = std::min(backoff * 2, std::chrono::milliseconds(8000));
  }
}

}  // namespace llama_stack::providers::inline_
