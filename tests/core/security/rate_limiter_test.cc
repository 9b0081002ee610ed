#include "core/security/rate_limiter.h"
#include "support/temp_dir.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <limits>
#include <thread>

namespace llama_stack::security {
namespace {

namespace fs = std::filesystem;

constexpr std::int64_t kNow = 1'700'000'000'000;  // a realistic epoch in ms

using ::llama_stack::testing::TempDir;

RateTier tier(std::int64_t requests, std::int64_t tokens) {
  return {"test", requests, tokens};
}

enum class Backend { kMemory, kSqlite };

class RateLimiterTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    store_ = GetParam() == Backend::kMemory ? storage::make_memory_kvstore()
                                            : storage::open_sqlite_kvstore(dir_.file("rl.db"));
    limiter_ = std::make_unique<RateLimiter>(store_);
  }

  // Admits `count` requests at `now_ms`; returns how many were allowed.
  int admit_many(const std::string& subject, const RateTier& t, int count, std::int64_t tokens = 0,
                 std::int64_t now_ms = kNow) {
    int allowed = 0;
    for (int i = 0; i < count; ++i) allowed += limiter_->admit(subject, t, tokens, now_ms).allowed;
    return allowed;
  }

  TempDir dir_;
  std::shared_ptr<storage::KVStore> store_;
  std::unique_ptr<RateLimiter> limiter_;
};

TEST(RateLimitTiers, DefaultsMatchTheRecommendation) {
  auto tiers = default_tiers();
  ASSERT_EQ(tiers.size(), 4u);
  const std::vector<std::tuple<std::string, std::int64_t, std::int64_t>> expected = {
      {"free", 10, 1000},
      {"basic", 50, 10000},
      {"premium", 200, 50000},
      {"enterprise", 1000, 500000}};
  for (std::size_t i = 0; i < tiers.size(); ++i) {
    EXPECT_EQ(tiers[i].name, std::get<0>(expected[i]));
    EXPECT_EQ(tiers[i].requests_per_minute, std::get<1>(expected[i]));
    EXPECT_EQ(tiers[i].tokens_per_minute, std::get<2>(expected[i]));
  }
}

TEST_P(RateLimiterTest, ExactlyTheLimitOfConcurrentAdmitsSucceed) {
  constexpr int kThreads = 200;
  std::atomic<int> allowed{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&] {
      if (limiter_->admit("alice", tier(50, 0), 0, kNow).allowed) ++allowed;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(allowed.load(), 50);
  EXPECT_EQ(limiter_->peek("alice", tier(50, 0), kNow).remaining_requests, 0);
}

TEST_P(RateLimiterTest, ExactlyTheTokenLimitUnderConcurrencyAndRefusalsGiveRequestsBack) {
  constexpr int kThreads = 200;
  const RateTier t = tier(1000, 5000);  // 50 requests of 100 tokens
  std::atomic<int> allowed{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&] {
      if (limiter_->admit("bob", t, 100, kNow).allowed) ++allowed;
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(allowed.load(), 50);
  auto state = limiter_->peek("bob", t, kNow);
  EXPECT_EQ(state.remaining_tokens, 0);
  EXPECT_EQ(state.remaining_requests, 1000 - 50);  // the 150 refused were given back
}

TEST_P(RateLimiterTest, RefillsOverTime) {
  const RateTier t = tier(10, 0);  // one request per 6 s
  EXPECT_EQ(admit_many("carol", t, 10), 10);
  auto refused = limiter_->admit("carol", t, 0, kNow);
  EXPECT_FALSE(refused.allowed);
  EXPECT_EQ(refused.limited_by, "requests");
  EXPECT_DOUBLE_EQ(refused.retry_after_seconds, 6.0);
  EXPECT_EQ(refused.remaining_requests, 0);
  EXPECT_DOUBLE_EQ(refused.reset_requests_seconds, 60.0);

  EXPECT_FALSE(limiter_->admit("carol", t, 0, kNow + 5999).allowed);
  auto later = limiter_->admit("carol", t, 0, kNow + 6000);
  EXPECT_TRUE(later.allowed);
  EXPECT_EQ(later.remaining_requests, 0);
  EXPECT_FALSE(limiter_->admit("carol", t, 0, kNow + 6000).allowed);
  // Half a minute later five more fit.
  EXPECT_EQ(admit_many("carol", t, 10, 0, kNow + 36000), 5);
  // Long idle: a full minute's burst again.
  EXPECT_EQ(admit_many("carol", t, 20, 0, kNow + 10 * 60000), 10);
  // Other subjects are independent.
  EXPECT_EQ(admit_many("dave", t, 20), 10);
}

TEST_P(RateLimiterTest, IsExactWhenTheIntervalIsNotAWholeMillisecond) {
  const RateTier seven = tier(7, 0);  // T = 8571.43 ms
  EXPECT_EQ(admit_many("erin", seven, 20), 7);
  EXPECT_FALSE(limiter_->admit("erin", seven, 0, kNow + 8571).allowed);
  EXPECT_TRUE(limiter_->admit("erin", seven, 0, kNow + 8572).allowed);
  EXPECT_FALSE(limiter_->admit("erin", seven, 0, kNow + 8572).allowed);
  // 7 × (T = 60000/7) is exactly one window: all 7 admitted after 60 s.
  EXPECT_EQ(admit_many("erin", seven, 20, 0, kNow + 8572 + 60000), 7);

  // T = 1.2 ms is not a binary fraction; a whole minute's tokens still fit once.
  const RateTier premium = tier(0, 50000);
  EXPECT_TRUE(limiter_->admit("frank", premium, 50000, kNow).allowed);
  EXPECT_FALSE(limiter_->admit("frank", premium, 1, kNow).allowed);
  EXPECT_FALSE(limiter_->admit("frank", premium, 1, kNow + 1).allowed);
  EXPECT_TRUE(limiter_->admit("frank", premium, 1, kNow + 2).allowed);  // 2 ms ≥ 1.2 ms
}

TEST_P(RateLimiterTest, HeaderValues) {
  const RateTier t = tier(10, 1000);
  auto first = limiter_->admit("gina", t, 100, kNow);
  EXPECT_TRUE(first.allowed);
  EXPECT_EQ(first.limited_by, "");
  EXPECT_EQ(first.limit_requests, 10);
  EXPECT_EQ(first.remaining_requests, 9);
  EXPECT_DOUBLE_EQ(first.reset_requests_seconds, 6.0);
  EXPECT_EQ(first.limit_tokens, 1000);
  EXPECT_EQ(first.remaining_tokens, 900);
  EXPECT_DOUBLE_EQ(first.reset_tokens_seconds, 6.0);  // 100 tokens × 60 ms

  auto later = limiter_->peek("gina", t, kNow + 3000);
  EXPECT_TRUE(later.allowed);
  EXPECT_EQ(later.remaining_requests, 9);  // half a request back: not a whole one
  EXPECT_DOUBLE_EQ(later.reset_requests_seconds, 3.0);
  EXPECT_EQ(later.remaining_tokens, 950);
  EXPECT_DOUBLE_EQ(later.reset_tokens_seconds, 3.0);

  auto fresh = limiter_->peek("nobody", t, kNow);
  EXPECT_TRUE(fresh.allowed);
  EXPECT_EQ(fresh.remaining_requests, 10);
  EXPECT_EQ(fresh.remaining_tokens, 1000);
  EXPECT_DOUBLE_EQ(fresh.reset_requests_seconds, 0.0);
}

TEST_P(RateLimiterTest, RequestAllowedButTokensRefusedDoesNotChargeTheRequest) {
  const RateTier t = tier(10, 1000);
  EXPECT_TRUE(limiter_->admit("hal", t, 1000, kNow).allowed);
  auto refused = limiter_->admit("hal", t, 1, kNow);
  EXPECT_FALSE(refused.allowed);
  EXPECT_EQ(refused.limited_by, "tokens");
  EXPECT_DOUBLE_EQ(refused.retry_after_seconds, 0.06);  // one token = 60 ms
  EXPECT_EQ(refused.remaining_requests, 9);
  EXPECT_EQ(refused.remaining_tokens, 0);
  EXPECT_EQ(limiter_->peek("hal", t, kNow).remaining_requests, 9);
  for (int i = 0; i < 20; ++i) limiter_->admit("hal", t, 500, kNow);
  EXPECT_EQ(limiter_->peek("hal", t, kNow).remaining_requests, 9);
}

TEST_P(RateLimiterTest, RequestRefusalReportsTokensWithoutChargingThem) {
  const RateTier t = tier(1, 1000);
  EXPECT_TRUE(limiter_->admit("ivy", t, 900, kNow).allowed);
  auto refused = limiter_->admit("ivy", t, 200, kNow);
  EXPECT_FALSE(refused.allowed);
  EXPECT_EQ(refused.limited_by, "requests");
  EXPECT_EQ(refused.remaining_tokens, 100);
  // The tokens would fit in 6 s (100 short × 60 ms), the request only in 60 s:
  // Retry-After covers the later of the two.
  EXPECT_DOUBLE_EQ(refused.retry_after_seconds, 60.0);
  EXPECT_EQ(limiter_->peek("ivy", t, kNow).remaining_tokens, 100);
}

TEST_P(RateLimiterTest, CostAboveTheWholeLimitIsRefusedForAWindow) {
  auto refused = limiter_->admit("jack", tier(10, 1000), 1001, kNow);
  EXPECT_FALSE(refused.allowed);
  EXPECT_EQ(refused.limited_by, "tokens");
  EXPECT_DOUBLE_EQ(refused.retry_after_seconds, 60.0);
  EXPECT_EQ(refused.remaining_tokens, 1000);
  EXPECT_EQ(refused.remaining_requests, 10);
}

TEST_P(RateLimiterTest, SettlementRefundsAndCharges) {
  const RateTier t = tier(100, 1000);
  EXPECT_EQ(limiter_->admit("kim", t, 500, kNow).remaining_tokens, 500);
  // Over-estimate: 400 tokens come back.
  limiter_->settle("kim", t, 500, 100, kNow);
  EXPECT_EQ(limiter_->peek("kim", t, kNow).remaining_tokens, 900);
  EXPECT_TRUE(limiter_->admit("kim", t, 900, kNow).allowed);
  EXPECT_FALSE(limiter_->admit("kim", t, 1, kNow).allowed);

  // Under-estimate: 500 more than reserved, so the subject is in debt.
  limiter_->settle("kim", t, 100, 600, kNow);
  auto owed = limiter_->peek("kim", t, kNow);
  EXPECT_FALSE(owed.allowed);
  EXPECT_EQ(owed.limited_by, "tokens");
  EXPECT_EQ(owed.remaining_tokens, 0);
  EXPECT_DOUBLE_EQ(owed.reset_tokens_seconds, 90.0);  // 1500 tokens outstanding × 60 ms
  EXPECT_DOUBLE_EQ(owed.retry_after_seconds, 30.0);
  auto refused = limiter_->admit("kim", t, 10, kNow + 30000);
  EXPECT_FALSE(refused.allowed);
  EXPECT_DOUBLE_EQ(refused.retry_after_seconds, 0.6);
  EXPECT_TRUE(limiter_->admit("kim", t, 10, kNow + 30600).allowed);
}

TEST_P(RateLimiterTest, RefundsNeverMoveTheStateBeforeNow) {
  const RateTier t = tier(0, 1000);
  EXPECT_TRUE(limiter_->admit("lou", t, 100, kNow).allowed);
  limiter_->settle("lou", t, 100, 0, kNow);
  limiter_->settle("lou", t, 1000, 0, kNow);     // a refund of more than was charged
  EXPECT_EQ(admit_many("lou", t, 20, 100), 10);  // still one window, not more
  EXPECT_TRUE(store_->scan_prefix("ratelimit:tokens:lou").size() == 1);
  limiter_->settle("lou", t, 1000, 0, kNow);
  // Fully replenished is the same as no state: the key is gone.
  EXPECT_TRUE(store_->scan_prefix("ratelimit:tokens:lou").empty());
}

TEST_P(RateLimiterTest, StateExpiresAfterItsTatPasses) {
  EXPECT_TRUE(limiter_->admit("mia", tier(10, 1000), 100, kNow).allowed);
  auto keys = store_->scan_prefix("ratelimit:");
  ASSERT_EQ(keys.size(), 2u);
  EXPECT_EQ(keys[0].first, "ratelimit:requests:mia");
  EXPECT_EQ(keys[0].second, std::to_string(kNow + 6000));  // the TAT in ms
  EXPECT_EQ(keys[1].first, "ratelimit:tokens:mia");
  // A short window: 1 request per 1 s; the entry lives until its TAT passes + 1 s.
  RateLimiter quick(store_, std::chrono::seconds(1));
  const auto start = std::chrono::duration_cast<std::chrono::milliseconds>(
                         storage::Clock::now().time_since_epoch())
                         .count();
  EXPECT_TRUE(quick.admit("ned", tier(1, 0), 0, start).allowed);
  EXPECT_EQ(store_->scan_prefix("ratelimit:requests:ned").size(), 1u);
  std::this_thread::sleep_for(std::chrono::milliseconds(2100));
  EXPECT_TRUE(store_->scan_prefix("ratelimit:requests:ned").empty());
  EXPECT_GE(store_->purge_expired(), 1u);
}

TEST_P(RateLimiterTest, UnlimitedTiersAreAlwaysAllowedAndStoreNothing) {
  for (int i = 0; i < 100; ++i) {
    auto d = limiter_->admit("root", tier(0, -1), 1'000'000, kNow);
    ASSERT_TRUE(d.allowed);
    EXPECT_EQ(d.limit_requests, 0);
    EXPECT_EQ(d.remaining_requests, std::numeric_limits<std::int64_t>::max());
    EXPECT_EQ(d.remaining_tokens, std::numeric_limits<std::int64_t>::max());
  }
  limiter_->settle("root", tier(0, 0), 10, 1'000'000, kNow);
  EXPECT_TRUE(store_->scan_prefix("ratelimit:").empty());
}

TEST_P(RateLimiterTest, ChangingTierKeepsTheChargesConservatively) {
  EXPECT_EQ(admit_many("ola", tier(7, 0), 3), 3);  // 3/7 of a minute outstanding
  // Upgraded to 10/min: 3/7 min = 4.29 requests' worth at 10/min, rounded up.
  EXPECT_EQ(limiter_->peek("ola", tier(10, 0), kNow).remaining_requests, 5);
  EXPECT_EQ(admit_many("ola", tier(10, 0), 10), 5);
}

INSTANTIATE_TEST_SUITE_P(RateLimit, RateLimiterTest,
                         ::testing::Values(Backend::kMemory, Backend::kSqlite),
                         [](const auto& info) {
                           return info.param == Backend::kMemory ? "Memory" : "Sqlite";
                         });

TEST(RateLimitPersistence, ANewLimiterOnTheSameFileSeesTheState) {
  TempDir dir;
  const std::string path = dir.file("persist.db");
  const RateTier t = tier(10, 1000);
  {
    RateLimiter limiter(storage::open_sqlite_kvstore(path));
    for (int i = 0; i < 3; ++i) EXPECT_TRUE(limiter.admit("pat", t, 100, kNow).allowed);
    limiter.settle("pat", t, 100, 50, kNow);
  }
  RateLimiter limiter(storage::open_sqlite_kvstore(path));
  auto state = limiter.peek("pat", t, kNow);
  EXPECT_EQ(state.remaining_requests, 7);
  EXPECT_EQ(state.remaining_tokens, 750);
}

TEST(RateLimitPersistence, TwoHandlesOnOneFileShareTheLimitExactly) {
  TempDir dir;
  const std::string path = dir.file("shared.db");
  RateLimiter first(storage::open_sqlite_kvstore(path));
  RateLimiter second(storage::open_sqlite_kvstore(path));
  std::atomic<int> allowed{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 100; ++i) {
    threads.emplace_back([&, i] {
      RateLimiter& limiter = i % 2 == 0 ? first : second;
      if (limiter.admit("quinn", tier(50, 0), 0, kNow).allowed) ++allowed;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(allowed.load(), 50);
}

TEST(RateLimitStore, MalformedStateIsAStorageError) {
  auto store = std::shared_ptr<storage::KVStore>(storage::make_memory_kvstore());
  store->set("ratelimit:requests:rex", "not a time");
  RateLimiter limiter(store);
  EXPECT_THROW(limiter.admit("rex", tier(10, 0), 0, kNow), storage::StorageError);
}

}  // namespace
}  // namespace llama_stack::security
