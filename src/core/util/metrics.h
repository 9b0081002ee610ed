// Process-wide metrics: counters, gauges and histograms in families with
// bounded label sets, exposed as Prometheus text (GET /metrics) and
// snapshotted for the OTLP exporter.
//
// Our own small registry rather than prometheus-cpp (not in Debian 12): the
// request path pays one shared-lock lookup of a series by its label values
// (a reused thread-local key, no allocation once the series exists) and
// relaxed atomic adds; callers that know their labels up front keep the
// series reference and pay only the adds. Series are never removed, so
// references stay valid for the life of the process.
//
// Cardinality is bounded: a family holds at most kMaxSeries label sets;
// further ones are folded into one series whose labels are all "other"
// (counted in llama_stack_metrics_overflow_total). Empty label values are
// left out of the exposition (Prometheus treats them as absent).
#pragma once

#include <atomic>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace llama_stack::metrics {

enum class Type { kCounter, kGauge, kHistogram };

class Counter {
 public:
  void inc(std::uint64_t n = 1) noexcept { value_.fetch_add(n, std::memory_order_relaxed); }
  std::uint64_t value() const noexcept { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> value_{0};
};

class Gauge {
 public:
  void add(double d) noexcept { value_.fetch_add(d, std::memory_order_relaxed); }
  void set(double v) noexcept { value_.store(v, std::memory_order_relaxed); }
  double value() const noexcept { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

class Histogram {
 public:
  // `bounds`: ascending upper bounds, owned by the family (outlives this).
  explicit Histogram(const std::vector<double>& bounds);
  void observe(double v) noexcept;
  // Non-cumulative counts per bucket (bounds().size() + 1, the last is +Inf).
  std::vector<std::uint64_t> buckets() const;
  double sum() const noexcept { return sum_.load(std::memory_order_relaxed); }
  std::uint64_t count() const noexcept { return count_.load(std::memory_order_relaxed); }
  const std::vector<double>& bounds() const { return bounds_; }

 private:
  const std::vector<double>& bounds_;
  std::unique_ptr<std::atomic<std::uint64_t>[]> buckets_;
  std::atomic<double> sum_{0};
  std::atomic<std::uint64_t> count_{0};
};

// One series of a snapshot, whatever its type.
struct SeriesSnapshot {
  std::vector<std::string> label_values;
  double value = 0;                    // counter, gauge
  std::vector<std::uint64_t> buckets;  // histogram (non-cumulative)
  double sum = 0;
  std::uint64_t count = 0;
};

struct FamilySnapshot {
  std::string name, help;
  Type type = Type::kCounter;
  std::vector<std::string> label_names;
  std::vector<double> bounds;  // histogram
  std::vector<SeriesSnapshot> series;
};

class FamilyBase {
 public:
  static constexpr std::size_t kMaxSeries = 1000;
  FamilyBase(std::string name, std::string help, Type type, std::vector<std::string> labels,
             std::vector<double> bounds)
      : name_(std::move(name)),
        help_(std::move(help)),
        type_(type),
        labels_(std::move(labels)),
        bounds_(std::move(bounds)) {}
  virtual ~FamilyBase() = default;
  virtual FamilySnapshot snapshot() const = 0;
  const std::string& name() const { return name_; }

 protected:
  // Joins label values into a map key (0x1f separated) in a reused buffer.
  static void build_key(std::initializer_list<std::string_view> values, std::string& key);
  // The labels of the overflow series, and counts the overflow.
  std::vector<std::string> overflow_labels() const;
  FamilySnapshot header() const;

  std::string name_, help_;
  Type type_;
  std::vector<std::string> labels_;
  std::vector<double> bounds_;
};

template <class Series>
class Family final : public FamilyBase {
 public:
  using FamilyBase::FamilyBase;
  // The series with these label values (as many as the family's labels).
  Series& with(std::initializer_list<std::string_view> values) {
    thread_local std::string key;
    build_key(values, key);
    {
      std::shared_lock lock(mutex_);
      if (auto it = series_.find(std::string_view(key)); it != series_.end()) {
        return *it->second.series;
      }
    }
    return add(values, key);
  }
  FamilySnapshot snapshot() const override;

 private:
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept {
      return std::hash<std::string_view>{}(s);
    }
  };
  struct Entry {
    std::vector<std::string> label_values;
    std::unique_ptr<Series> series;
  };
  Series& add(std::initializer_list<std::string_view> values, const std::string& key);

  mutable std::shared_mutex mutex_;
  std::unordered_map<std::string, Entry, Hash, std::equal_to<>> series_;
};

class Registry {
 public:
  static Registry& global();

  Family<Counter>& counter(std::string name, std::string help, std::vector<std::string> labels);
  Family<Gauge>& gauge(std::string name, std::string help, std::vector<std::string> labels);
  Family<Histogram>& histogram(std::string name, std::string help, std::vector<std::string> labels,
                               std::vector<double> bounds);

  // Every family, in registration order, then the process metrics
  // (process_cpu_seconds_total, process_resident_memory_bytes, ...).
  std::vector<FamilySnapshot> snapshot() const;

 private:
  template <class Series>
  Family<Series>& add(std::string name, std::string help, Type type,
                      std::vector<std::string> labels, std::vector<double> bounds);

  mutable std::mutex mutex_;
  std::vector<std::unique_ptr<FamilyBase>> families_;
};

// The Prometheus text exposition format (version 0.0.4) of a snapshot.
std::string to_prometheus_text(const std::vector<FamilySnapshot>& families);

// Process metrics read from /proc/self at the time of the call.
std::vector<FamilySnapshot> process_snapshot();

// Whether the request path records metrics (server.metrics.enabled); set once
// at startup, before serving.
bool enabled() noexcept;
void set_enabled(bool on) noexcept;
// Whether token counters carry the principal (server.metrics.principal_labels).
bool principal_labels() noexcept;
void set_principal_labels(bool on) noexcept;

// Bucket bounds in seconds for request-like durations (1 ms … 60 s).
const std::vector<double>& duration_buckets();

// Every metric the server records, registered on first use of catalog() (the
// server calls it at startup so all families are listed from the first scrape).
struct Catalog {
  Family<Counter>& http_requests;            // route, method, status
  Family<Histogram>& http_request_duration;  // route, method
  Family<Gauge>& http_in_flight;             // -
  Family<Histogram>& upstream_duration;      // provider, model, kind
  Family<Counter>& upstream_errors;          // provider, model, kind, status
  Family<Histogram>& time_to_first_token;    // provider, model
  Family<Histogram>& tokens_per_second;      // provider, model
  Family<Counter>& prompt_tokens;            // model, principal
  Family<Counter>& completion_tokens;        // model, principal
  Family<Counter>& auth_failures;            // reason
  Family<Counter>& quota_rejections;         // -
  Family<Counter>& rate_limit_rejections;    // tier
  Family<Counter>& safety_violations;        // shield, category
  Family<Histogram>& kvstore_duration;       // backend, operation
  Family<Counter>& audit_dropped;            // -
  Family<Counter>& spans_dropped;            // reason
  Family<Counter>& spans_exported;           // -
  Family<Counter>& overflow;                 // family
  Family<Gauge>& build_info;                 // version
};
const Catalog& catalog();

}  // namespace llama_stack::metrics
