// multipart/form-data parsing, fed whole, byte by byte and split at every
// point: the parts and their data must come out the same.
#include "core/http/multipart.h"

#include <gtest/gtest.h>

#include <vector>

namespace llama_stack::http {
namespace {

struct Seen {
  std::vector<MultipartPart> parts;
  std::vector<std::string> data;
  int ended = 0;
};

Seen parse(const std::string& body, const std::vector<std::size_t>& cuts,
           const std::string& boundary = "XyZ") {
  Seen seen;
  MultipartParser parser(
      boundary, {[&](const MultipartPart& p) {
                   seen.parts.push_back(p);
                   seen.data.emplace_back();
                 },
                 [&](std::string_view d) { seen.data.back() += d; }, [&] { ++seen.ended; }});
  std::size_t start = 0;
  for (std::size_t cut : cuts) {
    parser.feed(std::string_view(body).substr(start, cut - start));
    start = cut;
  }
  parser.feed(std::string_view(body).substr(start));
  parser.finish();
  return seen;
}

const std::string kBody =
    "preamble to ignore\r\n"
    "--XyZ\r\n"
    "Content-Disposition: form-data; name=\"purpose\"\r\n"
    "\r\n"
    "assistants\r\n"
    "--XyZ\r\n"
    "content-disposition: form-data; name=\"file\"; filename=\"notes \\\"v2\\\".txt\"\r\n"
    "Content-Type: text/plain\r\n"
    "\r\n"
    "line one\r\n-XyZ is no boundary\r\n--Xy\r\nend --XyZ\r\n"
    "--XyZ--\r\n"
    "epilogue";

void expect_the_two_parts(const Seen& s) {
  ASSERT_EQ(s.parts.size(), 2u);
  EXPECT_EQ(s.ended, 2);
  EXPECT_EQ(s.parts[0].name, "purpose");
  EXPECT_FALSE(s.parts[0].filename);
  EXPECT_EQ(s.data[0], "assistants");
  EXPECT_EQ(s.parts[1].name, "file");
  EXPECT_EQ(s.parts[1].filename, "notes \"v2\".txt");
  EXPECT_EQ(s.parts[1].content_type, "text/plain");
  EXPECT_EQ(s.data[1], "line one\r\n-XyZ is no boundary\r\n--Xy\r\nend --XyZ");
}

TEST(Multipart, WholeByteByByteAndEverySplit) {
  expect_the_two_parts(parse(kBody, {}));
  std::vector<std::size_t> every;
  for (std::size_t i = 1; i < kBody.size(); ++i) every.push_back(i);
  expect_the_two_parts(parse(kBody, every));
  for (std::size_t i = 1; i < kBody.size(); ++i) {
    SCOPED_TRACE(i);
    expect_the_two_parts(parse(kBody, {i}));
  }
}

TEST(Multipart, BoundaryOfContentType) {
  EXPECT_EQ(MultipartParser::boundary_of("multipart/form-data; boundary=abc"), "abc");
  EXPECT_EQ(MultipartParser::boundary_of("Multipart/Form-Data; charset=x; boundary=\"a b\""),
            "a b");
  EXPECT_FALSE(MultipartParser::boundary_of("application/json"));
  EXPECT_FALSE(MultipartParser::boundary_of("multipart/form-data"));
  EXPECT_FALSE(MultipartParser::boundary_of("multipart/form-data; boundary=\"open"));
}

TEST(Multipart, MalformedBodiesThrow) {
  auto fails = [](const std::string& body, std::size_t max_parts = 64) {
    MultipartParser parser("B", {}, max_parts);
    try {
      parser.feed(body);
      parser.finish();
    } catch (const MultipartError& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  EXPECT_NE(fails("no boundary at all"), "");
  EXPECT_NE(fails("--B\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nnever closed"), "");
  EXPECT_NE(fails("--B\r\nno colon here\r\n\r\nx\r\n--B--"), "");
  EXPECT_NE(fails("--B\r\nContent-Type: text/plain\r\n\r\nx\r\n--B--"), "");  // no name
  EXPECT_NE(fails("--B\r\nContent-Disposition: attachment; name=\"a\"\r\n\r\nx\r\n--B--"), "");
  EXPECT_NE(fails("--Bxx"), "");  // a boundary line with garbage after it
  EXPECT_NE(fails("--B\r\n" + std::string(MultipartParser::kMaxHeaderBytes + 10, 'h')), "");
  const std::string two =
      "--B\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n"
      "--B\r\nContent-Disposition: form-data; name=\"b\"\r\n\r\n2\r\n--B--";
  EXPECT_EQ(fails(two), "");
  EXPECT_NE(fails(two, 1), "");  // too many parts
}

TEST(Multipart, LargeDataIsHandedOnInPieces) {
  std::string big(1 << 20, 'x');
  const std::string body =
      "--B\r\nContent-Disposition: form-data; name=\"file\"; filename=\"f\"\r\n\r\n" + big +
      "\r\n--B--\r\n";
  std::size_t total = 0, calls = 0, max_piece = 0;
  MultipartParser parser("B", {nullptr,
                               [&](std::string_view d) {
                                 total += d.size();
                                 ++calls;
                                 max_piece = std::max(max_piece, d.size());
                               },
                               nullptr});
  for (std::size_t i = 0; i < body.size(); i += 4096)
    parser.feed(std::string_view(body).substr(i, 4096));
  parser.finish();
  EXPECT_EQ(total, big.size());
  EXPECT_GT(calls, 200u);
  EXPECT_LE(max_piece, 4096u + 8);
}

}  // namespace
}  // namespace llama_stack::http
