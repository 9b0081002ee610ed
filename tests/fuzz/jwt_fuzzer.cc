// JWT compact form and JWKS: the first line is a JWKS document, the rest a
// token. The server parses fetched key sets with JwkSet::parse and every
// bearer token with verify_jwt (decode_jwt, the key for its kid,
// verify_signature, validate_claims).
#include <cstdint>
#include <stdexcept>

#include "core/auth/jwt.h"
#include "fuzz/fuzz_support.h"

using namespace llama_stack;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto [jwks_text, token] = fuzz::split_once(fuzz::as_text(data, size));
  auth::JwkSet keys;
  try {
    keys = auth::JwkSet::parse(jwks_text);
  } catch (const std::runtime_error&) {
    // Not a key set: the token is still decoded below, against no keys.
  }
  auth::ClaimRules rules;
  rules.issuer = "https://idp.test";
  rules.audience = "llama-stack";
  (void)auth::verify_jwt(token, keys, rules, /*now=*/1'800'000'000);
  auto decoded = auth::decode_jwt(token);
  if (auto* jwt = std::get_if<auth::Jwt>(&decoded)) {
    for (const auto& key : keys.keys()) (void)auth::verify_signature(*jwt, key);
    (void)auth::validate_claims(jwt->payload, rules, 1'800'000'000);
  }
  (void)auth::base64url_decode(token);
  return 0;
}
