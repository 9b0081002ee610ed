#include "core/server/filters/quota_filter.h"

#include <gtest/gtest.h>

#include <future>

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
