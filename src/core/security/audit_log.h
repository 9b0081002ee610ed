// The audit log: one structured JSON line per security-relevant decision
// (authentication failures, access denials, rate limits, inference requests
// and responses, configuration and startup), written to stdout or to a
// rotating file, as recommended for OAuth 2.1 resource servers.
//
//   {"timestamp":"2025-03-03T21:44:11.323Z","event":"access_denied","level":"warning",
//    "principal":"alice","model":"llama3.2:3b","reason":"..."}
//
// record() never blocks the request path: events go to a bounded queue that
// one writer thread drains; when the queue is full the event is counted as
// dropped. Secrets are redacted defensively before anything is written, and
// prompt/response content is left out unless asked for.
//
// A failing sink (disk full, directory removed) is counted and logged once
// per burst, never thrown; the file is reopened on the next event, so a fixed
// disk recovers by itself. writable() tells strict deployments to refuse
// requests while events are being lost.
//
// Thread-safety: AuditLog is safe for concurrent use; the free functions are
// pure.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

#include "core/util/json.h"
#include "llama_stack/apis/call_context.h"

namespace llama_stack::security {

// Ordered: an event is kept when its level is at least AuditOptions::min_level.
enum class AuditLevel { kDebug, kInfo, kWarning, kError };

// "debug", "info", "warning" (or "warn"), "error", in any case; else nullopt.
std::optional<AuditLevel> parse_audit_level(std::string_view name);
// The wire name: "debug", "info", "warning", "error".
std::string_view audit_level_name(AuditLevel level);

struct AuditEvent {
  // "inference_request", "inference_response", "auth_failure", "access_denied",
  // "rate_limited", "quota_exceeded", "invalid_token", "config_loaded", "startup", ...
  std::string type;
  AuditLevel level = AuditLevel::kInfo;
  // Event-specific: principal, model, request_type, scopes, issuer, client_ip,
  // request_id, status, success, prompt_tokens, completion_tokens, latency_ms,
  // error, reason, ... The keys "timestamp", "event" and "level" are reserved
  // and ignored here.
  json::object fields;
};

struct AuditOptions {
  enum class Sink { kStdout, kFile } sink = Sink::kStdout;
  std::string path;                          // file sink; parent folders are created at start
  std::size_t max_bytes = 10 * 1024 * 1024;  // rotate when a line would grow the file past
                                             // this; 0: never rotate
  int max_files = 5;                         // keep path.1 .. path.N (older dropped); 0: none
  AuditLevel min_level = AuditLevel::kInfo;
  std::size_t queue_capacity = 10'000;  // at least 1 is used
  // When false, fields named "prompt", "messages", "content", "response",
  // "input" or "output" (at any depth) are left out.
  bool include_content = false;
  bool strict = false;  // callers refuse requests while !writable()
};

// The JSON object written as one line for `event`: "timestamp", "event" and
// "level" first, then the fields with content dropped (unless
// `include_content`) and secrets redacted. Runs on the writer thread; exposed
// for tests and for callers that want to preview a line.
json::object audit_record(const AuditEvent& event, std::chrono::system_clock::time_point time,
                          bool include_content);

// "2025-03-03T21:44:11.323Z": RFC 3339, UTC, milliseconds.
std::string rfc3339_utc_millis(std::chrono::system_clock::time_point time);

// The defensive redaction applied to every string value: a whole value that
// is a bearer credential ("Bearer ...") or a JWT (three base64url segments
// separated by dots, longer than 40 characters) becomes "[REDACTED]"; inside
// longer text (error messages), "Bearer <credential>" and "eyJ..." JWTs are
// replaced in place. Other text is returned unchanged.
std::string redact_secrets(std::string_view text);

class AuditLog {
 public:
  // Starts the writer thread. A file sink is opened (append) here: failure
  // throws std::runtime_error naming the path.
  explicit AuditLog(AuditOptions options);
  // Writes what is queued (waiting at most about 2 seconds; what is left is
  // counted as dropped), then stops the writer and closes the file.
  ~AuditLog();
  AuditLog(const AuditLog&) = delete;
  AuditLog& operator=(const AuditLog&) = delete;

  // Never blocks on the sink: enqueues the event stamped with the current
  // time, or counts it as dropped when the queue is full. Events below
  // min_level are ignored (neither written nor dropped).
  void record(AuditEvent event);

  // False while the sink is failing (the last write failed) or when events
  // were dropped and none recorded since has been written yet. Strict
  // deployments refuse requests then.
  bool writable() const;
  bool strict() const { return options_.strict; }

  std::uint64_t dropped() const { return dropped_.load(); }
  std::uint64_t written() const { return written_.load(); }
  std::uint64_t write_failures() const { return write_failures_.load(); }

  // Blocks until every queued event has been written (or has failed).
  void flush();

 private:
  struct Pending {
    AuditEvent event;
    std::chrono::system_clock::time_point time;
    std::uint64_t seq = 0;
  };

  void writer_loop();
  // Writer thread only (and the constructor, before it starts).
  bool write_line(const std::string& line, std::string& error);
  bool write_file(const std::string& line, std::string& error);
  bool open_file(std::string& error);
  void close_file();
  void rotate();
  void note_write(bool ok, const std::string& error);

  const AuditOptions options_;

  mutable std::mutex mutex_;
  std::condition_variable work_;  // writer waits: queue not empty, or stopping
  std::condition_variable idle_;  // flush waits: queue empty, nothing in flight
  std::deque<Pending> queue_;
  std::size_t in_flight_ = 0;
  bool stopping_ = false;
  std::chrono::steady_clock::time_point stop_deadline_;
  std::uint64_t next_seq_ = 1;
  std::uint64_t last_written_seq_ = 0;  // seq of the last event written
  std::uint64_t recover_seq_ = 0;       // writable again once this seq is written
  bool sink_failing_ = false;
  bool drop_warned_ = false;  // one warning per burst of drops

  std::atomic<std::uint64_t> dropped_{0};
  std::atomic<std::uint64_t> written_{0};
  std::atomic<std::uint64_t> write_failures_{0};

  // Writer-thread state.
  int fd_ = -1;
  dev_t dev_ = 0;
  ino_t ino_ = 0;
  bool regular_ = false;
  std::uint64_t size_ = 0;
  std::uint64_t failure_burst_ = 0;  // events lost since the sink started failing
  std::chrono::steady_clock::time_point last_failure_log_;
  bool rotate_warned_ = false;

  std::thread writer_;
};

// Records `type` with the caller's identity and origin taken from `context`
// (principal, client_ip, request_id, method, path) — the same fields for an
// HTTP call and an internal one. A no-op when `audit` is null.
void audit_call(AuditLog* audit, std::string type, AuditLevel level,
                const apis::CallContext& context, json::object fields);
// The event audit_call records, for recording later (after the context is gone).
AuditEvent call_event(std::string type, AuditLevel level, const apis::CallContext& context,
                      json::object fields);

}  // namespace llama_stack::security
