// Document text: HTML to text, PDF errors, type detection.
#include "providers/utils/document_text.h"

#include <gtest/gtest.h>

#include "support/api_errors.h"

namespace llama_stack::providers::utils {
namespace {

TEST(DocumentText, HtmlToText) {
  EXPECT_EQ(html_to_text("<html><head><title>t</title><style>p{}</style></head><body>"
                         "<h1>Title</h1><p>One &amp; <b>two</b></p><script>x()</script>"
                         "<div>three&nbsp;four</div></body></html>"),
            "Title\nOne & two\nthree four");
  EXPECT_EQ(html_to_text("plain &lt;text&gt;"), "plain <text>");
}

TEST(DocumentText, ABrokenPdfIsA400NamingTheField) {
  const ApiError e =
      testing::error_of([] { pdf_text("%PDF-1.4 nothing else", "documents[2].content"); });
  EXPECT_EQ(e.status(), 400);
  EXPECT_NE(std::string(e.what()).find("documents[2].content"), std::string::npos) << e.what();
}

TEST(DocumentText, TypesByExtensionThenByContent) {
  EXPECT_EQ(guess_mime_type("report.PDF", ""), "application/pdf");
  EXPECT_EQ(guess_mime_type("page.htm", ""), "text/html");
  EXPECT_EQ(guess_mime_type("notes.md", ""), "text/markdown");
  EXPECT_EQ(guess_mime_type("blob", "%PDF-1.7 ..."), "application/pdf");
  EXPECT_EQ(guess_mime_type("blob", "<!DOCTYPE html><p>x"), "text/html");
  EXPECT_EQ(guess_mime_type("blob", "plain words"), "");
}

TEST(DocumentText, UntypedBytesAreTextOnlyWhenTheyAreUtf8) {
  EXPECT_EQ(document_text("caf\xc3\xa9 ok", "", "file"), "caf\xc3\xa9 ok");
  EXPECT_EQ(document_text("<p>a</p>", "text/html; charset=utf-8", "file"), "a");
  for (const std::string& bytes :
       {std::string("a\0b", 3), std::string("\xff\xfe"), std::string("\xc0\xaf"),
        std::string("\xed\xa0\x80"), std::string("\xe2\x82")}) {
    const ApiError e = testing::error_of([&] { document_text(bytes, "", "file"); });
    EXPECT_EQ(e.status(), 415) << e.what();
  }
  const ApiError e = testing::error_of([] { document_text("x", "image/png", "files[0]"); });
  EXPECT_EQ(e.status(), 415);
  EXPECT_NE(std::string(e.what()).find("image/png"), std::string::npos) << e.what();
}

}  // namespace
}  // namespace llama_stack::providers::utils
