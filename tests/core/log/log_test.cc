#include "core/log/log.h"

#include <gtest/gtest.h>

namespace llama_stack::log {
namespace {

TEST(LoggingSpec, ParsesCategoriesWithBothSeparators) {
  LoggingSpec spec = parse_logging_spec("server=debug;core=info, auth=WARNING");
  ASSERT_EQ(spec.levels.size(), 3u);
  EXPECT_EQ(spec.levels[0].first, Category::kServer);
  EXPECT_EQ(spec.levels[0].second, spdlog::level::debug);
  EXPECT_EQ(spec.levels[2].first, Category::kAuth);
  EXPECT_EQ(spec.levels[2].second, spdlog::level::warn);
  EXPECT_TRUE(spec.warnings.empty());
}

TEST(LoggingSpec, AllSetsEveryCategory) {
  LoggingSpec spec = parse_logging_spec("all=debug");
  EXPECT_TRUE(spec.has_all);
  EXPECT_EQ(spec.all_level, spdlog::level::debug);
}

TEST(LoggingSpec, UnknownNamesAndLevelsAreWarnedNotFatal) {
  LoggingSpec spec = parse_logging_spec("serverr=debug;core=loud;novalue;;");
  EXPECT_TRUE(spec.levels.empty());
  ASSERT_EQ(spec.warnings.size(), 3u);
  EXPECT_NE(spec.warnings[0].find("unknown logging category 'serverr'"), std::string::npos);
  EXPECT_NE(spec.warnings[1].find("unknown level"), std::string::npos);
  EXPECT_NE(spec.warnings[2].find("expected category=level"), std::string::npos);
}

TEST(Logging, ConfigureAppliesLevels) {
  configure("quota=error", "", {{"audit", "debug"}});
  EXPECT_EQ(get(Category::kQuota).level(), spdlog::level::err);
  EXPECT_EQ(get(Category::kAudit).level(), spdlog::level::debug);
  configure("all=info", "");
  EXPECT_EQ(get(Category::kQuota).level(), spdlog::level::info);
}

}  // namespace
}  // namespace llama_stack::log
