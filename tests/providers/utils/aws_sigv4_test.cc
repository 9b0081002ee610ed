// SigV4 against AWS's published test suite (aws-sig-v4-test-suite: the
// AKIDEXAMPLE credentials, us-east-1, service "service", 2015-08-30 12:36:00 UTC).
#include "providers/utils/aws_sigv4.h"

#include <gtest/gtest.h>

namespace llama_stack::providers::utils {
namespace {

const AwsCredentials kExample{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", ""};
const auto kWhen = std::chrono::system_clock::from_time_t(1440938160);  // 20150830T123600Z

SigV4Result sign(std::string method, std::string path, std::string query,
                 std::vector<std::pair<std::string, std::string>> headers = {},
                 std::string body = {}) {
  SigV4Request r;
  r.method = std::move(method);
  r.host = "example.amazonaws.com";
  r.path = std::move(path);
  r.query = std::move(query);
  r.headers = std::move(headers);
  r.body = std::move(body);
  return sigv4_sign(r, kExample, "us-east-1", "service", kWhen);
}

TEST(SigV4, GetVanilla) {
  const SigV4Result r = sign("GET", "/", "");
  EXPECT_EQ(r.amz_date, "20150830T123600Z");
  EXPECT_EQ(r.canonical_request,
            "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\n"
            "host;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(r.string_to_sign,
            "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n"
            "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63");
  EXPECT_EQ(r.authorization,
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
            "SignedHeaders=host;x-amz-date, "
            "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
}

TEST(SigV4, QueryParametersAreSorted) {
  // get-vanilla-query-order-key-case
  EXPECT_EQ(sign("GET", "/", "Param2=value2&Param1=value1").signature,
            "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500");
}

TEST(SigV4, PostVanillaAndUtf8Path) {
  EXPECT_EQ(sign("POST", "/", "").signature,
            "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b");
  // get-utf8: the path "/ሴ" is signed as /%E1%88%B4.
  EXPECT_EQ(sign("GET", "/\xE1\x88\xB4", "").signature,
            "8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85");
}

TEST(SigV4, SessionTokenAndExtraHeadersAreSigned) {
  AwsCredentials temporary = kExample;
  temporary.session_token = "TOKEN";
  SigV4Request r;
  r.host = "bedrock-runtime.us-east-1.amazonaws.com";
  r.path = "/guardrail/gr1/version/1/apply";
  r.headers = {{"Content-Type", "application/json"}};
  r.body = "{}";
  const SigV4Result s = sigv4_sign(r, temporary, "us-east-1", "bedrock", kWhen);
  EXPECT_EQ(s.signed_headers, "content-type;host;x-amz-date;x-amz-security-token");
  EXPECT_NE(s.canonical_request.find("x-amz-security-token:TOKEN\n"), std::string::npos);
  EXPECT_NE(s.authorization.find("/20150830/us-east-1/bedrock/aws4_request"), std::string::npos);
  // The body is part of the signature.
  r.body = "{ }";
  EXPECT_NE(sigv4_sign(r, temporary, "us-east-1", "bedrock", kWhen).signature, s.signature);
}

TEST(SigV4, UriEncoding) {
  EXPECT_EQ(aws_uri_encode("a b/c~d", true), "a%20b/c~d");
  EXPECT_EQ(aws_uri_encode("a b/c", false), "a%20b%2Fc");
  // An already-encoded path segment is encoded once more (non-S3 services).
  EXPECT_EQ(aws_uri_encode("/guardrail/arn%3Aaws", true), "/guardrail/arn%253Aaws");
}

}  // namespace
}  // namespace llama_stack::providers::utils
