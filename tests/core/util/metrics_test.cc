#include "core/util/metrics.h"

#include <gtest/gtest.h>

#include <thread>

namespace llama_stack::metrics {
namespace {

std::string text_of(const FamilyBase& family) {
  return to_prometheus_text({family.snapshot()});
}

TEST(Metrics, CounterSeriesByLabelsInTextFormat) {
  Registry registry;
  auto& requests = registry.counter("t_requests_total", "Requests.", {"route", "status"});
  requests.with({"/v1/models", "200"}).inc();
  requests.with({"/v1/models", "200"}).inc(2);
  requests.with({"/v1/models", "404"}).inc();
  EXPECT_EQ(&requests.with({"/v1/models", "200"}), &requests.with({"/v1/models", "200"}));
  EXPECT_EQ(text_of(requests),
            "# HELP t_requests_total Requests.\n"
            "# TYPE t_requests_total counter\n"
            "t_requests_total{route=\"/v1/models\",status=\"200\"} 3\n"
            "t_requests_total{route=\"/v1/models\",status=\"404\"} 1\n");
}

TEST(Metrics, LabelValuesAreEscapedAndEmptyOnesLeftOut) {
  Registry registry;
  auto& c = registry.counter("t_escaped_total", "E.", {"model", "principal"});
  c.with({"a\"b\\c\nd", ""}).inc();
  EXPECT_NE(text_of(c).find("t_escaped_total{model=\"a\\\"b\\\\c\\nd\"} 1\n"), std::string::npos)
      << text_of(c);
}

TEST(Metrics, HistogramBucketsAreCumulativeWithSumAndCount) {
  Registry registry;
  auto& h = registry.histogram("t_duration_seconds", "D.", {"route"}, {0.1, 1});
  auto& s = h.with({"/x"});
  s.observe(0.05);
  s.observe(0.1);  // on the bound: le="0.1"
  s.observe(0.5);
  s.observe(7);
  const std::string text = text_of(h);
  EXPECT_NE(text.find("t_duration_seconds_bucket{route=\"/x\",le=\"0.1\"} 2\n"), std::string::npos)
      << text;
  EXPECT_NE(text.find("t_duration_seconds_bucket{route=\"/x\",le=\"1\"} 3\n"), std::string::npos);
  EXPECT_NE(text.find("t_duration_seconds_bucket{route=\"/x\",le=\"+Inf\"} 4\n"),
            std::string::npos);
  EXPECT_NE(text.find("t_duration_seconds_sum{route=\"/x\"} 7.65\n"), std::string::npos);
  EXPECT_NE(text.find("t_duration_seconds_count{route=\"/x\"} 4\n"), std::string::npos);
}

TEST(Metrics, SeriesBeyondTheLimitFoldIntoOther) {
  Registry registry;
  auto& c = registry.counter("t_bounded_total", "B.", {"model"});
  for (std::size_t i = 0; i < FamilyBase::kMaxSeries + 50; ++i) {
    c.with({"model-" + std::to_string(i)}).inc();
  }
  const FamilySnapshot snap = c.snapshot();
  EXPECT_EQ(snap.series.size(), FamilyBase::kMaxSeries + 1);
  const auto other = std::find_if(snap.series.begin(), snap.series.end(), [](const auto& s) {
    return s.label_values == std::vector<std::string>{"other"};
  });
  ASSERT_NE(other, snap.series.end());
  EXPECT_EQ(other->value, 50);
}

TEST(Metrics, ConcurrentIncrementsAreAllCounted) {
  Registry registry;
  auto& c = registry.counter("t_concurrent_total", "C.", {"k"});
  auto& g = registry.gauge("t_gauge", "G.", {});
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 10000; ++i) {
        c.with({(i % 2) != 0 ? "odd" : "even"}).inc();
        g.with({}).add(t % 2 == 0 ? 1 : -1);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(c.with({"odd"}).value() + c.with({"even"}).value(), 40000u);
  EXPECT_EQ(g.with({}).value(), 0);
}

TEST(Metrics, ProcessMetricsAreRead) {
  double rss = 0, fds = 0;
  for (const auto& f : process_snapshot()) {
    if (f.name == "process_resident_memory_bytes") rss = f.series.at(0).value;
    if (f.name == "process_open_fds") fds = f.series.at(0).value;
  }
  EXPECT_GT(rss, 1e5);
  EXPECT_GE(fds, 3);
}

}  // namespace
}  // namespace llama_stack::metrics
