#include "core/server/server_core.h"

#include <gtest/gtest.h>

#include "llama_stack/storage/kvstore.h"
#include "support/manual_executor.h"

#include <thread>

namespace llama_stack::server {
namespace {

// Captures what a handler sends.
class RecordingSink : public ResponseSink {
 public:
  void send(HttpResponse r) override {
    response = std::move(r);
    ++sends;
  }
  void start_stream(int status, Headers headers, std::string) override {
    response.status = status;
    response.headers = std::move(headers);
    streaming = true;
  }
  void write_chunk(std::string data) override { response.body += data; }
  void end_stream() override { ended = true; }
  void abort() override { aborted = true; }
  bool aborted = false;
  bool cancelled() const override { return false; }
  void on_cancel(std::function<void()>) override {}

  HttpResponse response;
  int sends = 0;
  bool streaming = false;
  bool ended = false;
};

struct Result {
  HttpResponse response;
  json::value body;
  int sends = 0;
};

Result call(const ServerCore& core, std::string method, std::string path, Headers headers = {}) {
  HttpRequest request;
  request.method = std::move(method);
  request.path = path;
  request.target = path;
  request.headers = std::move(headers);
  auto sink = std::make_shared<RecordingSink>();
  core.dispatch(std::make_shared<Exchange>(std::move(request), sink));
  Result r{sink->response, nullptr, sink->sends};
  if (!r.response.body.empty()) r.body = parse_json(r.response.body);
  return r;
}

ServerCore make_core(std::vector<std::unique_ptr<Filter>> filters = {}) {
  RouteTable t;
  t.add({"GET", "/ok",
         [](const std::shared_ptr<Exchange>& ex) {
           ex->send_json(200, json::object{{"ok", true}});
         },
         "test"});
  t.add({"GET", "/api-error",
         [](const std::shared_ptr<Exchange>&) { throw ApiError::conflict("already there"); },
         "test"});
  t.add(
      {"GET", "/std-error",
       [](const std::shared_ptr<Exchange>&) { throw std::runtime_error("secret internal detail"); },
       "test"});
  t.add({"GET", "/storage-error",
         [](const std::shared_ptr<Exchange>&) { throw storage::StorageError("disk I/O error"); },
         "test"});
  t.add({"GET", "/stream",
         [](const std::shared_ptr<Exchange>& ex) {
           ex->start_stream(200, "text/event-stream");
           ex->write_chunk("data: 1\n\n");
           ex->end_stream();
         },
         "test"});
  return ServerCore(std::move(t), std::move(filters));
}

void expect_error_shape(const Result& r, int status, std::string_view type) {
  EXPECT_EQ(r.response.status, status);
  ASSERT_TRUE(r.body.is_object()) << r.response.body;
  EXPECT_TRUE(r.body.at("detail").is_string());
  EXPECT_EQ(r.body.at("error").at("message"), r.body.at("detail"));
  EXPECT_EQ(r.body.at("error").at("type").as_string(), type);
  EXPECT_EQ(r.body.at("error").at("code").as_int64(), status);
}

TEST(ServerCore, RoutesAndAddsTraceId) {
  ServerCore core = make_core();
  Result r = call(core, "GET", "/ok");
  EXPECT_EQ(r.response.status, 200);
  EXPECT_EQ(r.body.at("ok").as_bool(), true);
  auto trace = r.response.headers.get("x-trace-id");
  ASSERT_TRUE(trace.has_value());
  EXPECT_EQ(trace->size(), 32u);
}

TEST(ServerCore, HonoursTraceparent) {
  ServerCore core = make_core();
  Headers h;
  h.add("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
  Result r = call(core, "GET", "/ok", h);
  EXPECT_EQ(r.response.headers.get("x-trace-id"), "0af7651916cd43dd8448eb211c80319c");
  Headers bad;
  bad.add("traceparent", "00-00000000000000000000000000000000-b7ad6b7169203331-01");
  EXPECT_NE(call(core, "GET", "/ok", bad).response.headers.get("x-trace-id"),
            "00000000000000000000000000000000");
}

TEST(ServerCore, UnknownRouteIs404AndWrongMethodIs405) {
  ServerCore core = make_core();
  expect_error_shape(call(core, "GET", "/nope"), 404, "not_found_error");
  Result r = call(core, "POST", "/ok");
  expect_error_shape(r, 405, "method_not_allowed");
  EXPECT_EQ(r.response.headers.get("allow"), "GET");
}

TEST(ServerCore, ApiErrorsKeepTheirStatusAndDoNotInviteRetries) {
  Result r = call(make_core(), "GET", "/api-error");
  expect_error_shape(r, 409, "conflict_error");
  EXPECT_EQ(r.body.at("detail").as_string(), "already there");
  EXPECT_EQ(r.response.headers.get("x-should-retry"), "false");
}

TEST(ServerCore, UnexpectedExceptionsAre500WithoutInternals) {
  Result r = call(make_core(), "GET", "/std-error");
  expect_error_shape(r, 500, "api_error");
  EXPECT_EQ(r.response.body.find("secret internal detail"), std::string::npos);
}

TEST(ServerCore, StorageFailuresAre503) {
  Result r = call(make_core(), "GET", "/storage-error");
  expect_error_shape(r, 503, "service_unavailable");
  EXPECT_EQ(r.response.headers.get("x-should-retry"), "true");
  EXPECT_EQ(r.response.headers.get("retry-after"), "5");
}

TEST(ServerCore, BlockingRoutesRunOnTheBlockingExecutor) {
  RouteTable t;
  std::thread::id ran_on;
  t.add(blocking({"POST", "/register",
                  [&](const std::shared_ptr<Exchange>& ex) {
                    ran_on = std::this_thread::get_id();
                    ex->send_json(200, json::object{{"ok", true}});
                  },
                  "test"}));
  t.add({"GET", "/plain",
         [](const std::shared_ptr<Exchange>& ex) { ex->send_json(200, json::object{}); }, "test"});
  ServerCore core(std::move(t), {});
  ::llama_stack::testing::ManualExecutor pool;
  core.set_blocking_executor(&pool);
  EXPECT_EQ(call(core, "GET", "/plain").response.status, 200) << "not blocking: served inline";

  HttpRequest request;
  request.method = "POST";
  request.path = request.target = "/register";
  auto sink = std::make_shared<RecordingSink>();
  core.dispatch(std::make_shared<Exchange>(std::move(request), sink));
  EXPECT_EQ(sink->sends, 0) << "the handler waits for the pool";
  std::thread worker([&] { EXPECT_EQ(pool.drain(), 1); });
  const auto worker_id = worker.get_id();
  worker.join();
  EXPECT_EQ(sink->sends, 1);
  EXPECT_EQ(sink->response.status, 200);
  EXPECT_EQ(ran_on, worker_id);
}

TEST(ServerCore, StreamsCarryTraceId) {
  HttpRequest request;
  request.method = "GET";
  request.path = request.target = "/stream";
  auto sink = std::make_shared<RecordingSink>();
  make_core().dispatch(std::make_shared<Exchange>(std::move(request), sink));
  EXPECT_TRUE(sink->streaming);
  EXPECT_TRUE(sink->ended);
  EXPECT_EQ(sink->response.body, "data: 1\n\n");
  EXPECT_TRUE(sink->response.headers.contains("x-trace-id"));
}

class DenyFilter : public Filter {
 public:
  std::string_view name() const override { return "deny"; }
  FilterStatus on_request(const std::shared_ptr<Exchange>& ex) override {
    ++calls;
    ex->context().response_headers.set("x-filter", "seen");
    if (ex->request().path == "/ok") return FilterStatus::kContinue;
    ex->send_error(ApiError::unauthorized("no"));
    return FilterStatus::kStop;
  }
  int calls = 0;
};

TEST(ServerCore, FiltersRunBeforeHandlersAndAddHeaders) {
  auto filter = std::make_unique<DenyFilter>();
  DenyFilter* raw = filter.get();
  std::vector<std::unique_ptr<Filter>> filters;
  filters.push_back(std::move(filter));
  ServerCore core = make_core(std::move(filters));
  Result ok = call(core, "GET", "/ok");
  EXPECT_EQ(ok.response.status, 200);
  EXPECT_EQ(ok.response.headers.get("x-filter"), "seen");
  Result denied = call(core, "GET", "/api-error");
  EXPECT_EQ(denied.response.status, 401);
  EXPECT_EQ(denied.sends, 1);
  EXPECT_EQ(raw->calls, 2);
}

TEST(Exchange, SecondResponseIsDropped) {
  HttpRequest request;
  request.method = "GET";
  auto sink = std::make_shared<RecordingSink>();
  auto ex = std::make_shared<Exchange>(std::move(request), sink);
  ex->send_json(200, json::object{});
  ex->send_json(500, json::object{});
  EXPECT_EQ(sink->sends, 1);
  EXPECT_EQ(sink->response.status, 200);
}

}  // namespace
}  // namespace llama_stack::server
