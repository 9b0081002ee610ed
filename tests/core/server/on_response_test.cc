// Filter::on_response: the completion hook telemetry, metrics and audit use.
#include <gtest/gtest.h>

#include "core/server/server_core.h"

namespace llama_stack::server {
namespace {

class NullSink : public ResponseSink {
 public:
  void send(HttpResponse) override {}
  void start_stream(int, Headers, std::string) override {}
  void write_chunk(std::string) override {}
  void end_stream() override {}
  void abort() override {}
  bool cancelled() const override { return false; }
  void on_cancel(std::function<void()>) override {}
};

struct Seen {
  std::string filter;
  ResponseSummary summary;
};

class RecordingFilter : public Filter {
 public:
  RecordingFilter(std::string name, std::vector<Seen>& seen, bool deny = false)
      : name_(std::move(name)), seen_(seen), deny_(deny) {}
  std::string_view name() const override { return name_; }
  FilterStatus on_request(const std::shared_ptr<Exchange>& ex) override {
    if (!deny_) return FilterStatus::kContinue;
    ex->send_error(ApiError::unauthorized("no"));
    return FilterStatus::kStop;
  }
  void on_response(const Exchange&, const ResponseSummary& summary) override {
    seen_.push_back({name_, summary});
  }

 private:
  std::string name_;
  std::vector<Seen>& seen_;
  bool deny_;
};

class OnResponseTest : public ::testing::Test {
 protected:
  ServerCore make_core(bool second_denies = false) {
    RouteTable t;
    t.add({"GET", "/ok",
           [](const std::shared_ptr<Exchange>& ex) { ex->send_json(200, json::object{}); },
           "test"});
    t.add({"GET", "/stream",
           [](const std::shared_ptr<Exchange>& ex) {
             ex->start_stream(200, "text/event-stream");
             ex->write_chunk("data: 1\n\n");
             ex->write_chunk("data: 2\n\n");
             ex->end_stream();
           },
           "test"});
    // Never answers (as when the client left before the answer came).
    t.add({"GET", "/abandon", [](const std::shared_ptr<Exchange>&) {}, "test"});
    std::vector<std::unique_ptr<Filter>> filters;
    filters.push_back(std::make_unique<RecordingFilter>("first", seen_));
    filters.push_back(std::make_unique<RecordingFilter>("second", seen_, second_denies));
    filters.push_back(std::make_unique<RecordingFilter>("third", seen_));
    return ServerCore(std::move(t), std::move(filters));
  }

  void call(const ServerCore& core, std::string path) {
    HttpRequest request;
    request.method = "GET";
    request.path = path;
    request.target = path;
    core.dispatch(std::make_shared<Exchange>(std::move(request), std::make_shared<NullSink>()));
  }

  std::vector<std::string> order() const {
    std::vector<std::string> names;
    for (const auto& s : seen_) names.push_back(s.filter);
    return names;
  }

  std::vector<Seen> seen_;
};

TEST_F(OnResponseTest, EveryFilterHearsOnceInReverseOrder) {
  ServerCore core = make_core();
  call(core, "/ok");
  EXPECT_EQ(order(), (std::vector<std::string>{"third", "second", "first"}));
  for (const auto& s : seen_) {
    EXPECT_EQ(s.summary.status, 200);
    EXPECT_EQ(s.summary.bytes, 2u);  // "{}"
    EXPECT_FALSE(s.summary.streamed);
    EXPECT_TRUE(s.summary.completed);
    EXPECT_GE(s.summary.duration.count(), 0);
  }
}

TEST_F(OnResponseTest, StreamsReportTheirBytes) {
  ServerCore core = make_core();
  call(core, "/stream");
  ASSERT_EQ(seen_.size(), 3u);
  EXPECT_EQ(seen_[0].summary.status, 200);
  EXPECT_EQ(seen_[0].summary.bytes, 18u);
  EXPECT_TRUE(seen_[0].summary.streamed);
  EXPECT_TRUE(seen_[0].summary.completed);
}

TEST_F(OnResponseTest, OnlyFiltersThatRanHearAboutAFilterAnswer) {
  ServerCore core = make_core(/*second_denies=*/true);
  call(core, "/ok");
  EXPECT_EQ(order(), (std::vector<std::string>{"second", "first"}));
  EXPECT_EQ(seen_[0].summary.status, 401);
}

TEST_F(OnResponseTest, AnAbandonedExchangeCompletesAs499) {
  ServerCore core = make_core();
  call(core, "/abandon");  // the last reference goes when dispatch returns
  ASSERT_EQ(seen_.size(), 3u);
  EXPECT_EQ(seen_[0].summary.status, 499);
  EXPECT_FALSE(seen_[0].summary.completed);
}

TEST_F(OnResponseTest, UnroutedRequestsRunNoFilter) {
  ServerCore core = make_core();
  call(core, "/nowhere");
  EXPECT_TRUE(seen_.empty());
}

}  // namespace
}  // namespace llama_stack::server
