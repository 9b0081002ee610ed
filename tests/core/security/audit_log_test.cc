#include "core/security/audit_log.h"
#include "support/temp_dir.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>
#include <vector>

namespace llama_stack::security {
namespace {

namespace fs = std::filesystem;

// A real JWT shape (header.payload.signature); the test IdP's tokens look alike.
constexpr std::string_view kJwt =
    "eyJhbGciOiJSUzI1NiIsImtpZCI6InRlc3QifQ."
    "eyJzdWIiOiJhbGljZSIsImlzcyI6Imh0dHBzOi8vaWRwLmV4YW1wbGUuY29tIn0."
    "c2lnbmF0dXJlLXNpZ25hdHVyZS1zaWduYXR1cmUtc2lnbmF0dXJl";

using ::llama_stack::testing::TempDir;

std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    EXPECT_NE(end, std::string::npos) << "last line has no newline";
    if (end == std::string::npos) end = text.size();
    lines.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return lines;
}

std::vector<json::object> read_events(const std::string& path) {
  std::vector<json::object> events;
  for (const auto& line : split_lines(read_all(path))) {
    json::value value = parse_json(line);
    EXPECT_TRUE(value.is_object()) << line;
    if (value.is_object()) events.push_back(value.get_object());
  }
  return events;
}

AuditOptions file_options(const std::string& path) {
  AuditOptions options;
  options.sink = AuditOptions::Sink::kFile;
  options.path = path;
  return options;
}

AuditEvent event(std::string type, json::object fields = {}, AuditLevel level = AuditLevel::kInfo) {
  return AuditEvent{std::move(type), level, std::move(fields)};
}

TEST(AuditLevel, ParsesNamesInAnyCase) {
  EXPECT_EQ(parse_audit_level("debug"), AuditLevel::kDebug);
  EXPECT_EQ(parse_audit_level("info"), AuditLevel::kInfo);
  EXPECT_EQ(parse_audit_level("WARNING"), AuditLevel::kWarning);
  EXPECT_EQ(parse_audit_level("warn"), AuditLevel::kWarning);
  EXPECT_EQ(parse_audit_level("Error"), AuditLevel::kError);
  EXPECT_FALSE(parse_audit_level("loud").has_value());
  EXPECT_FALSE(parse_audit_level("").has_value());
  EXPECT_EQ(audit_level_name(AuditLevel::kWarning), "warning");
}

TEST(AuditTimestamp, IsRfc3339UtcWithMilliseconds) {
  const auto time = std::chrono::system_clock::time_point(std::chrono::milliseconds(1'234));
  EXPECT_EQ(rfc3339_utc_millis(time), "1970-01-01T00:00:01.234Z");
  const auto later = std::chrono::system_clock::time_point(std::chrono::seconds(1'741'038'251)) +
                     std::chrono::milliseconds(5);
  EXPECT_EQ(rfc3339_utc_millis(later), "2025-03-03T21:44:11.005Z");
}

TEST(AuditRedaction, WholeValuesThatLookLikeCredentials) {
  EXPECT_EQ(redact_secrets("Bearer sk-live-0123456789"), "[REDACTED]");
  EXPECT_EQ(redact_secrets("bearer abc"), "[REDACTED]");
  EXPECT_EQ(redact_secrets(kJwt), "[REDACTED]");
  EXPECT_EQ(redact_secrets("aaaaaaaaaaaaaaaa.bbbbbbbbbbbbbbbb.cccccccccccccccc"), "[REDACTED]");
}

TEST(AuditRedaction, CredentialsInsideText) {
  const std::string message = "token " + std::string(kJwt) + ". expired";
  EXPECT_EQ(redact_secrets(message), "token [REDACTED]. expired");
  EXPECT_EQ(redact_secrets("header was 'Authorization: Bearer sk-live-0123456789'"),
            "header was 'Authorization: Bearer [REDACTED]'");
  EXPECT_EQ(redact_secrets("auth.Bearer sk-live-0123456789"), "auth.Bearer [REDACTED]");
  EXPECT_EQ(redact_secrets("(" + std::string(kJwt) + ")"), "([REDACTED])");
}

TEST(AuditRedaction, OrdinaryTextIsKept) {
  for (std::string_view text :
       {"missing Bearer token", "https://identity-provider-production-east.example.com/realms/x",
        "meta-llama/Llama-3.2-3B-Instruct", "llama3.2:3b", "short.jwt.like", "Bearer", ""}) {
    EXPECT_EQ(redact_secrets(text), text);
  }
}

TEST(AuditRecord, ReservedKeysCannotBeOverridden) {
  AuditEvent e = event("access_denied", {{"event", "startup"}, {"level", "debug"}, {"a", 1}},
                       AuditLevel::kWarning);
  json::object record = audit_record(e, std::chrono::system_clock::now(), false);
  EXPECT_EQ(record.at("event"), "access_denied");
  EXPECT_EQ(record.at("level"), "warning");
  EXPECT_EQ(record.at("a"), 1);
  EXPECT_EQ(record.begin()->key(), "timestamp");
}

TEST(AuditLog, WritesOneJsonLinePerEvent) {
  TempDir dir;
  const std::string path = dir.file("nested/audit.log");
  {
    AuditLog log(file_options(path));
    log.record(event("startup", {{"version", "0.2.10"}}));
    log.record(event("access_denied",
                     {{"principal", "alice"},
                      {"model", "llama3.2:3b"},
                      {"scopes", json::array{"read", "inference"}},
                      {"status", 403},
                      {"success", false}},
                     AuditLevel::kWarning));
    log.flush();
    EXPECT_EQ(log.written(), 2u);
    EXPECT_EQ(log.dropped(), 0u);
    EXPECT_TRUE(log.writable());
    EXPECT_FALSE(log.strict());
  }
  auto events = read_events(path);
  ASSERT_EQ(events.size(), 2u);
  const std::regex timestamp(R"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z)");
  for (const auto& e : events) {
    ASSERT_TRUE(e.contains("timestamp"));
    EXPECT_TRUE(std::regex_match(std::string(e.at("timestamp").as_string()), timestamp));
  }
  EXPECT_EQ(events[0].at("event"), "startup");
  EXPECT_EQ(events[0].at("level"), "info");
  EXPECT_EQ(events[0].at("version"), "0.2.10");
  EXPECT_EQ(events[1].at("event"), "access_denied");
  EXPECT_EQ(events[1].at("level"), "warning");
  EXPECT_EQ(events[1].at("principal"), "alice");
  EXPECT_EQ(events[1].at("status"), 403);
  EXPECT_EQ(events[1].at("success"), false);
  EXPECT_EQ(events[1].at("scopes").as_array().size(), 2u);
}

TEST(AuditLog, AppendsToAnExistingFile) {
  TempDir dir;
  const std::string path = dir.file("audit.log");
  for (int run = 0; run < 2; ++run) {
    AuditLog log(file_options(path));
    log.record(event("startup"));
  }
  EXPECT_EQ(read_events(path).size(), 2u);
}

TEST(AuditLog, IgnoresEventsBelowMinLevel) {
  TempDir dir;
  const std::string path = dir.file("audit.log");
  AuditOptions options = file_options(path);
  options.min_level = AuditLevel::kWarning;
  {
    AuditLog log(options);
    log.record(event("a", {}, AuditLevel::kDebug));
    log.record(event("b", {}, AuditLevel::kInfo));
    log.record(event("c", {}, AuditLevel::kWarning));
    log.record(event("d", {}, AuditLevel::kError));
    log.flush();
    EXPECT_EQ(log.written(), 2u);
    EXPECT_EQ(log.dropped(), 0u);
  }
  auto events = read_events(path);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].at("event"), "c");
  EXPECT_EQ(events[1].at("event"), "d");
  EXPECT_EQ(events[1].at("level"), "error");
}

json::object content_fields() {
  return {{"model", "m"},
          {"prompt", "tell me a secret plan"},
          {"messages", json::array{json::object{{"role", "user"}, {"content", "hello there"}}}},
          {"response", "the plan"},
          {"request", json::object{{"input", "nested input"}, {"output", "nested output"}}},
          {"completion_tokens", 7}};
}

TEST(AuditLog, LeavesContentOutByDefault) {
  TempDir dir;
  const std::string path = dir.file("audit.log");
  {
    AuditLog log(file_options(path));
    log.record(event("inference_response", content_fields()));
  }
  const std::string text = read_all(path);
  for (std::string_view content : {"secret plan", "hello there", "the plan", "nested input",
                                   "nested output", "\"content\"", "\"messages\""}) {
    EXPECT_EQ(text.find(content), std::string::npos) << content;
  }
  auto events = read_events(path);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].at("model"), "m");
  EXPECT_EQ(events[0].at("completion_tokens"), 7);
  EXPECT_TRUE(events[0].at("request").as_object().empty());
}

TEST(AuditLog, KeepsContentWhenAsked) {
  TempDir dir;
  const std::string path = dir.file("audit.log");
  AuditOptions options = file_options(path);
  options.include_content = true;
  {
    AuditLog log(options);
    log.record(event("inference_response", content_fields()));
  }
  auto events = read_events(path);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].at("prompt"), "tell me a secret plan");
  EXPECT_EQ(events[0].at("response"), "the plan");
  EXPECT_EQ(events[0].at("messages").as_array()[0].as_object().at("content"), "hello there");
  EXPECT_EQ(events[0].at("request").as_object().at("output"), "nested output");
}

TEST(AuditLog, RedactsSecrets) {
  TempDir dir;
  const std::string path = dir.file("audit.log");
  const std::string bearer = "Bearer sk-live-DEADBEEF0123456789";
  {
    AuditLog log(file_options(path));
    log.record(
        event("auth_failure",
              {{"principal", "alice"},
               {"access_token", "opaque-SECRET-1"},
               {"Authorization", "Basic SECRET-2"},
               {"X-Api-Key", "SECRET-3"},
               {"client_secret", "SECRET-4"},
               {"password", json::object{{"value", "SECRET-5"}}},
               {"headers", json::object{{"Cookie", "session=SECRET-6"}, {"accept", "text/plain"}}},
               {"credentials", json::array{"SECRET-7"}},
               {"note", bearer},
               {"hint", kJwt},
               {"error", "token " + std::string(kJwt) + " has expired"},
               {"items", json::array{json::object{{"apiKey", "SECRET-8"}}, bearer}},
               {"prompt_tokens", 12},
               {"completion_tokens", 34}},
              AuditLevel::kWarning));
  }
  const std::string text = read_all(path);
  for (std::string_view secret : {"SECRET-", "DEADBEEF", "eyJ", "sk-live"}) {
    EXPECT_EQ(text.find(secret), std::string::npos) << secret << " in " << text;
  }
  auto events = read_events(path);
  ASSERT_EQ(events.size(), 1u);
  const auto& e = events[0];
  EXPECT_EQ(e.at("principal"), "alice");
  for (std::string_view key : {"access_token", "Authorization", "X-Api-Key", "client_secret",
                               "password", "credentials", "note", "hint"}) {
    EXPECT_EQ(e.at(key), "[REDACTED]") << key;
  }
  EXPECT_EQ(e.at("headers").as_object().at("Cookie"), "[REDACTED]");
  EXPECT_EQ(e.at("headers").as_object().at("accept"), "text/plain");
  EXPECT_EQ(e.at("error"), "token [REDACTED] has expired");
  EXPECT_EQ(e.at("items").as_array()[0].as_object().at("apiKey"), "[REDACTED]");
  EXPECT_EQ(e.at("items").as_array()[1], "[REDACTED]");
  EXPECT_EQ(e.at("prompt_tokens"), 12);
  EXPECT_EQ(e.at("completion_tokens"), 34);
}

TEST(AuditLog, RotatesAndKeepsAtMostMaxFiles) {
  TempDir dir;
  const std::string path = dir.file("audit.log");
  AuditOptions options = file_options(path);
  options.max_bytes = 600;
  options.max_files = 2;
  {
    AuditLog log(options);
    for (int i = 0; i < 100; ++i) {
      log.record(event("inference_request", {{"request_id", "req-" + std::to_string(i)}}));
    }
    log.flush();
    EXPECT_EQ(log.written(), 100u);
  }
  EXPECT_TRUE(fs::exists(path));
  EXPECT_TRUE(fs::exists(path + ".1"));
  EXPECT_TRUE(fs::exists(path + ".2"));
  EXPECT_FALSE(fs::exists(path + ".3"));
  for (const std::string& file : {path, path + ".1", path + ".2"}) {
    EXPECT_LE(fs::file_size(file), 600u) << file;
    EXPECT_FALSE(read_events(file).empty()) << file;
  }
  // Oldest kept in path.2, newest in path, in order, ending with the last one.
  std::vector<json::object> kept;
  for (const std::string& file : {path + ".2", path + ".1", path}) {
    for (auto& e : read_events(file)) kept.push_back(std::move(e));
  }
  ASSERT_FALSE(kept.empty());
  const std::size_t first = 100 - kept.size();
  for (std::size_t i = 0; i < kept.size(); ++i) {
    EXPECT_EQ(kept[i].at("request_id").as_string(), "req-" + std::to_string(first + i));
  }
}

// A FIFO that is full and nobody reads stands for a stalled sink: the writer
// blocks on its first event while record() keeps returning.
TEST(AuditLog, DropsWhenTheQueueIsFullAndNeverBlocks) {
  TempDir dir;
  const std::string path = dir.file("audit.fifo");
  ASSERT_EQ(::mkfifo(path.c_str(), 0600), 0);
  const int reader = ::open(path.c_str(), O_RDONLY | O_NONBLOCK);
  ASSERT_GE(reader, 0);
  const int filler = ::open(path.c_str(), O_WRONLY | O_NONBLOCK);
  ASSERT_GE(filler, 0);
  const std::string junk(4096, 'z');  // no newline: not counted as a line below
  for (std::size_t chunk : {junk.size(), std::size_t{1}}) {
    while (::write(filler, junk.data(), chunk) > 0) {
    }
    ASSERT_EQ(errno, EAGAIN);
  }
  AuditOptions options = file_options(path);
  options.queue_capacity = 1;
  std::uint64_t lines_read = 0;
  {
    AuditLog log(options);
    for (int i = 0; i < 1000; ++i) log.record(event("inference_request", {{"i", i}}));
    // At most one event in flight and one queued.
    EXPECT_GE(log.dropped(), 998u);
    EXPECT_EQ(log.written(), 0u);
    EXPECT_FALSE(log.writable());

    std::atomic<bool> stop{false};
    std::thread drain([&] {
      char buffer[65536];
      for (;;) {
        const bool last = stop.load();
        const ssize_t n = ::read(reader, buffer, sizeof buffer);
        if (n > 0) {
          for (ssize_t i = 0; i < n; ++i) lines_read += buffer[i] == '\n' ? 1 : 0;
          continue;
        }
        if (last) return;  // `stop` was set before this empty read: all is read
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
    });
    log.flush();
    EXPECT_EQ(log.written() + log.dropped(), 1000u);
    log.record(event("inference_request"));
    log.flush();
    EXPECT_TRUE(log.writable());
    EXPECT_EQ(log.written() + log.dropped(), 1001u);
    EXPECT_EQ(log.write_failures(), 0u);
    stop = true;
    drain.join();
    EXPECT_EQ(lines_read, log.written());
  }
  ::close(filler);
  ::close(reader);
}

TEST(AuditLog, ConcurrentRecordsAreAllWritten) {
  TempDir dir;
  const std::string path = dir.file("audit.log");
  {
    AuditLog log(file_options(path));
    std::vector<std::thread> threads;
    threads.reserve(4);
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&log, t] {
        for (int i = 0; i < 250; ++i) {
          log.record(event("inference_request", {{"thread", t}, {"i", i}}));
          (void)log.writable();
        }
      });
    }
    for (auto& thread : threads) thread.join();
    log.flush();
    EXPECT_EQ(log.written(), 1000u);
  }
  EXPECT_EQ(read_events(path).size(), 1000u);
}

TEST(AuditLog, DestructorWritesWhatIsQueued) {
  TempDir dir;
  const std::string path = dir.file("audit.log");
  {
    AuditLog log(file_options(path));
    for (int i = 0; i < 200; ++i) log.record(event("inference_request", {{"i", i}}));
  }
  EXPECT_EQ(read_events(path).size(), 200u);
}

TEST(AuditLog, SinkFailureIsCountedAndRecovers) {
  TempDir dir;
  const std::string folder = dir.file("logs");
  const std::string path = folder + "/audit.log";
  AuditOptions options = file_options(path);
  options.strict = true;
  AuditLog log(options);
  EXPECT_TRUE(log.strict());
  log.record(event("startup"));
  log.flush();
  EXPECT_TRUE(log.writable());

  fs::remove_all(folder);
  EXPECT_NO_THROW(log.record(event("access_denied", {{"n", 1}})));
  EXPECT_NO_THROW(log.record(event("access_denied", {{"n", 2}})));
  log.flush();
  EXPECT_EQ(log.write_failures(), 2u);
  EXPECT_FALSE(log.writable());

  // A file where the folder was still fails.
  std::ofstream(folder) << "not a folder";
  log.record(event("access_denied", {{"n", 3}}));
  log.flush();
  EXPECT_EQ(log.write_failures(), 3u);
  EXPECT_FALSE(log.writable());

  fs::remove(folder);
  fs::create_directories(folder);
  log.record(event("access_denied", {{"n", 4}}));
  log.flush();
  EXPECT_TRUE(log.writable());
  EXPECT_EQ(log.written(), 2u);
  auto events = read_events(path);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].at("n"), 4);
}

TEST(AuditLog, ReopensAFileRemovedBehindItsBack) {
  TempDir dir;
  const std::string path = dir.file("audit.log");
  AuditLog log(file_options(path));
  log.record(event("a"));
  log.flush();
  fs::rename(path, path + ".old");  // an external logrotate
  log.record(event("b"));
  log.flush();
  EXPECT_TRUE(log.writable());
  ASSERT_EQ(read_events(path).size(), 1u);
  EXPECT_EQ(read_events(path)[0].at("event"), "b");
  EXPECT_EQ(read_events(path + ".old").size(), 1u);
}

TEST(AuditLog, OpeningAFileSinkThatFailsThrowsNamingThePath) {
  TempDir dir;
  const std::string blocker = dir.file("plain-file");
  std::ofstream(blocker) << "x";
  const std::string path = blocker + "/audit.log";
  try {
    AuditLog log(file_options(path));
    FAIL() << "expected std::runtime_error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
  }
  EXPECT_THROW(AuditLog(file_options("")), std::runtime_error);
}

// Points fd 1 at a file for the life of the object.
class StdoutToFile {
 public:
  explicit StdoutToFile(const std::string& path) {
    std::fflush(stdout);
    saved_ = ::dup(STDOUT_FILENO);
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ::dup2(fd, STDOUT_FILENO);
    ::close(fd);
  }
  ~StdoutToFile() {
    std::fflush(stdout);
    ::dup2(saved_, STDOUT_FILENO);
    ::close(saved_);
  }
  StdoutToFile(const StdoutToFile&) = delete;
  StdoutToFile& operator=(const StdoutToFile&) = delete;

 private:
  int saved_ = -1;
};

TEST(AuditLog, StdoutSinkWritesLines) {
  TempDir dir;
  const std::string captured = dir.file("stdout.txt");
  std::uint64_t written = 0;
  {
    StdoutToFile redirect(captured);
    AuditLog log(AuditOptions{});
    log.record(event("config_loaded", {{"providers", 3}}));
    log.flush();
    written = log.written();
  }
  EXPECT_EQ(written, 1u);
  auto events = read_events(captured);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].at("event"), "config_loaded");
  EXPECT_EQ(events[0].at("providers"), 3);
}

}  // namespace
}  // namespace llama_stack::security
