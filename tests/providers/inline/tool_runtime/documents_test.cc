// RAG documents: the token counter, overlapping windows, HTML to text and
// the SSRF address check.
#include "providers/inline/tool_runtime/documents.h"

#include <gtest/gtest.h>

#include "support/api_errors.h"

namespace llama_stack::providers::inline_ {
namespace {

TEST(RagDocuments, TokensAreWordsOrPunctuationWithTheirLeadingSpace) {
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

TEST(RagDocuments, WindowsOverlapByAQuarter) {
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

TEST(RagDocuments, HtmlToText) {
  EXPECT_EQ(html_to_text("<html><head><title>t</title><style>p{}</style></head><body>"
                         "<h1>Title</h1><p>One &amp; <b>two</b></p><script>x()</script>"
                         "<div>three&nbsp;four</div></body></html>"),
            "Title\nOne & two\nthree four");
  EXPECT_EQ(html_to_text("plain &lt;text&gt;"), "plain <text>");
}

TEST(RagDocuments, PrivateAddresses) {
  for (const char* ip : {"127.0.0.1", "10.1.2.3", "172.16.0.1", "172.31.255.255", "192.168.1.1",
                         "169.254.169.254", "0.0.0.0", "100.64.0.1", "224.0.0.1", "::1",
                         "::", "fe80::1", "fd00::1", "::ffff:127.0.0.1", "not an ip"}) {
    EXPECT_TRUE(is_private_address(ip)) << ip;
  }
  for (const char* ip :
       {"8.8.8.8", "172.32.0.1", "1.1.1.1", "2001:4860:4860::8888", "::ffff:8.8.8.8"}) {
    EXPECT_FALSE(is_private_address(ip)) << ip;
  }
}

TEST(RagDocuments, Urls) {
  EXPECT_TRUE(looks_like_url("https://x"));
  EXPECT_TRUE(looks_like_url("HTTP://x"));
  EXPECT_TRUE(looks_like_url("data:text/plain,hi"));
  EXPECT_TRUE(looks_like_url("file:///etc/passwd"));
  EXPECT_FALSE(looks_like_url("just text about http://x"));
}

}  // namespace
}  // namespace llama_stack::providers::inline_

namespace llama_stack::providers::inline_ {
namespace {

TEST(RagDocuments, ABrokenPdfIsA400NamingTheField) {
  const ApiError e =
      testing::error_of([] { pdf_text("%PDF-1.4 nothing else", "documents[2].content"); });
  EXPECT_EQ(e.status(), 400);
  EXPECT_NE(std::string(e.what()).find("documents[2].content"), std::string::npos) << e.what();
}

}  // namespace
}  // namespace llama_stack::providers::inline_
