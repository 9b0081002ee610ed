// RateLimitFilter through ServerCore: tiers from scopes (the lowest tier per
// IP for anonymous callers), 429 with Retry-After and x-ratelimit-* headers,
// the token estimate, settle_tokens settling once, a store failure failing
// closed, the decision hopping to the connection's thread, and the handler
// never running after the filter answered.
//
// The limiter runs on the real clock; the limits are one or two requests a
// minute, so the requests of a test would have to be 30 s apart for one
// more to be admitted.
#include "core/server/filters/rate_limit_filter.h"

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "support/counting_kvstore.h"
#include "support/server_harness.h"

namespace llama_stack::server {
namespace {

using ::llama_stack::testing::CountingKVStore;
using ::llama_stack::testing::HeaderUserFilter;
using ::llama_stack::testing::make_request;
using ::llama_stack::testing::TestSink;

class RateLimitFilterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    oauth_.enable_rate_limiting = true;
    oauth_.default_user_tier = "free";
    oauth_.tiers["free"] = security::TierLimits{1, 0};
    oauth_.tiers["premium"] = security::TierLimits{2, 0};
    oauth_.tier_scopes = {{"tier:premium", "premium"}};
  }

  // The chain: HeaderUserFilter (the caller) → RateLimitFilter → handler.
  ServerCore& core() {
    if (!core_) {
      RouteTable routes;
      auto handler = [this](const std::shared_ptr<Exchange>& exchange) {
        RequestContext& context = exchange->context();
        {
          std::lock_guard lock(mutex_);
          handler_thread_ = std::this_thread::get_id();
          handler_had_settle_ = static_cast<bool>(context.settle_tokens);
        }
        ++handler_calls_;
        if (auto actual = context.request.headers.get("x-test-actual-tokens")) {
          for (int i = 0; i < 3; ++i) context.settle_tokens(std::stoll(std::string(*actual)));
        }
        exchange->send_json(200, json::object{{"ok", true}});
      };
      routes.add({"POST", "/v1/chat/completions", handler, "inference"});
      routes.add({"GET", "/v1/models", handler, "models"});
      std::vector<std::unique_ptr<Filter>> filters;
      filters.push_back(std::make_unique<HeaderUserFilter>());
      filters.push_back(
          std::make_unique<RateLimitFilter>(oauth_, std::make_shared<security::RateLimiter>(store_),
                                            std::vector<std::string>{}, nullptr));
      core_ = std::make_unique<ServerCore>(std::move(routes), std::move(filters));
    }
    return *core_;
  }

  // Dispatches and plays the connection's thread until the answer.
  std::shared_ptr<TestSink> call(std::string_view user, std::string_view scopes = "",
                                 std::string body = R"({"model":"m","max_tokens":10})",
                                 std::string remote = "10.0.0.1", Headers headers = {}) {
    if (!user.empty()) headers.add("x-test-user", std::string(user));
    if (!scopes.empty()) headers.add("x-test-scopes", std::string(scopes));
    auto sink = ::llama_stack::testing::dispatch(
        core(),
        make_request("POST", "/v1/chat/completions", headers, std::move(body), std::move(remote)));
    EXPECT_TRUE(sink->finish());
    EXPECT_EQ(sink->responses(), 1);
    return sink;
  }

  security::OAuthSettings oauth_;  // the filter keeps a reference
  std::shared_ptr<CountingKVStore> store_ =
      std::make_shared<CountingKVStore>(storage::make_memory_kvstore());
  std::atomic<int> handler_calls_{0};
  std::mutex mutex_;
  std::thread::id handler_thread_;
  bool handler_had_settle_ = false;
  std::unique_ptr<ServerCore> core_;
};

std::string header(const HttpResponse& response, std::string_view name) {
  return std::string(response.headers.get(name).value_or("<absent>"));
}

std::string message(const HttpResponse& response) {
  return std::string(parse_json(response.body).at("error").at("message").as_string());
}

void expect_429(const HttpResponse& response) {
  EXPECT_EQ(response.status, 429);
  EXPECT_EQ(parse_json(response.body).at("error").at("type").as_string(), "rate_limit_error");
  EXPECT_EQ(header(response, "x-should-retry"), "true");
  const std::string retry_after = header(response, "retry-after");
  ASSERT_NE(retry_after, "<absent>");
  const long long seconds = std::stoll(retry_after);
  EXPECT_GE(seconds, 1);
  EXPECT_LE(seconds, 60);
}

TEST_F(RateLimitFilterTest, TiersFromScopesLimitRequestsWith429AndHeaders) {
  // premium: 2 a minute.
  HttpResponse first = call("alice", "tier:premium")->response();
  EXPECT_EQ(first.status, 200);
  EXPECT_EQ(header(first, "x-ratelimit-limit-requests"), "2");
  EXPECT_EQ(header(first, "x-ratelimit-remaining-requests"), "1");
  EXPECT_NE(header(first, "x-ratelimit-reset-requests"), "<absent>");
  EXPECT_FALSE(first.headers.contains("x-ratelimit-limit-tokens"));  // tokens unlimited
  HttpResponse second = call("alice", "tier:premium")->response();
  EXPECT_EQ(second.status, 200);
  EXPECT_EQ(header(second, "x-ratelimit-remaining-requests"), "0");
  HttpResponse third = call("alice", "tier:premium")->response();
  expect_429(third);
  EXPECT_EQ(header(third, "x-ratelimit-limit-requests"), "2");
  EXPECT_EQ(header(third, "x-ratelimit-remaining-requests"), "0");
  EXPECT_EQ(message(third), "Rate limit exceeded: 2 requests/minute for tier 'premium'");

  // No tier scope: the default tier, 1 a minute, counted for bob alone.
  EXPECT_EQ(call("bob")->response().status, 200);
  HttpResponse bob = call("bob", "models.read")->response();
  expect_429(bob);
  EXPECT_EQ(message(bob), "Rate limit exceeded: 1 requests/minute for tier 'free'");

  // Anonymous: the lowest tier, per client address.
  EXPECT_EQ(call("", "", R"({"max_tokens":1})", "10.0.0.7")->response().status, 200);
  expect_429(call("", "", R"({"max_tokens":1})", "10.0.0.7")->response());
  EXPECT_EQ(call("", "", R"({"max_tokens":1})", "10.0.0.8")->response().status, 200);

  EXPECT_EQ(handler_calls_.load(), 2 + 1 + 2);
}

TEST_F(RateLimitFilterTest, AnEstimateOverTheTokenLimitIs429ByTokens) {
  oauth_.tiers["free"] = security::TierLimits{0, 500};
  HttpResponse big = call("alice", "", R"({"model":"m","max_tokens":1000})")->response();
  expect_429(big);
  EXPECT_EQ(header(big, "retry-after"), "60");  // more than a whole window's allowance
  EXPECT_EQ(header(big, "x-ratelimit-limit-tokens"), "500");
  EXPECT_FALSE(big.headers.contains("x-ratelimit-limit-requests"));  // requests unlimited
  EXPECT_NE(message(big).find("500 tokens/minute for tier 'free'"), std::string::npos)
      << message(big);

  HttpResponse small = call("alice", "", R"({"model":"m","max_tokens":10})")->response();
  EXPECT_EQ(small.status, 200);
  const long long remaining = std::stoll(header(small, "x-ratelimit-remaining-tokens"));
  EXPECT_LT(remaining, 500 - 10);
  EXPECT_EQ(handler_calls_.load(), 1);
}

TEST_F(RateLimitFilterTest, SettleTokensSettlesOnceHoweverOftenItIsCalled) {
  oauth_.tiers["free"] = security::TierLimits{0, 10000};
  const std::string tokens_key = "ratelimit:tokens:user:alice";
  Headers settle;
  settle.add("x-test-actual-tokens", "5000");  // the handler settles it three times
  EXPECT_EQ(call("alice", "", R"({"max_tokens":10})", "10.0.0.1", settle)->response().status, 200);
  EXPECT_TRUE(handler_had_settle_);
  // The next admission queues behind the settlement on the same writer:
  // once it is decided, the settlement has run.
  EXPECT_EQ(call("alice")->response().status, 200);
  EXPECT_EQ(store_->update_entries(tokens_key), 3) << "admit, one settlement, admit";

  // The settlement charged the real usage, 5000 tokens, not the estimate of
  // about 15 (the allowance refills at 10000 a minute: the margin is 15 s).
  HttpResponse after = call("alice")->response();
  EXPECT_LT(std::stoll(header(after, "x-ratelimit-remaining-tokens")), 10000 - 2500);
}

TEST_F(RateLimitFilterTest, AStoreFailureIs503AndTheHandlerNeverRuns) {
  store_->fail_updates = true;
  HttpResponse response = call("alice")->response();
  EXPECT_EQ(response.status, 503);
  EXPECT_EQ(header(response, "retry-after"), "5");
  EXPECT_EQ(message(response), "Rate limit service error: the rate limit store is unavailable");
  EXPECT_EQ(handler_calls_.load(), 0);
}

TEST_F(RateLimitFilterTest, TheDecisionIsTakenOnTheConnectionThread) {
  auto sink = ::llama_stack::testing::dispatch(
      core(), make_request("POST", "/v1/chat/completions", {}, R"({"max_tokens":1})"));
  ASSERT_TRUE(sink->wait_for_post_or_response());
  // The writer thread has the decision and posted it; nothing has run yet.
  EXPECT_EQ(sink->responses(), 0);
  EXPECT_EQ(sink->queued(), 1u);
  EXPECT_EQ(handler_calls_.load(), 0);
  EXPECT_EQ(sink->run_posted(), 1);
  ASSERT_EQ(sink->responses(), 1);
  EXPECT_EQ(sink->response().status, 200);
  EXPECT_EQ(handler_calls_.load(), 1);
  EXPECT_EQ(handler_thread_, std::this_thread::get_id());
}

TEST_F(RateLimitFilterTest, OtherRoutesAreNeitherLimitedNorDelayed) {
  for (int i = 0; i < 5; ++i) {
    auto sink = ::llama_stack::testing::dispatch(core(), make_request("GET", "/v1/models"));
    ASSERT_EQ(sink->responses(), 1);  // kContinue: answered inside dispatch
    EXPECT_EQ(sink->posts(), 0);
    EXPECT_EQ(sink->response().status, 200);
    EXPECT_FALSE(sink->response().headers.contains("x-ratelimit-limit-requests"));
  }
  EXPECT_FALSE(handler_had_settle_);
  EXPECT_EQ(store_->update_entries_with_prefix("ratelimit:"), 0);
}

}  // namespace
}  // namespace llama_stack::server
