// AWS Signature Version 4 (header signing), done with OpenSSL: what Bedrock
// and every other AWS API expect on each request.
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html
//
// Tested with AWS's published test-suite vectors
// (tests/providers/utils/aws_sigv4_test.cc).
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace llama_stack::providers::utils {

struct AwsCredentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  // empty: long-term credentials
};

struct SigV4Request {
  std::string method = "POST";
  std::string host;  // the Host header ("bedrock-runtime.us-east-1.amazonaws.com[:port]")
  // The path as given to the signer. Each byte outside A-Z a-z 0-9 - _ . ~ /
  // is percent-encoded once more in the canonical form — for a path that is
  // already percent-encoded on the wire, that is the double encoding AWS
  // requires of every service but S3.
  std::string path = "/";
  std::string query;  // without '?'; "a=1&b=2" (sorted and encoded by the signer)
  std::vector<std::pair<std::string, std::string>> headers;  // besides host and x-amz-date
  std::string body;
};

struct SigV4Result {
  std::string amz_date;  // X-Amz-Date: 20150830T123600Z
  std::string canonical_request;
  std::string string_to_sign;
  std::string signed_headers;  // "content-type;host;x-amz-date"
  std::string signature;       // lower-case hex
  std::string authorization;   // the Authorization header value
};

// Signs `request` for `region` and `service` at `now`. Every header in
// request.headers is signed, with host and x-amz-date (and
// x-amz-security-token when the credentials have a session token); the
// caller sends those headers, X-Amz-Date and Authorization.
SigV4Result sigv4_sign(const SigV4Request& request, const AwsCredentials& credentials,
                       std::string_view region, std::string_view service,
                       std::chrono::system_clock::time_point now);

// Lower-case hex SHA-256 of `data`.
std::string sha256_hex(std::string_view data);

// The signing key: HMAC chain over the date (YYYYMMDD), region and service.
std::string sigv4_signing_key(std::string_view secret, std::string_view date,
                              std::string_view region, std::string_view service);

// RFC 3986 percent-encoding of every byte but unreserved ones (and '/' when
// `keep_slash`), upper-case hex, as SigV4 specifies.
std::string aws_uri_encode(std::string_view text, bool keep_slash);

}  // namespace llama_stack::providers::utils
