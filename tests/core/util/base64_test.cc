#include <gtest/gtest.h>

#include "core/util/json.h"

namespace llama_stack {
namespace {

TEST(Base64, EncodesWithPadding) {
  EXPECT_EQ(base64_encode(""), "");
  EXPECT_EQ(base64_encode("f"), "Zg==");
  EXPECT_EQ(base64_encode("fo"), "Zm8=");
  EXPECT_EQ(base64_encode("foo"), "Zm9v");
  EXPECT_EQ(base64_encode(std::string("\xff\x00\x7f", 3)), "/wB/");
}

TEST(AppendJsonString, EscapesLikeToJson) {
  std::string out;
  append_json_string(out, "a\"b\n");
  EXPECT_EQ(out, to_json(json::value("a\"b\n")));
}

}  // namespace
}  // namespace llama_stack
