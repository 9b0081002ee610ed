#include "core/security/audit_log.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <stdexcept>
#include <system_error>

#include "core/log/log.h"
#include "core/util/identifiers.h"
#include "core/util/metrics.h"

namespace llama_stack::security {
namespace {

constexpr std::string_view kRedacted = "[REDACTED]";
constexpr auto kDrainTimeout = std::chrono::seconds(2);
// While the sink keeps failing, a reminder at most this often.
constexpr auto kFailureLogInterval = std::chrono::seconds(60);

constexpr std::array<std::string_view, 10> kSecretKeyParts = {
    "token",  "api_key",  "apikey",     "authorization", "secret",
    "passwd", "password", "credential", "cookie",        "private_key"};

constexpr std::array<std::string_view, 6> kContentKeys = {"prompt",   "messages", "content",
                                                          "response", "input",    "output"};

char ascii_lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

// Lowercase, with '-' as '_', so "X-Api-Key" matches "api_key".
std::string normalize_key(std::string_view key) {
  std::string out(key.size(), '\0');
  for (std::size_t i = 0; i < key.size(); ++i) out[i] = key[i] == '-' ? '_' : ascii_lower(key[i]);
  return out;
}

bool is_secret_key(std::string_view normalized, const json::value& value) {
  // Token counts ("prompt_tokens": 12) are usage, not credentials.
  if (value.is_number() && normalized.find("tokens") != std::string_view::npos) return false;
  for (std::string_view part : kSecretKeyParts) {
    if (normalized.find(part) != std::string_view::npos) return true;
  }
  return false;
}

bool is_content_key(std::string_view normalized) {
  for (std::string_view key : kContentKeys) {
    if (normalized == key) return true;
  }
  return false;
}

bool is_alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}
bool is_base64url(char c) {
  return is_alnum(c) || c == '-' || c == '_';
}
// RFC 7235 token68, without the trailing '=' padding.
bool is_token68(char c) {
  return is_alnum(c) || c == '-' || c == '.' || c == '_' || c == '~' || c == '+' || c == '/';
}
bool is_jwt_char(char c) {
  return is_base64url(c) || c == '.';
}
bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

bool starts_with_ci(std::string_view text, std::string_view prefix) {
  if (text.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    if (ascii_lower(text[i]) != prefix[i]) return false;
  }
  return true;
}

// Three base64url segments (header, payload, signature; the signature may be
// empty for an unsecured JWT), or five for a JWE, longer than 40 characters.
bool looks_like_jwt(std::string_view text) {
  if (text.size() <= 40) return false;
  std::size_t segments = 1;
  std::size_t segment_length = 0;
  for (char c : text) {
    if (c == '.') {
      if (segment_length == 0) return false;
      ++segments;
      segment_length = 0;
    } else if (is_base64url(c)) {
      ++segment_length;
    } else {
      return false;
    }
  }
  return segments == 3 || (segments == 5 && segment_length > 0);
}

// "Bearer <credential>", the whole value.
bool looks_like_bearer(std::string_view text) {
  while (!text.empty() && is_space(text.front())) text.remove_prefix(1);
  if (!starts_with_ci(text, "bearer") || text.size() < 8 || !is_space(text[6])) return false;
  text.remove_prefix(7);
  while (!text.empty() && is_space(text.front())) text.remove_prefix(1);
  return !text.empty();
}

json::value sanitize_value(const json::value& value, bool include_content);

json::object sanitize_object(const json::object& object, bool include_content) {
  json::object out;
  out.reserve(object.size());
  for (const auto& [key, value] : object) {
    const std::string normalized = normalize_key(key);
    if (!include_content && is_content_key(normalized)) continue;
    if (is_secret_key(normalized, value)) {
      out[key] = kRedacted;
    } else {
      out[key] = sanitize_value(value, include_content);
    }
  }
  return out;
}

json::value sanitize_value(const json::value& value, bool include_content) {
  switch (value.kind()) {
    case json::kind::object:
      return sanitize_object(value.get_object(), include_content);
    case json::kind::array: {
      json::array out;
      out.reserve(value.get_array().size());
      for (const auto& element : value.get_array()) {
        out.push_back(sanitize_value(element, include_content));
      }
      return out;
    }
    case json::kind::string:
      return json::string(redact_secrets(value.get_string()));
    default:
      return value;
  }
}

// std::strerror is not thread-safe; the generic category is.
std::string errno_text(int error) {
  return std::generic_category().message(error);
}

}  // namespace

std::optional<AuditLevel> parse_audit_level(std::string_view name) {
  const std::string lower = normalize_key(name);
  if (lower == "debug") return AuditLevel::kDebug;
  if (lower == "info") return AuditLevel::kInfo;
  if (lower == "warning" || lower == "warn") return AuditLevel::kWarning;
  if (lower == "error") return AuditLevel::kError;
  return std::nullopt;
}

std::string_view audit_level_name(AuditLevel level) {
  switch (level) {
    case AuditLevel::kDebug:
      return "debug";
    case AuditLevel::kInfo:
      return "info";
    case AuditLevel::kWarning:
      return "warning";
    case AuditLevel::kError:
      return "error";
  }
  return "info";
}

std::string rfc3339_utc_millis(std::chrono::system_clock::time_point time) {
  using std::chrono::duration_cast;
  using std::chrono::milliseconds;
  const auto since_epoch = duration_cast<milliseconds>(time.time_since_epoch()).count();
  auto seconds = since_epoch / 1000;
  auto millis = since_epoch % 1000;
  if (millis < 0) {  // before 1970: floor, not truncate
    millis += 1000;
    --seconds;
  }
  const std::time_t t = static_cast<std::time_t>(seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buffer[80];  // room for any int, as the compiler checks
  std::snprintf(buffer, sizeof buffer, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(millis));
  return buffer;
}

std::string redact_secrets(std::string_view text) {
  if (looks_like_bearer(text) || looks_like_jwt(text)) return std::string(kRedacted);
  std::string out;
  out.reserve(text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    if ((i == 0 || !is_alnum(text[i - 1])) && starts_with_ci(text.substr(i), "bearer")) {
      std::size_t start = i + 6;
      std::size_t credential = start;
      while (credential < text.size() && text[credential] == ' ') ++credential;
      std::size_t end = credential;
      while (end < text.size() && is_token68(text[end])) ++end;
      while (end < text.size() && text[end] == '=') ++end;
      // Eight characters: "Bearer token" in an error message stays readable.
      if (credential > start && end - credential >= 8) {
        out.append(text.substr(i, credential - i));
        out.append(kRedacted);
        i = end;
        continue;
      }
    }
    if (is_base64url(text[i]) && (i == 0 || !is_jwt_char(text[i - 1]))) {
      std::size_t end = i;
      while (end < text.size() && is_jwt_char(text[end])) ++end;
      std::string_view run = text.substr(i, end - i);
      while (!run.empty() && run.back() == '.') run.remove_suffix(1);  // end of a sentence
      // Inside text, only "eyJ..." (a JOSE header, base64 of '{"'), so host
      // names such as "idp.internal.example.com" are left alone.
      if (run.size() >= 2 && run[0] == 'e' && run[1] == 'y' && looks_like_jwt(run)) {
        out.append(kRedacted);
        i += run.size();
        continue;
      }
    }
    out.push_back(text[i]);
    ++i;
  }
  return out;
}

json::object audit_record(const AuditEvent& event, std::chrono::system_clock::time_point time,
                          bool include_content) {
  json::object out;
  out.reserve(event.fields.size() + 3);
  out["timestamp"] = rfc3339_utc_millis(time);
  out["event"] = event.type;
  out["level"] = audit_level_name(event.level);
  for (const auto& [key, value] : sanitize_object(event.fields, include_content)) {
    if (key == "timestamp" || key == "event" || key == "level") continue;
    out[key] = value;
  }
  return out;
}

AuditLog::AuditLog(AuditOptions options) : options_(std::move(options)) {
  if (options_.sink == AuditOptions::Sink::kFile) {
    if (options_.path.empty()) throw std::runtime_error("audit log: the file sink needs a path");
    std::error_code ec;
    const auto parent = std::filesystem::path(options_.path).parent_path();
    if (!parent.empty()) std::filesystem::create_directories(parent, ec);
    std::string error;
    if (!open_file(error)) {
      throw std::runtime_error("cannot open audit log '" + options_.path + "': " + error);
    }
  }
  writer_ = std::thread([this] { writer_loop(); });
}

AuditLog::~AuditLog() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    stop_deadline_ = std::chrono::steady_clock::now() + kDrainTimeout;
  }
  work_.notify_all();
  if (writer_.joinable()) writer_.join();
  close_file();
  if (failure_burst_ > 0) {
    LS_WARN(kAudit, "audit log closed while failing ({} events lost)", failure_burst_);
  }
}

void AuditLog::record(AuditEvent event) {
  if (event.level < options_.min_level) return;
  Pending pending{std::move(event), std::chrono::system_clock::now(), 0};
  const std::size_t capacity = std::max<std::size_t>(options_.queue_capacity, 1);
  bool warn = false;
  {
    std::lock_guard lock(mutex_);
    if (stopping_ || queue_.size() >= capacity) {
      ++dropped_;
      metrics::catalog().audit_dropped.with({}).inc();
      recover_seq_ = next_seq_;
      warn = !drop_warned_ && !stopping_;
      drop_warned_ = true;
    } else {
      pending.seq = next_seq_++;
      queue_.push_back(std::move(pending));
    }
  }
  if (warn) {
    LS_WARN(kAudit, "audit queue full ({} events): dropping audit events until it drains",
            capacity);
    return;
  }
  work_.notify_one();
}

bool AuditLog::writable() const {
  std::lock_guard lock(mutex_);
  return !sink_failing_ && last_written_seq_ >= recover_seq_;
}

void AuditLog::flush() {
  std::unique_lock lock(mutex_);
  idle_.wait(lock, [this] { return queue_.empty() && in_flight_ == 0; });
}

void AuditLog::writer_loop() {
  std::unique_lock lock(mutex_);
  for (;;) {
    work_.wait(lock, [this] { return !queue_.empty() || stopping_; });
    if (queue_.empty()) return;  // stopping, and drained
    if (stopping_ && std::chrono::steady_clock::now() > stop_deadline_) {
      const std::size_t left = queue_.size();
      dropped_ += left;
      metrics::catalog().audit_dropped.with({}).inc(left);
      queue_.clear();
      idle_.notify_all();
      lock.unlock();
      LS_WARN(kAudit, "audit log shutdown timed out ({} events dropped)", left);
      return;
    }
    Pending pending = std::move(queue_.front());
    queue_.pop_front();
    ++in_flight_;
    lock.unlock();

    bool ok = false;
    std::string error;
    try {
      std::string line = json_ascii_safe(
          to_json(audit_record(pending.event, pending.time, options_.include_content)));
      line.push_back('\n');
      ok = write_line(line, error);
    } catch (const std::exception& e) {
      error = e.what();
    }
    note_write(ok, error);

    lock.lock();
    if (ok) {
      last_written_seq_ = pending.seq;
      drop_warned_ = false;
    }
    sink_failing_ = !ok;
    --in_flight_;
    if (queue_.empty() && in_flight_ == 0) idle_.notify_all();
  }
}

void AuditLog::note_write(bool ok, const std::string& error) {
  const auto now = std::chrono::steady_clock::now();
  if (ok) {
    ++written_;
    if (failure_burst_ > 0) {
      LS_WARN(kAudit, "audit log writable again ({} events lost while failing)", failure_burst_);
      failure_burst_ = 0;
    }
    return;
  }
  ++write_failures_;
  ++failure_burst_;
  if (failure_burst_ == 1 || now - last_failure_log_ >= kFailureLogInterval) {
    last_failure_log_ = now;
    LS_WARN(kAudit, "audit log write failed: {} ({} events lost)", error, failure_burst_);
  }
}

bool AuditLog::write_line(const std::string& line, std::string& error) {
  if (options_.sink == AuditOptions::Sink::kFile) return write_file(line, error);
  const std::size_t n = std::fwrite(line.data(), 1, line.size(), stdout);
  const int write_errno = errno;
  if (n == line.size() && std::fflush(stdout) == 0) return true;
  error = "stdout: " + errno_text(n == line.size() ? errno : write_errno);
  std::clearerr(stdout);
  return false;
}

bool AuditLog::write_file(const std::string& line, std::string& error) {
  // Reopen when the file was moved or removed behind our back (external
  // rotation, a deleted folder), as a watched file handler does.
  if (fd_ >= 0) {
    struct stat st {};
    if (::stat(options_.path.c_str(), &st) != 0 || st.st_dev != dev_ || st.st_ino != ino_) {
      close_file();
    }
  }
  if (fd_ < 0 && !open_file(error)) {
    error = "'" + options_.path + "': " + error;
    return false;
  }
  if (regular_ && options_.max_bytes > 0 && size_ > 0 && size_ + line.size() > options_.max_bytes) {
    rotate();
    if (fd_ < 0 && !open_file(error)) {
      error = "'" + options_.path + "': " + error;
      return false;
    }
  }
  std::size_t done = 0;
  while (done < line.size()) {
    const ssize_t n = ::write(fd_, line.data() + done, line.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      error = "'" + options_.path + "': " + errno_text(errno);
      // No half line before the next one: drop what got out, best effort.
      if (done > 0 && regular_ && ::ftruncate(fd_, static_cast<off_t>(size_)) != 0) {
        LS_DEBUG(kAudit, "audit log truncate failed: {}", errno_text(errno));
      }
      close_file();  // reopen on the next event
      return false;
    }
    done += static_cast<std::size_t>(n);
  }
  size_ += line.size();
  return true;
}

bool AuditLog::open_file(std::string& error) {
  const int fd = ::open(options_.path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
  if (fd < 0) {
    error = errno_text(errno);
    return false;
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    error = errno_text(errno);
    ::close(fd);
    return false;
  }
  fd_ = fd;
  dev_ = st.st_dev;
  ino_ = st.st_ino;
  regular_ = S_ISREG(st.st_mode);
  size_ = regular_ ? static_cast<std::uint64_t>(st.st_size) : 0;
  return true;
}

void AuditLog::close_file() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

void AuditLog::rotate() {
  close_file();
  const std::string& path = options_.path;
  int failed_errno = 0;
  if (options_.max_files <= 0) {
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) failed_errno = errno;
  } else {
    for (int index = options_.max_files - 1; index >= 1; --index) {
      const std::string from = path + "." + std::to_string(index);
      const std::string to = path + "." + std::to_string(index + 1);
      if (::rename(from.c_str(), to.c_str()) != 0 && errno != ENOENT) failed_errno = errno;
    }
    if (::rename(path.c_str(), (path + ".1").c_str()) != 0 && errno != ENOENT) {
      failed_errno = errno;
    }
  }
  if (failed_errno == 0) {
    rotate_warned_ = false;
  } else if (!rotate_warned_) {
    rotate_warned_ = true;
    LS_WARN(kAudit, "audit log rotation of '{}' failed: {}", path, errno_text(failed_errno));
  }
  std::string error;
  if (!open_file(error)) {
    LS_DEBUG(kAudit, "audit log reopen after rotation failed: {}", error);
  }
}

AuditEvent call_event(std::string type, AuditLevel level, const apis::CallContext& context,
                      json::object fields) {
  if (context.user) fields["principal"] = context.user->principal;
  fields["client_ip"] = context.client_ip;
  fields["request_id"] = context.trace_id;
  fields["method"] = context.method;
  fields["path"] = context.path;
  return AuditEvent{std::move(type), level, std::move(fields)};
}

void audit_call(AuditLog* audit, std::string type, AuditLevel level,
                const apis::CallContext& context, json::object fields) {
  if (audit == nullptr) return;
  audit->record(call_event(std::move(type), level, context, std::move(fields)));
}

}  // namespace llama_stack::security
