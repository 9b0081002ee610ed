#include <gtest/gtest.h>

#include <deque>
#include <stdexcept>
#include <string>
#include <thread>

#include "llama_stack/async/bridge.h"
#include "llama_stack/async/spawn.h"
#include "llama_stack/async/task.h"
#include "llama_stack/async/when_all.h"
#include "support/manual_executor.h"

namespace llama_stack::async {
namespace {

using testing::ManualExecutor;

Task<int> forty_two() {
  co_return 42;
}

Task<std::string> fails() {
  throw std::runtime_error("first failed");
  co_return "";
}

Task<int> add(Task<int> a, Task<int> b) {
  int x = co_await std::move(a);
  int y = co_await std::move(b);
  co_return x + y;
}

Task<int> throws_bad_request() {
  throw std::invalid_argument("bad");
  co_return 0;
}

TEST(Task, IsLazyAndComposes) {
  bool started = false;
  auto lazy = [&]() -> Task<int> {
    started = true;
    co_return 1;
  };
  Task<int> t = lazy();
  EXPECT_FALSE(started);
  int result = 0;
  auto body1 = [&]() -> Task<void> { result = co_await add(std::move(t), forty_two()); };
  spawn(body1());
  EXPECT_TRUE(started);
  EXPECT_EQ(result, 43);
}

TEST(Task, ExceptionsPropagateToTheAwaiter) {
  std::string caught;
  auto body2 = [&]() -> Task<void> {
    try {
      co_await throws_bad_request();
    } catch (const std::invalid_argument& e) {
      caught = e.what();
    }
  };
  spawn(body2());
  EXPECT_EQ(caught, "bad");
}

TEST(Spawn, ReportsTheExceptionThatEndedTheTask) {
  std::exception_ptr error;
  bool done = false;
  spawn([]() -> Task<void> { co_await throws_bad_request(); }(),
        [&](std::exception_ptr e) {
          error = e;
          done = true;
        });
  ASSERT_TRUE(done);
  EXPECT_THROW(std::rethrow_exception(error), std::invalid_argument);
}

TEST(Spawn, OnAnExecutorStartsThere) {
  ManualExecutor executor;
  bool ran = false;
  auto body14 = [&]() -> Task<void> {
    ran = true;
    co_return;
  };
  spawn(executor, body14());
  EXPECT_FALSE(ran);
  executor.drain();
  EXPECT_TRUE(ran);
}

TEST(Task, DeepChainsDoNotGrowTheStack) {
  // Symmetric transfer: 100k nested awaits complete synchronously without
  // recursion on the native stack.
  std::function<Task<int>(int)> depth = [&](int n) -> Task<int> {
    if (n == 0) co_return 0;
    co_return 1 + co_await depth(n - 1);
  };
  int result = -1;
  auto body3 = [&]() -> Task<void> { result = co_await depth(100000); };
  spawn(body3());
  EXPECT_EQ(result, 100000);
}

// A callback operation completed later by the test.
struct PendingOp {
  std::optional<Resolver<std::string>> resolver;
  int cancels = 0;
};

Task<std::string> bridged(PendingOp& op, Executor* executor, std::stop_token stop) {
  co_return co_await from_callback<std::string>(executor, stop,
                                                [&op](Resolver<std::string> r) -> CancelFn {
                                                  op.resolver = r;
                                                  return [&op] { ++op.cancels; };
                                                });
}

TEST(Bridge, ResumesOnTheExecutorWhenResolvedElsewhere) {
  ManualExecutor executor;
  PendingOp op;
  std::string result;
  auto body4 = [&]() -> Task<void> { result = co_await bridged(op, &executor, {}); };
  spawn(body4());
  ASSERT_TRUE(op.resolver);
  op.resolver->value("hello");  // resolved off the executor: posted
  EXPECT_EQ(result, "");
  EXPECT_EQ(executor.pending(), 1u);
  executor.drain();
  EXPECT_EQ(result, "hello");
}

TEST(Bridge, SynchronousResolutionDoesNotSuspend) {
  std::string result;
  auto body5 = [&]() -> Task<void> {
    result = co_await from_callback<std::string>(nullptr, {}, [](Resolver<std::string> r) {
      r.value("now");
      r.value("ignored: the first resolution wins");
      return CancelFn{};
    });
  };
  spawn(body5());
  EXPECT_EQ(result, "now");
}

TEST(Bridge, AThrowingStartIsTheResult) {
  std::string caught;
  auto body6 = [&]() -> Task<void> {
    try {
      co_await from_callback<void>(nullptr, {}, [](Resolver<void>) -> CancelFn {
        throw std::runtime_error("could not start");
      });
    } catch (const std::runtime_error& e) {
      caught = e.what();
    }
  };
  spawn(body6());
  EXPECT_EQ(caught, "could not start");
}

TEST(Bridge, StopRequestCallsTheCancelFunctionOnce) {
  PendingOp op;
  std::stop_source source;
  std::string caught;
  auto body7 = [&]() -> Task<void> {
    try {
      co_await bridged(op, nullptr, source.get_token());
    } catch (const std::runtime_error& e) {
      caught = e.what();
    }
  };
  spawn(body7());
  source.request_stop();
  source.request_stop();
  EXPECT_EQ(op.cancels, 1);
  op.resolver->fail(std::runtime_error("cancelled"));
  EXPECT_EQ(caught, "cancelled");
}

TEST(Bridge, StopRequestedBeforeTheStartCancelsAtOnce) {
  PendingOp op;
  std::stop_source source;
  source.request_stop();
  auto body8 = [&]() -> Task<void> {
    try {
      co_await bridged(op, nullptr, source.get_token());
    } catch (...) {
    }
  };
  spawn(body8());
  EXPECT_EQ(op.cancels, 1);
  op.resolver->fail(std::runtime_error("cancelled"));
}

TEST(Bridge, ManyObserversOfOneStopToken) {
  PendingOp a, b;
  std::stop_source source;
  int finished = 0;
  auto one = [&](PendingOp& op) -> Task<void> {
    try {
      co_await bridged(op, nullptr, source.get_token());
    } catch (...) {
    }
    ++finished;
  };
  spawn(one(a));
  spawn(one(b));
  source.request_stop();
  EXPECT_EQ(a.cancels, 1);
  EXPECT_EQ(b.cancels, 1);
  a.resolver->fail(std::runtime_error("x"));
  b.resolver->fail(std::runtime_error("y"));
  EXPECT_EQ(finished, 2);
}

TEST(WhenAll, RunsTasksConcurrentlyAndKeepsTheirOrder) {
  PendingOp first, second;
  std::vector<std::string> results;
  bool done = false;
  auto body9 = [&]() -> Task<void> {
    std::vector<Task<std::string>> tasks;
    tasks.push_back(bridged(first, nullptr, {}));
    tasks.push_back(bridged(second, nullptr, {}));
    results = co_await when_all(std::move(tasks));
    done = true;
  };
  spawn(body9());
  // Both started before either finished.
  ASSERT_TRUE(first.resolver);
  ASSERT_TRUE(second.resolver);
  second.resolver->value("b");
  EXPECT_FALSE(done);
  first.resolver->value("a");
  ASSERT_TRUE(done);
  EXPECT_EQ(results, (std::vector<std::string>{"a", "b"}));
}

TEST(WhenAll, AllSynchronousAndEmpty) {
  std::vector<int> results{-1};
  auto body10 = [&]() -> Task<void> {
    std::vector<Task<int>> tasks;
    for (int i = 0; i < 3; ++i) tasks.push_back(forty_two());
    results = co_await when_all(std::move(tasks));
  };
  spawn(body10());
  EXPECT_EQ(results, (std::vector<int>{42, 42, 42}));
  bool empty_done = false;
  auto body11 = [&]() -> Task<void> {
    co_await when_all(std::vector<Task<void>>{});
    empty_done = true;
  };
  spawn(body11());
  EXPECT_TRUE(empty_done);
}

TEST(WhenAll, RethrowsTheFirstErrorAfterAllFinished) {
  PendingOp slow;
  std::string caught;
  auto body12 = [&]() -> Task<void> {
    std::vector<Task<std::string>> tasks;
    tasks.push_back(fails());
    tasks.push_back(bridged(slow, nullptr, {}));
    try {
      co_await when_all(std::move(tasks));
    } catch (const std::runtime_error& e) {
      caught = e.what();
    }
  };
  spawn(body12());
  EXPECT_EQ(caught, "");  // still waiting for the slow one
  slow.resolver->value("late");
  EXPECT_EQ(caught, "first failed");
}

TEST(WhenAll, CompletesAcrossThreads) {
  std::vector<Resolver<int>> resolvers;
  std::atomic<int> sum{-1};
  std::atomic<bool> done{false};
  constexpr int kTasks = 64;
  auto waiting = [&resolvers]() -> Task<int> {
    co_return co_await from_callback<int>(nullptr, {}, [&resolvers](Resolver<int> r) {
      resolvers.push_back(r);
      return CancelFn{};
    });
  };
  auto body13 = [&]() -> Task<void> {
    std::vector<Task<int>> tasks;
    for (int i = 0; i < kTasks; ++i) {
      tasks.push_back(waiting());
    }
    auto values = co_await when_all(std::move(tasks));
    int s = 0;
    for (int v : values) s += v;
    sum = s;
    done = true;
  };
  spawn(body13());
  ASSERT_EQ(resolvers.size(), static_cast<std::size_t>(kTasks));
  std::vector<std::thread> threads;
  for (int i = 0; i < kTasks; ++i) threads.emplace_back([&, i] { resolvers[i].value(i); });
  for (auto& t : threads) t.join();
  ASSERT_TRUE(done);
  EXPECT_EQ(sum, kTasks * (kTasks - 1) / 2);
}

}  // namespace
}  // namespace llama_stack::async
