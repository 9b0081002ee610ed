// Fault injection, statistics and response delivery for the fake model server.
//
// Every model endpoint is a Builder (request → Reply) wrapped by
// model_handler(), which records the request, applies the global faults set
// through POST /control and delivers the reply: inline on the I/O thread when
// no delay is configured, else from a small detached thread per request that
// sleeps, then writes.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/server/exchange.h"
#include "core/server/http_types.h"
#include "core/server/route_table.h"
#include "core/util/json.h"

namespace llama_stack::fake {

enum class Protocol { kOpenAI, kOllama };

// The fault configuration; the default value means "behave".
struct Faults {
  std::int64_t latency_ms = 0;               // before the response head / first chunk
  std::int64_t token_delay_ms = 0;           // between streamed chunks
  int status = 0;                            // ≠ 0: answer with this status and an error body
  std::string error_message;                 // the message of that error body
  std::optional<std::int64_t> status_count;  // only the next N requests get `status`
  std::optional<std::int64_t> reset_after_tokens;  // drop the connection after N tokens
  bool malformed_body = false;                     // non-stream 2xx bodies become `{"id": "broken"`
  bool malformed_stream = false;                   // a garbage line after the first token
  bool hang = false;                               // never answer
  std::vector<std::string> paths;  // only these paths get faults; empty = every model path

  bool active() const;
  bool applies_to(std::string_view path) const;
  json::object to_json() const;
};

// A complete reply, before faults are applied.
struct StreamReply {
  std::string content_type;
  std::string head;                 // before the tokens (e.g. the role chunk)
  std::vector<std::string> tokens;  // one chunk per token (already framed)
  std::string tail;                 // after the tokens (finish, usage, [DONE])
};

struct Reply {
  std::optional<server::HttpResponse> response;  // a plain response, or
  std::optional<StreamReply> stream;             // a streamed one
};

class State {
 public:
  // Records a model-endpoint request (POSTs count as requests and become
  // last_request) and returns the faults that apply to it; null when none.
  std::shared_ptr<const Faults> begin(const server::HttpRequest& request);
  // Keeps a hung exchange (and so its connection) alive until reset or hang:false.
  void hold(std::shared_ptr<server::Exchange> exchange);
  void count_cancelled_stream() { cancelled_streams_.fetch_add(1, std::memory_order_relaxed); }
  // 1, 2, 3, ... (restarts at 1 after reset).
  std::uint64_t next_id() { return ids_.fetch_add(1, std::memory_order_relaxed) + 1; }

  json::object faults_json() const;
  // Merges `changes` (null clears a field) into the faults; FakeError 400 on a bad field.
  json::object update_faults(const json::object& changes);
  // Clears the faults and the statistics, drops hung exchanges.
  void reset();
  // Drops the hung exchanges (their connections close).
  void release_held();
  json::object stats() const;

 private:
  struct Recorded {
    std::string method;
    std::string path;
    std::string target;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
  };
  mutable std::mutex mutex_;
  std::shared_ptr<const Faults> faults_;  // null = no faults (the fast path)
  std::atomic<std::uint64_t> requests_{0};
  std::atomic<std::uint64_t> cancelled_streams_{0};
  std::atomic<std::uint64_t> ids_{0};
  std::shared_ptr<const Recorded> last_request_;
  std::optional<std::string> last_authorization_;
  std::map<std::string, std::uint64_t> requests_by_route_;
  std::vector<std::shared_ptr<server::Exchange>> held_;
};

// The protocol's error response: OpenAI {"error":{message,type,param,code}},
// Ollama {"error":"message"}.
server::HttpResponse error_response(Protocol protocol, int status, std::string_view message,
                                    std::string_view param = {}, std::string_view code = {});

using Builder = std::function<Reply(const server::HttpRequest& request, State& state)>;

// Wraps a Builder into a route handler (recording, faults, errors, delivery).
server::Handler model_handler(std::shared_ptr<State> state, Protocol protocol, Builder build);

// POST /control, GET /control, POST /control/reset, GET /control/stats.
void add_control_routes(server::RouteTable& routes, const std::shared_ptr<State>& state);

}  // namespace llama_stack::fake
