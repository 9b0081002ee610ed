#include "core/server/filters/quota_filter.h"

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <thread>

#include "support/server_harness.h"
#include "support/stub_kvstore.h"

namespace llama_stack::server {
namespace {

class RecordingSink : public ResponseSink {
 public:
  void send(HttpResponse r) override {
    response = std::move(r);
    if (on_send) on_send();
  }
  void start_stream(int, Headers, std::string) override {}
  void write_chunk(std::string) override {}
  void end_stream() override {}
  void abort() override {}
  bool cancelled() const override { return false; }
  void on_cancel(std::function<void()>) override {}
  HttpResponse response;
  std::function<void()> on_send;
};

class FailingStore : public ::llama_stack::testing::StubKVStore {
 public:
  std::int64_t increment(std::string_view, std::int64_t,
                         std::optional<storage::Clock::time_point>) override {
    throw storage::StorageError("database is locked");
  }
};

Route kRoute{"GET", "/v1/models", nullptr, "models", false};

// What the filter decided, once it has: go on with the chain (kContinue at
// once, or resume() after the store answered), or answer itself.
struct Decision {
  bool continued = false;
  HttpResponse response;
};

Decision run(QuotaFilter& filter, std::string remote, Headers headers = {}) {
  HttpRequest request;
  request.method = "GET";
  request.path = "/v1/models";
  request.remote_address = std::move(remote);
  request.headers = std::move(headers);
  auto sink = std::make_shared<RecordingSink>();
  auto exchange = std::make_shared<Exchange>(std::move(request), sink);
  exchange->context().route = &kRoute;
  std::promise<bool> decided;
  sink->on_send = [&decided] { decided.set_value(false); };
  exchange->resume_chain = [&decided](const std::shared_ptr<Exchange>&) {
    decided.set_value(true);
  };
  switch (filter.on_request(exchange)) {
    case FilterStatus::kContinue:
      return {true, {}};
    case FilterStatus::kStop:
      return {false, sink->response};
    case FilterStatus::kPending:
      break;
  }
  const bool continued = decided.get_future().get();
  return {continued, sink->response};
}

TEST(QuotaFilter, StoreFailureFailsClosedWith503) {
  QuotaFilter filter(QuotaConfig{}, std::make_shared<FailingStore>(), false);
  auto [continued, response] = run(filter, "10.0.0.1");
  EXPECT_FALSE(continued);
  EXPECT_EQ(response.status, 503);
  EXPECT_NE(response.body.find("Quota service error"), std::string::npos);
}

TEST(QuotaFilter, CountsPerClientAddressAndAnswers429WithRetryAfter) {
  QuotaConfig config;
  config.anonymous_max_requests = 2;
  QuotaFilter filter(config, storage::make_memory_kvstore(), false);
  EXPECT_TRUE(run(filter, "10.0.0.1").continued);
  EXPECT_TRUE(run(filter, "10.0.0.1").continued);
  auto [continued, response] = run(filter, "10.0.0.1");
  EXPECT_FALSE(continued);
  EXPECT_EQ(response.status, 429);
  EXPECT_NE(response.body.find("\"message\":\"Quota exceeded\""), std::string::npos);
  ASSERT_TRUE(response.headers.get("retry-after").has_value());
  EXPECT_EQ(response.headers.get("x-should-retry"), "false");
  EXPECT_TRUE(run(filter, "10.0.0.2").continued);
}

// Through ServerCore, after a stand-in auth filter: the handler counts the
// requests that get past the quota.
struct QuotaChain {
  std::shared_ptr<storage::KVStore> store = storage::make_memory_kvstore();
  std::atomic<int> handled{0};
  std::thread::id handler_thread;
  std::unique_ptr<ServerCore> core;

  explicit QuotaChain(QuotaConfig config) {
    auto handler = [this](const std::shared_ptr<Exchange>& exchange) {
      handler_thread = std::this_thread::get_id();
      ++handled;
      exchange->send_json(200, json::object{});
    };
    RouteTable routes;
    routes.add({"GET", "/v1/models", handler, "models"});
    routes.add({"GET", "/v1/health", handler, "inspect", true});
    std::vector<std::unique_ptr<Filter>> filters;
    filters.push_back(std::make_unique<::llama_stack::testing::HeaderUserFilter>());
    filters.push_back(std::make_unique<QuotaFilter>(std::move(config), store, true));
    core = std::make_unique<ServerCore>(std::move(routes), std::move(filters));
  }

  // Dispatches, then plays the connection's thread until the answer.
  HttpResponse call(std::string user, std::string remote = "10.0.0.1") {
    Headers headers;
    if (!user.empty()) headers.add("x-test-user", std::move(user));
    auto sink = ::llama_stack::testing::dispatch(
        *core,
        ::llama_stack::testing::make_request("GET", "/v1/models", headers, "", std::move(remote)));
    EXPECT_TRUE(sink->wait_for_post_or_response());
    // The count is known on the writer thread; the decision waits for the
    // connection's thread.
    EXPECT_EQ(sink->responses(), 0);
    EXPECT_EQ(sink->run_posted(), 1);
    EXPECT_EQ(sink->responses(), 1);
    return sink->response();
  }
};

TEST(QuotaFilter, ThroughServerCoreCallersAreCountedByPrincipalOrAddress) {
  QuotaConfig config;
  config.authenticated_max_requests = 2;
  config.anonymous_max_requests = 1;
  QuotaChain chain(config);
  EXPECT_EQ(chain.call("alice").status, 200);
  EXPECT_EQ(chain.handler_thread, std::this_thread::get_id());
  EXPECT_EQ(chain.call("alice", "10.0.0.2").status, 200);  // the principal, not the address
  HttpResponse over = chain.call("alice");
  EXPECT_EQ(over.status, 429);
  const long long retry_after = std::stoll(std::string(over.headers.get("retry-after").value()));
  EXPECT_GE(retry_after, 1);
  EXPECT_LE(retry_after, 86400);             // the next daily window
  EXPECT_EQ(chain.call("bob").status, 200);  // from the same address as alice
  EXPECT_EQ(chain.call("").status, 200);     // anonymous: the address, its own limit
  EXPECT_EQ(chain.call("").status, 429);
  EXPECT_EQ(chain.handled.load(), 4);  // never after a 429
}

TEST(QuotaFilter, PublicRoutesAreNotCountedOrDelayed) {
  QuotaConfig config;
  config.anonymous_max_requests = 0;
  QuotaChain chain(config);
  for (int i = 0; i < 3; ++i) {
    auto sink = ::llama_stack::testing::dispatch(
        *chain.core, ::llama_stack::testing::make_request("GET", "/v1/health"));
    ASSERT_EQ(sink->responses(), 1);  // answered inside dispatch
    EXPECT_EQ(sink->posts(), 0);
    EXPECT_EQ(sink->response().status, 200);
  }
  EXPECT_TRUE(chain.store->scan_prefix("quota:").empty());
  EXPECT_EQ(chain.handled.load(), 3);
}

TEST(ClientAddress, ForwardedForIsBelievedOnlyFromTrustedProxies) {
  HttpRequest request;
  request.remote_address = "10.0.0.9";
  request.headers.add("x-forwarded-for", "1.2.3.4, 10.0.0.8");
  EXPECT_EQ(client_address(request, {}), "10.0.0.9");
  EXPECT_EQ(client_address(request, {"10.0.0.9"}), "10.0.0.8");
  EXPECT_EQ(client_address(request, {"10.0.0.9", "10.0.0.8"}), "1.2.3.4");
  request.remote_address = "6.6.6.6";
  EXPECT_EQ(client_address(request, {"10.0.0.9"}), "6.6.6.6");
}

}  // namespace
}  // namespace llama_stack::server
