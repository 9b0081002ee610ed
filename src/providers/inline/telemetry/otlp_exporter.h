// OTLP/HTTP export (protobuf, `application/x-protobuf`) of spans and of the
// server's metrics, for the `otel_trace` and `otel_metric` sinks.
//
// One exporter thread (never an I/O thread, never a request's): spans are
// handed over in batches by the telemetry writer into a bounded queue and
// sent in requests of up to kMaxBatch spans; the metrics registry is
// snapshotted every metric interval and sent with cumulative temporality.
// A failed export (connect error, timeout, 429, 5xx) is retried with
// exponential backoff (0.5 s doubling up to 8 s, 5 attempts), then dropped;
// other 4xx are dropped at once. Whatever is dropped — queue full or export
// given up — is counted (llama_stack_telemetry_spans_dropped_total) and
// logged at most once a minute. A collector that is down or slow costs the
// request path nothing.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/http/http_client.h"
#include "llama_stack/apis/telemetry.h"

namespace llama_stack::providers::inline_ {

struct OtlpSettings {
  std::optional<std::string> traces_url;                     // full URL (…/v1/traces)
  std::optional<std::string> metrics_url;                    // full URL (…/v1/metrics)
  std::vector<std::pair<std::string, std::string>> headers;  // OTEL_EXPORTER_OTLP_HEADERS
  std::string service_name = "llama-stack";
  std::chrono::milliseconds metric_interval{60'000};  // OTEL_METRIC_EXPORT_INTERVAL
  std::chrono::milliseconds timeout{10'000};          // OTEL_EXPORTER_OTLP_TIMEOUT
  std::size_t max_queue = 10'000;

  // The OTEL_EXPORTER_OTLP_* environment (and OTEL_METRIC_EXPORT_INTERVAL)
  // over the config's endpoints: a signal-specific variable is a full URL,
  // OTEL_EXPORTER_OTLP_ENDPOINT a base URL that gets /v1/traces or /v1/metrics.
  static OtlpSettings from(std::optional<std::string> trace_endpoint,
                           std::optional<std::string> metric_endpoint, bool traces, bool metrics,
                           std::string service_name);
};

class OtlpExporter {
 public:
  static constexpr std::size_t kMaxBatch = 512;
  // How long stop() keeps exporting what is queued before dropping the rest.
  static constexpr std::chrono::seconds kShutdownBudget{5};

  OtlpExporter(IoRuntime& runtime, OtlpSettings settings);
  ~OtlpExporter();
  OtlpExporter(const OtlpExporter&) = delete;
  OtlpExporter& operator=(const OtlpExporter&) = delete;

  // Queues spans for export; what does not fit is dropped (counted).
  void enqueue(std::deque<apis::SpanRecord> spans);
  // Sends what is queued and a last metrics snapshot (bounded by the
  // timeout), then stops the thread.
  void stop();

  const OtlpSettings& settings() const { return settings_; }

 private:
  void run();
  void export_spans(std::vector<apis::SpanRecord> batch);
  void export_metrics();
  // POSTs with retries; true when the collector accepted it.
  bool post(const std::string& url, const std::string& body, const char* what);
  void count_dropped(std::size_t n, const char* reason);

  OtlpSettings settings_;
  std::shared_ptr<http::HttpClient> client_;
  std::int64_t start_unix_nano_ = 0;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<apis::SpanRecord> queue_;
  bool stopping_ = false;
  std::chrono::steady_clock::time_point stop_deadline_{};
  std::chrono::steady_clock::time_point last_drop_log_{};
  std::thread thread_;
};

}  // namespace llama_stack::providers::inline_
