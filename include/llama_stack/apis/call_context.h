// CallContext: what goes with every API call, whether it came over HTTP or
// from inside the server (a shield calling its guard model, an agent calling
// a model or a tool). Routers check, limit, audit, record and trace a call
// from this context alone, so an internal call is treated exactly like an
// HTTP one: an orchestrator passes its caller's context (or a copy) down.
//
// Lifetime: a router call takes `const CallContext&`; the context must
// outlive the returned Task (keep it in the awaiting coroutine's frame).
#pragma once

#include <boost/json.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <stop_token>
#include <string>
#include <vector>

#include "llama_stack/apis/resources.h"
#include "llama_stack/async/executor.h"

namespace llama_stack::apis {

struct CallContext {
  // Who calls: the authenticated principal and its attributes (unset =
  // anonymous, or authentication is off), the token's scopes and issuer.
  std::optional<Owner> user;
  std::vector<std::string> scopes;
  std::string token_issuer;

  // Where the call came from, for audit events: the HTTP request that
  // started it (internal calls inherit their parent's).
  std::string client_ip;
  std::string method;
  std::string path;
  std::string trace_id;  // 32 lower-case hex digits
  std::string span_id;   // 16 lower-case hex digits

  // X-LlamaStack-Provider-Data, parsed (per-request provider keys); never logged.
  boost::json::object provider_data;

  // Where continuations of bridged operations resume (the connection's I/O
  // thread for HTTP calls). Null: on whichever thread completed them.
  async::Executor* executor = nullptr;
  // Requested when the caller goes away (the HTTP client disconnected); the
  // router cancels the upstream call, which then ends with status 499.
  std::stop_token stop;

  // Settles the caller's rate-limit token reservation with the real usage.
  // Set by the rate-limit filter; called at most once (later calls are
  // ignored). An orchestrator making several model calls for one request
  // should give each child context an empty one and settle the sum itself.
  std::function<void(std::int64_t actual_tokens)> settle_tokens;

  // Set on a guard model's own calls (a shield judging content): they are
  // not themselves checked by content-safety enforcement.
  bool content_safety_exempt = false;

  // When the call (the HTTP request) started: audit latencies count from here.
  std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now();
};

}  // namespace llama_stack::apis
