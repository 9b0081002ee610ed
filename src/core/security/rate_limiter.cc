#include "core/security/rate_limiter.h"

#include <algorithm>
#include <charconv>
#include <limits>
#include <optional>
#include <stdexcept>
#include <string_view>
#include <utility>

namespace llama_stack::security {
namespace {

// Times are kept as "scaled" integers: milliseconds × limit. In those units
// one request (or token) costs exactly window_ms and the burst capacity is
// window_ms × limit. 128 bits so that a millisecond timestamp times a large
// token limit cannot overflow.
using Scaled = __int128;

constexpr std::int64_t kUnlimitedRemaining = std::numeric_limits<std::int64_t>::max();
// Debt beyond this is forgiven: it keeps the TAT and its expiration in range
// when a request uses wildly more tokens than estimated.
constexpr std::int64_t kMaxDebtMs = 365LL * 24 * 60 * 60 * 1000;

Scaled floor_div(Scaled a, Scaled b) {
  Scaled q = a / b;
  if (a % b != 0 && ((a < 0) != (b < 0))) --q;
  return q;
}

Scaled ceil_div(Scaled a, Scaled b) {
  return -floor_div(-a, b);
}

std::optional<std::int64_t> parse_int(std::string_view text) {
  std::int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

// "<ms>" or "<ms>+<num>/<den>" → scaled for `limit`. A TAT written under a
// different limit (the subject changed tier) is rounded up: never in the
// subject's favour.
Scaled parse_tat(const std::string& key, const std::string& text, std::int64_t limit) {
  const auto plus = text.find('+');
  const auto slash = text.find('/');
  std::optional<std::int64_t> whole = parse_int(std::string_view(text).substr(0, plus));
  std::optional<std::int64_t> num = 0;
  std::optional<std::int64_t> den = 1;
  if (plus != std::string::npos) {
    if (slash == std::string::npos || slash < plus) whole.reset();
    num = parse_int(std::string_view(text).substr(plus + 1, slash - plus - 1));
    den = parse_int(std::string_view(text).substr(slash + 1));
  }
  if (!whole || !num || !den || *num < 0 || *den <= 0) {
    throw storage::StorageError("rate limit state at '" + key + "' is malformed");
  }
  return Scaled(*whole) * limit + ceil_div(Scaled(*num) * limit, *den);
}

std::string format_tat(Scaled scaled, std::int64_t limit) {
  const Scaled whole = floor_div(scaled, limit);
  const Scaled num = scaled - whole * limit;
  std::string text = std::to_string(static_cast<std::int64_t>(whole));
  if (num != 0) {
    text += '+' + std::to_string(static_cast<std::int64_t>(num)) + '/' + std::to_string(limit);
  }
  return text;
}

std::string key_for(std::string_view kind, const std::string& subject) {
  return "ratelimit:" + std::string(kind) + ":" + subject;
}

// One (subject, kind) allowance: limit per window, evaluated at `now_ms`.
class Cell {
 public:
  Cell(std::int64_t limit, std::int64_t window_ms, std::int64_t now_ms)
      : limit_(limit), window_ms_(window_ms), now_(Scaled(now_ms) * limit) {}

  Scaled capacity() const { return Scaled(window_ms_) * limit_; }
  Scaled cost(Scaled units) const { return units * window_ms_; }
  Scaled max_debt() const { return Scaled(kMaxDebtMs) * limit_; }

  // How far the stored TAT lies ahead of now (0 when absent or passed).
  Scaled outstanding(const std::string& key, const std::optional<std::string>& tat) const {
    if (!tat) return 0;
    return std::clamp<Scaled>(parse_tat(key, *tat, limit_) - now_, 0, max_debt());
  }

  // The entry to store for `outstanding` (nullopt = fully replenished, which
  // is the same as no entry). It expires, in real time, a window after its
  // TAT passes; `now_ms` may be a test's clock, so the TAT itself can't be used.
  std::optional<storage::StoredValue> entry(Scaled outstanding) const {
    outstanding = std::min(outstanding, max_debt());
    if (outstanding <= 0) return std::nullopt;
    const auto ahead_ms = static_cast<std::int64_t>(ceil_div(outstanding, limit_));
    return storage::StoredValue{
        format_tat(now_ + outstanding, limit_),
        storage::Clock::now() + std::chrono::milliseconds(ahead_ms + window_ms_)};
  }

  std::int64_t remaining(Scaled outstanding) const {
    const Scaled left = floor_div(capacity() - outstanding, window_ms_);
    return static_cast<std::int64_t>(std::clamp<Scaled>(left, 0, limit_));
  }

  double seconds(Scaled scaled) const {
    return static_cast<double>(scaled) / (static_cast<double>(limit_) * 1000.0);
  }

  std::int64_t limit() const { return limit_; }
  std::int64_t window_ms() const { return window_ms_; }

 private:
  std::int64_t limit_;
  std::int64_t window_ms_;
  Scaled now_;
};

// A GCRA decision for `units` against a cell whose TAT is `outstanding` ahead.
struct Outcome {
  bool allowed = true;
  Scaled outstanding = 0;  // after the decision (unchanged when refused)
  double retry_after_seconds = 0;
};

Outcome charge(const Cell& cell, Scaled outstanding, Scaled units) {
  if (units > cell.limit()) {
    return {false, outstanding, static_cast<double>(cell.window_ms()) / 1000.0};
  }
  const Scaled next = outstanding + cell.cost(std::max<Scaled>(units, 0));
  if (next <= cell.capacity()) return {true, next, 0};
  return {false, outstanding, cell.seconds(next - cell.capacity())};
}

void fill(const Cell& cell, Scaled outstanding, std::int64_t& limit, std::int64_t& remaining,
          double& reset) {
  limit = cell.limit();
  remaining = cell.remaining(outstanding);
  reset = cell.seconds(outstanding);
}

// Applies `step` to the cell's outstanding time in one atomic update and
// returns the outstanding time afterwards. `step` returns nullopt to leave
// the state as it is.
template <typename Step>
Scaled apply(storage::KVStore& store, const std::string& key, const Cell& cell, Step step) {
  Scaled after = 0;
  store.update_entry(key, [&](const std::optional<std::string>& current) {
    const Scaled outstanding = cell.outstanding(key, current);
    std::optional<Scaled> next = step(outstanding);
    after = next ? std::clamp<Scaled>(*next, 0, cell.max_debt()) : outstanding;
    return cell.entry(after);
  });
  return after;
}

RateDecision unlimited_decision() {
  RateDecision decision;
  decision.remaining_requests = kUnlimitedRemaining;
  decision.remaining_tokens = kUnlimitedRemaining;
  return decision;
}

}  // namespace

std::vector<RateTier> default_tiers() {
  return {
      {"free", 10, 1000},
      {"basic", 50, 10000},
      {"premium", 200, 50000},
      {"enterprise", 1000, 500000},
  };
}

RateLimiter::RateLimiter(std::shared_ptr<storage::KVStore> store, std::chrono::seconds window)
    : store_(std::move(store)),
      window_ms_(std::chrono::duration_cast<std::chrono::milliseconds>(window).count()) {
  if (window_ms_ <= 0) throw std::invalid_argument("rate limit window must be positive");
}

RateDecision RateLimiter::admit(const std::string& subject, const RateTier& tier,
                                std::int64_t estimated_tokens, std::int64_t now_ms) {
  RateDecision decision = unlimited_decision();
  const bool limit_requests = tier.requests_per_minute > 0;
  const bool limit_tokens = tier.tokens_per_minute > 0;
  const Cell requests(limit_requests ? tier.requests_per_minute : 1, window_ms_, now_ms);
  const Cell tokens(limit_tokens ? tier.tokens_per_minute : 1, window_ms_, now_ms);
  const std::string requests_key = key_for("requests", subject);
  const std::string tokens_key = key_for("tokens", subject);
  const Scaled token_units = std::max<std::int64_t>(estimated_tokens, 0);

  if (limit_requests) {
    Outcome outcome;
    apply(*store_, requests_key, requests, [&](Scaled outstanding) -> std::optional<Scaled> {
      outcome = charge(requests, outstanding, 1);
      return outcome.allowed ? std::optional<Scaled>(outcome.outstanding) : std::nullopt;
    });
    fill(requests, outcome.outstanding, decision.limit_requests, decision.remaining_requests,
         decision.reset_requests_seconds);
    if (!outcome.allowed) {
      decision.allowed = false;
      decision.limited_by = "requests";
      decision.retry_after_seconds = outcome.retry_after_seconds;
      if (limit_tokens) {
        // Not charged; read so the headers are complete and Retry-After
        // covers both limits.
        const Outcome would =
            charge(tokens, tokens.outstanding(tokens_key, store_->get(tokens_key)), token_units);
        fill(tokens, would.outstanding, decision.limit_tokens, decision.remaining_tokens,
             decision.reset_tokens_seconds);
        decision.retry_after_seconds =
            std::max(decision.retry_after_seconds, would.retry_after_seconds);
      }
      return decision;
    }
  }

  if (limit_tokens) {
    Outcome outcome;
    apply(*store_, tokens_key, tokens, [&](Scaled outstanding) -> std::optional<Scaled> {
      outcome = charge(tokens, outstanding, token_units);
      return outcome.allowed ? std::optional<Scaled>(outcome.outstanding) : std::nullopt;
    });
    fill(tokens, outcome.outstanding, decision.limit_tokens, decision.remaining_tokens,
         decision.reset_tokens_seconds);
    if (!outcome.allowed) {
      decision.allowed = false;
      decision.limited_by = "tokens";
      decision.retry_after_seconds = outcome.retry_after_seconds;
      if (limit_requests) {
        // Give the request back: subtracting one cost from whatever the TAT
        // is now stays exact even if other requests were charged meanwhile.
        const Scaled after = apply(*store_, requests_key, requests,
                                   [&](Scaled outstanding) -> std::optional<Scaled> {
                                     return outstanding - requests.cost(1);
                                   });
        fill(requests, after, decision.limit_requests, decision.remaining_requests,
             decision.reset_requests_seconds);
      }
    }
  }
  return decision;
}

void RateLimiter::settle(const std::string& subject, const RateTier& tier,
                         std::int64_t estimated_tokens, std::int64_t actual_tokens,
                         std::int64_t now_ms) {
  if (tier.tokens_per_minute <= 0) return;
  const Scaled delta = Scaled(std::max<std::int64_t>(actual_tokens, 0)) -
                       Scaled(std::max<std::int64_t>(estimated_tokens, 0));
  if (delta == 0) return;
  const Cell tokens(tier.tokens_per_minute, window_ms_, now_ms);
  apply(*store_, key_for("tokens", subject), tokens,
        [&](Scaled outstanding) -> std::optional<Scaled> {
          return outstanding + tokens.cost(delta);  // clamped to [now, now + max debt]
        });
}

RateDecision RateLimiter::peek(const std::string& subject, const RateTier& tier,
                               std::int64_t now_ms) {
  RateDecision decision = unlimited_decision();
  if (tier.requests_per_minute > 0) {
    const Cell requests(tier.requests_per_minute, window_ms_, now_ms);
    const std::string key = key_for("requests", subject);
    const Scaled outstanding = requests.outstanding(key, store_->get(key));
    fill(requests, outstanding, decision.limit_requests, decision.remaining_requests,
         decision.reset_requests_seconds);
    const Outcome would = charge(requests, outstanding, 1);
    if (!would.allowed) {
      decision.allowed = false;
      decision.limited_by = "requests";
      decision.retry_after_seconds = would.retry_after_seconds;
    }
  }
  if (tier.tokens_per_minute > 0) {
    const Cell tokens(tier.tokens_per_minute, window_ms_, now_ms);
    const std::string key = key_for("tokens", subject);
    const Scaled outstanding = tokens.outstanding(key, store_->get(key));
    fill(tokens, outstanding, decision.limit_tokens, decision.remaining_tokens,
         decision.reset_tokens_seconds);
    const Outcome would = charge(tokens, outstanding, 0);
    if (!would.allowed) {
      if (decision.allowed) decision.limited_by = "tokens";
      decision.allowed = false;
      decision.retry_after_seconds =
          std::max(decision.retry_after_seconds, would.retry_after_seconds);
    }
  }
  return decision;
}

}  // namespace llama_stack::security
