// RateLimiter: requests per minute and tokens per minute per principal, with
// the generic cell rate algorithm (GCRA), kept in a KVStore.
//
// Each (subject, kind) has one key, `ratelimit:<kind>:<subject>` with kind
// "requests" or "tokens", holding the theoretical arrival time (TAT): the
// moment the subject's allowance is fully replenished. With a limit of L per
// window W, one unit costs T = W / L and up to W of TAT may be outstanding,
// so a full window's worth may burst. Every decision is one KVStore::update,
// so limits are exact under concurrency, across processes sharing a SQLite
// file, and across restarts. Arithmetic is exact: integers in units of 1/L
// milliseconds, in which T is a whole number; no floating point drift can
// admit one request too many. The TAT is stored in milliseconds, as "<ms>",
// or "<ms>+<num>/<den>" when it falls between milliseconds.
//
// Times are explicit (`now_ms`, milliseconds since the epoch) so tests are
// deterministic; entries expire a window after their TAT has passed in real
// time, so idle subjects leave nothing behind.
//
// Thread-safety: all methods are safe to call concurrently.
// Errors: StorageError from the store propagates; callers should fail closed.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "llama_stack/storage/kvstore.h"

namespace llama_stack::security {

// A limit of zero or less means unlimited.
struct RateTier {
  std::string name;
  std::int64_t requests_per_minute = 0;
  std::int64_t tokens_per_minute = 0;
};

// free 10/1000, basic 50/10000, premium 200/50000, enterprise 1000/500000
// (requests/tokens per minute).
std::vector<RateTier> default_tiers();

// The outcome of admit() or peek(), with what the x-ratelimit-* headers need.
// For an unlimited kind, limit is 0, remaining is INT64_MAX and reset is 0.
struct RateDecision {
  bool allowed = true;
  std::int64_t limit_requests = 0;
  std::int64_t remaining_requests = 0;
  double reset_requests_seconds = 0;  // until the request allowance is full again
  std::int64_t limit_tokens = 0;
  std::int64_t remaining_tokens = 0;
  double reset_tokens_seconds = 0;  // until the token allowance is full again
  double retry_after_seconds = 0;   // when !allowed: when this request would be allowed
  std::string limited_by;           // "requests" | "tokens" | ""
};

class RateLimiter {
 public:
  explicit RateLimiter(std::shared_ptr<storage::KVStore> store,
                       std::chrono::seconds window = std::chrono::seconds(60));

  // Admits one request expected to use `estimated_tokens`, only if both the
  // request limit and the token limit allow it; then both are charged. When
  // tokens refuse after the request was charged, the request charge is
  // undone before returning. An estimate above the whole token limit is
  // refused with retry_after = window.
  RateDecision admit(const std::string& subject, const RateTier& tier,
                     std::int64_t estimated_tokens, std::int64_t now_ms);

  // After an admitted request: charges actual - estimated tokens (negative →
  // refund). Never moves the state earlier than `now_ms`. Debt is capped at
  // a year so the state always fits its expiration.
  void settle(const std::string& subject, const RateTier& tier, std::int64_t estimated_tokens,
              std::int64_t actual_tokens, std::int64_t now_ms);

  // The state without charging (headers on routes that are not limited);
  // `allowed` says whether a request with no tokens would be admitted now.
  RateDecision peek(const std::string& subject, const RateTier& tier, std::int64_t now_ms);

  const std::shared_ptr<storage::KVStore>& store() const { return store_; }

 private:
  std::shared_ptr<storage::KVStore> store_;
  std::int64_t window_ms_;
};

}  // namespace llama_stack::security
