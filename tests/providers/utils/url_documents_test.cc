// RAG documents behind URLs: the SSRF address check and URL detection.
#include "providers/utils/url_documents.h"

#include <gtest/gtest.h>

namespace llama_stack::providers::inline_ {
namespace {

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
