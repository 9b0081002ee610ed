// The token counter and the overlapping windows of core/util/text_chunks.h.
#include "core/util/text_chunks.h"

#include <gtest/gtest.h>

namespace llama_stack {
namespace {

TEST(TextChunks, TokensAreWordsOrPunctuationWithTheirLeadingSpace) {
  const auto tokens = text_tokens("Hello, world!  Bye ");
  ASSERT_EQ(tokens.size(), 5u);
  EXPECT_EQ(tokens[0], "Hello");
  EXPECT_EQ(tokens[1], ",");
  EXPECT_EQ(tokens[2], " world");
  EXPECT_EQ(tokens[3], "!");
  EXPECT_EQ(tokens[4], "  Bye ");  // trailing space joins the last token
  std::string back;
  for (auto t : tokens) back += t;
  EXPECT_EQ(back, "Hello, world!  Bye ");
  EXPECT_TRUE(text_tokens("").empty());
}

TEST(TextChunks, WindowsOverlapByAQuarter) {
  std::string text;
  for (int i = 0; i < 40; ++i) text += (i ? " w" : "w") + std::to_string(i);
  const auto chunks = overlapped_chunks(text, 16, 4);
  ASSERT_EQ(chunks.size(), 4u);  // starts 0, 12, 24, 36
  EXPECT_EQ(chunks[0].tokens, 16u);
  EXPECT_EQ(chunks[3].tokens, 4u);
  EXPECT_TRUE(chunks[1].text.starts_with(" w12"));
  EXPECT_NE(chunks[0].text.find("w15"), std::string::npos);
  EXPECT_NE(chunks[1].text.find("w15"), std::string::npos);  // the overlap
}

}  // namespace
}  // namespace llama_stack
