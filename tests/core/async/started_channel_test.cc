#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "llama_stack/async/bridge.h"
#include "llama_stack/async/channel.h"
#include "llama_stack/async/spawn.h"
#include "llama_stack/async/started.h"
#include "support/manual_executor.h"

namespace llama_stack::async {
namespace {

using testing::ManualExecutor;

// A value that arrives when the test resolves it.
struct Pending {
  std::optional<Resolver<int>> resolver;
  Task<int> wait() {
    auto op = from_callback<int>(nullptr, {}, [this](Resolver<int> r) -> CancelFn {
      resolver.emplace(r);
      return {};
    });
    co_return co_await op;
  }
};

TEST(Start, RunsAtOnceAndJoinWaitsForTheResult) {
  Pending a, b;
  std::vector<std::string> order;
  auto body = [&]() -> Task<void> {
    auto first = start(a.wait());
    auto second = start(b.wait());
    order.push_back("both started");
    auto j2 = second.join();
    const int y = co_await j2;
    order.push_back("second " + std::to_string(y));
    auto j1 = first.join();
    const int x = co_await j1;
    order.push_back("first " + std::to_string(x));
  };
  spawn(body());
  ASSERT_TRUE(a.resolver && b.resolver);  // both running before any join
  EXPECT_EQ(order, std::vector<std::string>{"both started"});
  a.resolver->value(1);  // finishes before it is joined
  EXPECT_EQ(order.size(), 1u);
  b.resolver->value(2);
  EXPECT_EQ(order, (std::vector<std::string>{"both started", "second 2", "first 1"}));
}

TEST(Start, JoinRethrowsTheTasksException) {
  std::string caught;
  auto failing = []() -> Task<int> {
    throw std::runtime_error("guard down");
    co_return 0;
  };
  auto body = [&]() -> Task<void> {
    auto s = start(failing());
    EXPECT_TRUE(s.finished());
    try {
      auto j = s.join();
      co_await j;
    } catch (const std::runtime_error& e) {
      caught = e.what();
    }
  };
  spawn(body());
  EXPECT_EQ(caught, "guard down");
}

TEST(Start, ResumesTheJoinerOnItsExecutor) {
  ManualExecutor executor;
  Pending pending;
  int result = 0;
  auto body = [&]() -> Task<void> {
    auto s = start(pending.wait(), &executor);
    auto j = s.join();
    result = co_await j;
  };
  spawn(body());
  std::thread([&] { pending.resolver->value(7); }).join();
  EXPECT_EQ(result, 0);  // posted, not resumed on the resolving thread
  executor.drain();
  EXPECT_EQ(result, 7);
}

TEST(Channel, DeliversInOrderThenNulloptWhenClosed) {
  Channel<int> channel;
  std::vector<int> got;
  bool ended = false;
  auto consumer = [&]() -> Task<void> {
    int v = 0;
    while (true) {
      auto next = channel.pop(v);
      if (!co_await next) break;
      got.push_back(v);
    }
    ended = true;
  };
  channel.push(1);  // before the consumer waits
  spawn(consumer());
  EXPECT_EQ(got, std::vector<int>{1});
  channel.push(2);
  channel.push(3);
  EXPECT_EQ(got, (std::vector<int>{1, 2, 3}));
  EXPECT_FALSE(ended);
  channel.close();
  EXPECT_TRUE(ended);
  channel.push(4);  // after close: dropped
  EXPECT_EQ(got.size(), 3u);
}

TEST(Channel, WithAnExecutorTheConsumerNeverRunsInsidePush) {
  ManualExecutor executor;
  Channel<std::string> channel(&executor);
  std::vector<std::string> got;
  auto consumer = [&]() -> Task<void> {
    std::string v;
    while (true) {
      auto next = channel.pop(v);
      if (!co_await next) break;
      got.push_back(v);
    }
  };
  spawn(consumer());
  channel.push("a");
  EXPECT_TRUE(got.empty());  // posted
  channel.push("b");         // queued while the wake-up is pending
  executor.drain();
  EXPECT_EQ(got, (std::vector<std::string>{"a", "b"}));
  channel.close();
  executor.drain();
}

TEST(Channel, ProducerOnAnotherThread) {
  ManualExecutor executor;
  Channel<int> channel(&executor);
  int sum = 0;
  bool ended = false;
  auto consumer = [&]() -> Task<void> {
    int v = 0;
    while (true) {
      auto next = channel.pop(v);
      if (!co_await next) break;
      sum += v;
    }
    ended = true;
  };
  spawn(consumer());
  std::thread producer([&] {
    for (int i = 1; i <= 1000; ++i) channel.push(i);
    channel.close();
  });
  while (!ended) {
    executor.drain();
    std::this_thread::yield();
  }
  producer.join();
  EXPECT_EQ(sum, 500500);
}

}  // namespace
}  // namespace llama_stack::async

namespace llama_stack::async {
namespace {

// The content-safety stream loop's shape: JSON objects through a channel
// into a coroutine that holds them in windows.
TEST(Channel, JsonObjectsInWindows) {
  ManualExecutor executor;
  auto channel = std::make_shared<Channel<boost::json::object>>(&executor);
  std::vector<boost::json::object> released;
  bool ended = false;
  auto consumer = [&]() -> Task<void> {
    std::vector<boost::json::object> held;
    std::string window;
    boost::json::object first;
    boost::json::object chunk;
    bool more = true;
    while (more) {
      auto next = channel->pop(chunk);
      if (co_await next) {
        if (first.empty()) first = chunk;
        window += boost::json::value_to<std::string>(chunk.at("text"));
        held.push_back(std::move(chunk));
        if (window.size() < 8) continue;
      } else {
        more = false;
      }
      for (auto& c : held) released.push_back(std::move(c));
      held.clear();
      window.clear();
    }
    ended = true;
  };
  spawn(consumer());
  for (int i = 0; i < 20; ++i) {
    channel->push(boost::json::object{{"text", "abc"}, {"i", i}});
    if (i % 3 == 0) executor.drain();
  }
  channel->close();
  executor.drain();
  ASSERT_TRUE(ended);
  ASSERT_EQ(released.size(), 20u);
  for (int i = 0; i < 20; ++i) EXPECT_EQ(released[i].at("i").as_int64(), i);
}

}  // namespace
}  // namespace llama_stack::async
