#include "core/util/metrics.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace llama_stack::metrics {
namespace {

std::atomic<bool> g_enabled{true};
std::atomic<bool> g_principal_labels{false};

// Prometheus label value escaping: backslash, double quote, newline.
void append_escaped(std::string& out, std::string_view value) {
  for (char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
}

void append_number(std::string& out, double v) {
  if (v == static_cast<double>(static_cast<std::int64_t>(v)) && std::abs(v) < 1e15) {
    fmt::format_to(std::back_inserter(out), "{}", static_cast<std::int64_t>(v));
  } else {
    fmt::format_to(std::back_inserter(out), "{}", v);
  }
}

// {a="x",b="y"} plus an optional extra pair (le="…"); empty values left out.
void append_labels(std::string& out, const std::vector<std::string>& names,
                   const std::vector<std::string>& values, std::string_view extra_name = {},
                   std::string_view extra_value = {}) {
  bool any = false;
  auto pair = [&](std::string_view name, std::string_view value) {
    out += any ? ',' : '{';
    any = true;
    out += name;
    out += "=\"";
    append_escaped(out, value);
    out += '"';
  };
  for (std::size_t i = 0; i < names.size() && i < values.size(); ++i) {
    if (!values[i].empty()) pair(names[i], values[i]);
  }
  if (!extra_name.empty()) pair(extra_name, extra_value);
  if (any) out += '}';
}

const char* type_name(Type t) {
  switch (t) {
    case Type::kCounter:
      return "counter";
    case Type::kGauge:
      return "gauge";
    case Type::kHistogram:
      return "histogram";
  }
  return "untyped";
}

FamilySnapshot single(std::string name, std::string help, Type type, double value) {
  FamilySnapshot f;
  f.name = std::move(name);
  f.help = std::move(help);
  f.type = type;
  SeriesSnapshot s;
  s.value = value;
  f.series.push_back(std::move(s));
  return f;
}

}  // namespace

Histogram::Histogram(const std::vector<double>& bounds)
    : bounds_(bounds), buckets_(new std::atomic<std::uint64_t>[bounds.size() + 1]) {
  for (std::size_t i = 0; i <= bounds.size(); ++i) buckets_[i].store(0);
}

void Histogram::observe(double v) noexcept {
  const std::size_t i = static_cast<std::size_t>(
      std::lower_bound(bounds_.begin(), bounds_.end(), v) - bounds_.begin());
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(v, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
}

std::vector<std::uint64_t> Histogram::buckets() const {
  std::vector<std::uint64_t> out(bounds_.size() + 1);
  for (std::size_t i = 0; i < out.size(); ++i) out[i] = buckets_[i].load(std::memory_order_relaxed);
  return out;
}

void FamilyBase::build_key(std::initializer_list<std::string_view> values, std::string& key) {
  key.clear();
  for (std::string_view v : values) {
    key.append(v);
    key += '\x1f';
  }
}

std::vector<std::string> FamilyBase::overflow_labels() const {
  return std::vector<std::string>(labels_.size(), "other");
}

FamilySnapshot FamilyBase::header() const {
  FamilySnapshot f;
  f.name = name_;
  f.help = help_;
  f.type = type_;
  f.label_names = labels_;
  f.bounds = bounds_;
  return f;
}

template <class Series>
Series& Family<Series>::add(std::initializer_list<std::string_view> values,
                            const std::string& key) {
  Series* out = nullptr;
  bool overflowed = false;
  {
    std::unique_lock lock(mutex_);
    if (auto it = series_.find(std::string_view(key)); it != series_.end()) {
      return *it->second.series;
    }
    std::vector<std::string> label_values(values.begin(), values.end());
    label_values.resize(labels_.size());
    std::string map_key = key;
    if (series_.size() >= kMaxSeries) {
      overflowed = true;
      label_values = overflow_labels();
      map_key.clear();
      for (const auto& v : label_values) map_key += v + '\x1f';
    }
    if (auto it = series_.find(std::string_view(map_key)); it != series_.end()) {
      out = it->second.series.get();
    } else {
      std::unique_ptr<Series> series;
      if constexpr (std::is_same_v<Series, Histogram>) {
        series = std::make_unique<Histogram>(bounds_);
      } else {
        series = std::make_unique<Series>();
      }
      out = series.get();
      series_.emplace(std::move(map_key), Entry{std::move(label_values), std::move(series)});
    }
  }
  if (overflowed) catalog().overflow.with({name_}).inc();
  return *out;
}

template <class Series>
FamilySnapshot Family<Series>::snapshot() const {
  FamilySnapshot f = header();
  std::shared_lock lock(mutex_);
  f.series.reserve(series_.size());
  for (const auto& [key, entry] : series_) {
    SeriesSnapshot s;
    s.label_values = entry.label_values;
    if constexpr (std::is_same_v<Series, Histogram>) {
      s.buckets = entry.series->buckets();
      s.sum = entry.series->sum();
      s.count = entry.series->count();
    } else {
      s.value = static_cast<double>(entry.series->value());
    }
    f.series.push_back(std::move(s));
  }
  lock.unlock();
  std::sort(f.series.begin(), f.series.end(),
            [](const auto& a, const auto& b) { return a.label_values < b.label_values; });
  return f;
}

template class Family<Counter>;
template class Family<Gauge>;
template class Family<Histogram>;

Registry& Registry::global() {
  static Registry* registry = new Registry();  // never destroyed: used until exit
  return *registry;
}

template <class Series>
Family<Series>& Registry::add(std::string name, std::string help, Type type,
                              std::vector<std::string> labels, std::vector<double> bounds) {
  auto family = std::make_unique<Family<Series>>(std::move(name), std::move(help), type,
                                                 std::move(labels), std::move(bounds));
  Family<Series>& out = *family;
  std::lock_guard lock(mutex_);
  families_.push_back(std::move(family));
  return out;
}

Family<Counter>& Registry::counter(std::string name, std::string help,
                                   std::vector<std::string> labels) {
  return add<Counter>(std::move(name), std::move(help), Type::kCounter, std::move(labels), {});
}

Family<Gauge>& Registry::gauge(std::string name, std::string help,
                               std::vector<std::string> labels) {
  return add<Gauge>(std::move(name), std::move(help), Type::kGauge, std::move(labels), {});
}

Family<Histogram>& Registry::histogram(std::string name, std::string help,
                                       std::vector<std::string> labels,
                                       std::vector<double> bounds) {
  return add<Histogram>(std::move(name), std::move(help), Type::kHistogram, std::move(labels),
                        std::move(bounds));
}

std::vector<FamilySnapshot> Registry::snapshot() const {
  std::vector<FamilySnapshot> out;
  {
    std::lock_guard lock(mutex_);
    out.reserve(families_.size() + 8);
    for (const auto& f : families_) out.push_back(f->snapshot());
  }
  for (auto& p : process_snapshot()) out.push_back(std::move(p));
  return out;
}

std::string to_prometheus_text(const std::vector<FamilySnapshot>& families) {
  std::string out;
  out.reserve(16 * 1024);
  for (const auto& f : families) {
    fmt::format_to(std::back_inserter(out), "# HELP {} {}\n# TYPE {} {}\n", f.name, f.help, f.name,
                   type_name(f.type));
    for (const auto& s : f.series) {
      if (f.type != Type::kHistogram) {
        out += f.name;
        append_labels(out, f.label_names, s.label_values);
        out += ' ';
        append_number(out, s.value);
        out += '\n';
        continue;
      }
      std::uint64_t cumulative = 0;
      for (std::size_t i = 0; i < s.buckets.size(); ++i) {
        cumulative += s.buckets[i];
        out += f.name;
        out += "_bucket";
        std::string le = "+Inf";
        if (i < f.bounds.size()) {
          le.clear();
          append_number(le, f.bounds[i]);
        }
        append_labels(out, f.label_names, s.label_values, "le", le);
        fmt::format_to(std::back_inserter(out), " {}\n", cumulative);
      }
      out += f.name;
      out += "_sum";
      append_labels(out, f.label_names, s.label_values);
      out += ' ';
      append_number(out, s.sum);
      out += '\n';
      out += f.name;
      out += "_count";
      append_labels(out, f.label_names, s.label_values);
      fmt::format_to(std::back_inserter(out), " {}\n", s.count);
    }
  }
  return out;
}

std::vector<FamilySnapshot> process_snapshot() {
  std::vector<FamilySnapshot> out;
  const double ticks = static_cast<double>(::sysconf(_SC_CLK_TCK));
  const double page = static_cast<double>(::sysconf(_SC_PAGESIZE));
  std::ifstream stat("/proc/self/stat");
  std::string line;
  if (std::getline(stat, line)) {
    // Fields after the command name (which may hold spaces) in parentheses.
    const auto close = line.rfind(')');
    std::istringstream rest(close == std::string::npos ? "" : line.substr(close + 2));
    std::vector<std::string> fields;
    for (std::string f; rest >> f;) fields.push_back(f);
    // fields[0] is field 3 (state): utime 14, stime 15, num_threads 20,
    // starttime 22, vsize 23, rss 24.
    auto field = [&](std::size_t n) {
      return n - 3 < fields.size() ? std::strtod(fields[n - 3].c_str(), nullptr) : 0.0;
    };
    out.push_back(single("process_cpu_seconds_total", "User and system CPU time in seconds.",
                         Type::kCounter, (field(14) + field(15)) / ticks));
    out.push_back(single("process_resident_memory_bytes", "Resident memory size in bytes.",
                         Type::kGauge, field(24) * page));
    out.push_back(single("process_virtual_memory_bytes", "Virtual memory size in bytes.",
                         Type::kGauge, field(23)));
    out.push_back(single("process_threads", "Number of OS threads.", Type::kGauge, field(20)));
    std::ifstream uptime_file("/proc/uptime");
    double uptime = 0;
    uptime_file >> uptime;
    const double now = static_cast<double>(std::chrono::duration_cast<std::chrono::seconds>(
                                               std::chrono::system_clock::now().time_since_epoch())
                                               .count());
    out.push_back(single("process_start_time_seconds",
                         "Start time of the process since the Unix epoch in seconds.", Type::kGauge,
                         now - uptime + field(22) / ticks));
  }
  std::error_code ec;
  double fds = 0;
  for (auto it = std::filesystem::directory_iterator("/proc/self/fd", ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
    ++fds;
  }
  out.push_back(single("process_open_fds", "Number of open file descriptors.", Type::kGauge, fds));
  return out;
}

bool enabled() noexcept {
  return g_enabled.load(std::memory_order_relaxed);
}
void set_enabled(bool on) noexcept {
  g_enabled.store(on, std::memory_order_relaxed);
}
bool principal_labels() noexcept {
  return g_principal_labels.load(std::memory_order_relaxed);
}
void set_principal_labels(bool on) noexcept {
  g_principal_labels.store(on, std::memory_order_relaxed);
}

const std::vector<double>& duration_buckets() {
  static const std::vector<double> buckets{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                           0.5,   1,      2.5,   5,    10,    30,   60};
  return buckets;
}

const Catalog& catalog() {
  static const Catalog* c = [] {
    Registry& r = Registry::global();
    const auto& d = duration_buckets();
    const std::vector<double> fast{0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025,
                                   0.005,   0.01,   0.025,   0.05,   0.1,   0.5};
    const std::vector<double> rates{1, 5, 10, 20, 50, 100, 200, 500, 1000};
    return new Catalog{
        r.counter("llama_stack_http_requests_total",
                  "HTTP requests served, by route template, method and status.",
                  {"route", "method", "status"}),
        r.histogram("llama_stack_http_request_duration_seconds",
                    "Time from the request head to the end of the response, in seconds.",
                    {"route", "method"}, d),
        r.gauge("llama_stack_http_requests_in_flight", "Requests being served.", {}),
        r.histogram("llama_stack_upstream_request_duration_seconds",
                    "Duration of calls to model servers, in seconds.",
                    {"provider", "model", "kind"}, d),
        r.counter("llama_stack_upstream_errors_total",
                  "Failed calls to model servers, by the status the caller got.",
                  {"provider", "model", "kind", "status"}),
        r.histogram("llama_stack_time_to_first_token_seconds",
                    "Time from a streamed call's start to its first chunk, in seconds.",
                    {"provider", "model"}, d),
        r.histogram("llama_stack_tokens_per_second",
                    "Completion tokens per second of generation, per call.", {"provider", "model"},
                    rates),
        r.counter("llama_stack_prompt_tokens_total", "Prompt tokens reported by model servers.",
                  {"model", "principal"}),
        r.counter("llama_stack_completion_tokens_total",
                  "Completion tokens reported by model servers.", {"model", "principal"}),
        r.counter("llama_stack_auth_failures_total", "Requests refused by authentication.",
                  {"reason"}),
        r.counter("llama_stack_quota_rejections_total", "Requests refused by the quota.", {}),
        r.counter("llama_stack_rate_limit_rejections_total",
                  "Requests refused by the rate limiter, by tier.", {"tier"}),
        r.counter("llama_stack_safety_violations_total",
                  "Shield runs that found a violation, by shield and category.",
                  {"shield", "category"}),
        r.histogram("llama_stack_kvstore_operation_duration_seconds",
                    "Duration of key-value store operations, in seconds.", {"backend", "operation"},
                    fast),
        r.counter("llama_stack_audit_dropped_total", "Audit records dropped (queue full).", {}),
        r.counter("llama_stack_telemetry_spans_dropped_total",
                  "Spans dropped by the telemetry provider, by reason.", {"reason"}),
        r.counter("llama_stack_telemetry_spans_exported_total",
                  "Spans accepted by the OTLP collector.", {}),
        r.counter("llama_stack_metrics_overflow_total",
                  "Series folded into 'other' because a family reached its series limit.",
                  {"family"}),
        r.gauge("llama_stack_build_info", "Always 1; the version is a label.", {"version"}),
    };
  }();
  return *c;
}

}  // namespace llama_stack::metrics
