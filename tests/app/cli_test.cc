#include "app/cli.h"

#include <gtest/gtest.h>

namespace llama_stack::cli {
namespace {

TEST(ResolveConfigPath, FindsDistributionsByName) {
  std::vector<std::string> searched;
  std::string path = resolve_config_path("starter", searched);
  EXPECT_TRUE(path.ends_with("distributions/starter/run.yaml")) << path;
}

TEST(ResolveConfigPath, MissingFileReportsWhereItLooked) {
  std::vector<std::string> searched;
  EXPECT_TRUE(resolve_config_path("no-such-distribution", searched).empty());
  EXPECT_GE(searched.size(), 3u);
  searched.clear();
  EXPECT_TRUE(resolve_config_path("/nope/run.yaml", searched).empty());
  EXPECT_EQ(searched.size(), 1u);
}

TEST(Cli, VersionAndUnknownCommand) {
  EXPECT_EQ(main({"--version"}), 0);
  EXPECT_EQ(main({"frobnicate"}), 2);
  EXPECT_EQ(main({"run", "--help"}), 0);
  EXPECT_EQ(main({"run", "--port", "notaport", "x.yaml"}), 2);
}

TEST(Cli, ValidateStarterDistribution) {
  EXPECT_EQ(main({"validate", "starter"}), 0);
}

}  // namespace
}  // namespace llama_stack::cli
