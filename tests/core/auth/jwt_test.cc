#include "core/auth/jwt.h"

#include <gtest/gtest.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <limits>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "support/jwt_tokens.h"

namespace llama_stack::auth {
namespace {

// ---------------------------------------------------------------------------
// Test helpers: keys, JWKs and tokens made with OpenSSL in the test itself
// (support/jwt_tokens.h).

using namespace ::llama_stack::testing;

constexpr std::int64_t kNow = 1'700'000'000;

json::object default_claims() {
  return json::object{{"iss", "https://issuer.example"},
                      {"sub", "user-1"},
                      {"aud", "llama-stack"},
                      {"iat", kNow - 10},
                      {"exp", kNow + 600}};
}

std::string make_token(EVP_PKEY* key, std::string_view alg, std::string_view kid,
                       const json::object& payload = default_claims()) {
  return signed_token(key, alg, kid, payload);
}

// Keys generated once for the whole binary: RSA generation is slow.
struct TestKeys {
  PkeyPtr rsa = generate_rsa(2048);
  PkeyPtr rsa_other = generate_rsa(2048);
  PkeyPtr rsa_small = generate_rsa(1024);
  PkeyPtr ec256 = generate_ec("P-256");
  PkeyPtr ec256_other = generate_ec("P-256");
  PkeyPtr ec384 = generate_ec("P-384");
  PkeyPtr ed25519 = generate_ed25519();
  std::string jwks;

  TestKeys() {
    json::object rs256_only = public_jwk(rsa.get(), "rsa-rs256-only");
    rs256_only["alg"] = "RS256";
    json::object rsa_sig = public_jwk(rsa.get(), "rsa");
    rsa_sig["use"] = "sig";
    jwks = jwks_text({rsa_sig, rs256_only, public_jwk(rsa_small.get(), "rsa-small"),
                      public_jwk(ec256.get(), "ec256"), public_jwk(ec384.get(), "ec384"),
                      public_jwk(ed25519.get(), "ed25519")});
  }
};

const TestKeys& keys() {
  static const TestKeys instance;
  return instance;
}

const JwkSet& key_set() {
  static const JwkSet instance = JwkSet::parse(keys().jwks);
  return instance;
}

ClaimRules default_rules() {
  ClaimRules rules;
  rules.issuer = "https://issuer.example";
  rules.audience = "llama-stack";
  return rules;
}

// The message must be useful and must never echo the token or a part of it.
void expect_message_hides_token(const JwtError& error, std::string_view token) {
  EXPECT_FALSE(error.message.empty());
  if (token.empty()) return;
  EXPECT_EQ(error.message.find(token), std::string::npos) << error.message;
  std::size_t start = 0;
  while (start <= token.size()) {
    std::size_t end = token.find('.', start);
    if (end == std::string_view::npos) end = token.size();
    const std::string_view part = token.substr(start, end - start);
    if (part.size() >= 8) {
      EXPECT_EQ(error.message.find(part), std::string::npos) << error.message;
    }
    start = end + 1;
  }
}

void expect_error(const std::variant<Jwt, JwtError>& result, JwtErrorKind kind,
                  std::string_view token) {
  const auto* error = std::get_if<JwtError>(&result);
  ASSERT_NE(error, nullptr) << "expected " << to_string(kind) << ", token was accepted";
  EXPECT_EQ(error->kind, kind) << to_string(error->kind) << ": " << error->message;
  expect_message_hides_token(*error, token);
}

void expect_error(const std::optional<JwtError>& result, JwtErrorKind kind,
                  std::string_view token = {}) {
  ASSERT_TRUE(result.has_value()) << "expected " << to_string(kind);
  EXPECT_EQ(result->kind, kind) << to_string(result->kind) << ": " << result->message;
  expect_message_hides_token(*result, token);
}

void expect_verified(const std::variant<Jwt, JwtError>& result) {
  const auto* error = std::get_if<JwtError>(&result);
  EXPECT_EQ(error, nullptr) << to_string(error->kind) << ": " << error->message;
}

std::variant<Jwt, JwtError> verify(std::string_view token,
                                   const ClaimRules& rules = default_rules()) {
  return verify_jwt(token, key_set(), rules, kNow);
}

Jwt decoded(std::string_view token) {
  auto result = decode_jwt(token);
  if (auto* error = std::get_if<JwtError>(&result)) {
    throw std::runtime_error("decode failed: " + error->message);
  }
  return std::get<Jwt>(std::move(result));
}

// ---------------------------------------------------------------------------
// base64url

TEST(JwtBase64url, DecodesUnpaddedUrlAlphabet) {
  EXPECT_EQ(base64url_decode(""), "");
  EXPECT_EQ(base64url_decode("YQ"), "a");
  EXPECT_EQ(base64url_decode("YWI"), "ab");
  EXPECT_EQ(base64url_decode("YWJj"), "abc");
  EXPECT_EQ(base64url_decode("-_8"), std::string("\xfb\xff"));
  const std::string all_bytes = [] {
    std::string s;
    for (int i = 0; i < 256; ++i) s.push_back(static_cast<char>(i));
    return s;
  }();
  EXPECT_EQ(base64url_decode(b64url(all_bytes)), all_bytes);
}

TEST(JwtBase64url, RejectsInvalidInput) {
  EXPECT_EQ(base64url_decode("YQ=="), std::nullopt);  // padding
  EXPECT_EQ(base64url_decode("+/8"), std::nullopt);   // standard alphabet
  EXPECT_EQ(base64url_decode("Y"), std::nullopt);     // impossible length
  EXPECT_EQ(base64url_decode("YQ\n"), std::nullopt);  // whitespace
  EXPECT_EQ(base64url_decode("Y Q"), std::nullopt);
  EXPECT_EQ(base64url_decode("YR"), std::nullopt);  // non-zero trailing bits
  EXPECT_EQ(base64url_decode(std::string("YQ\0", 3)), std::nullopt);
}

// ---------------------------------------------------------------------------
// JwkSet

TEST(JwkSet, ParsesEachKeyType) {
  const JwkSet& set = key_set();
  EXPECT_EQ(set.size(), 6u);
  EXPECT_EQ(set.skipped(), 0u);
  const Jwk* rsa = set.find("rsa");
  ASSERT_NE(rsa, nullptr);
  EXPECT_EQ(rsa->kty, "RSA");
  EXPECT_EQ(rsa->crv, "");
  EXPECT_NE(rsa->key, nullptr);
  ASSERT_NE(set.find("rsa-rs256-only"), nullptr);
  EXPECT_EQ(set.find("rsa-rs256-only")->alg, "RS256");
  ASSERT_NE(set.find("ec384"), nullptr);
  EXPECT_EQ(set.find("ec384")->crv, "P-384");
  ASSERT_NE(set.find("ed25519"), nullptr);
  EXPECT_EQ(set.find("ed25519")->kty, "OKP");
  EXPECT_EQ(set.find("ed25519")->crv, "Ed25519");
}

TEST(JwkSet, FindsByKid) {
  const JwkSet& set = key_set();
  EXPECT_EQ(set.find("ec256")->kid, "ec256");
  EXPECT_EQ(set.find("nope"), nullptr);
  EXPECT_EQ(set.find(""), nullptr);  // several keys: no kid matches none

  const JwkSet single = JwkSet::parse(jwks_text({public_jwk(keys().ec256.get(), "")}));
  ASSERT_EQ(single.size(), 1u);
  EXPECT_EQ(single.find(""), &single.keys().front());
  EXPECT_EQ(single.find("other"), nullptr);
}

TEST(JwkSet, SkipsKeysThatCannotVerify) {
  json::object enc = public_jwk(keys().rsa.get(), "rsa-enc");
  enc["use"] = "enc";
  json::object encrypt_only = public_jwk(keys().rsa.get(), "rsa-encrypt-only");
  encrypt_only["key_ops"] = json::array{"encrypt"};
  json::object verify_op = public_jwk(keys().rsa.get(), "rsa-verify-op");
  verify_op["key_ops"] = json::array{"verify"};
  json::object p521 = public_jwk(keys().ec256.get(), "p521");
  p521["crv"] = "P-521";
  json::object x25519 = public_jwk(keys().ed25519.get(), "x25519");
  x25519["crv"] = "X25519";
  json::object off_curve = public_jwk(keys().ec256.get(), "off-curve");
  std::string y = *base64url_decode(off_curve["y"].as_string());
  y.back() = static_cast<char>(y.back() ^ 1);
  off_curve["y"] = b64url(y);
  json::object short_x = public_jwk(keys().ec256.get(), "short-x");
  short_x["x"] = b64url(std::string(31, '\x01'));
  json::object no_e = public_jwk(keys().rsa.get(), "no-e");
  no_e.erase("e");
  json::object bad_n = public_jwk(keys().rsa.get(), "bad-n");
  bad_n["n"] = "not base64url!";
  json::object kid_number = public_jwk(keys().rsa.get(), "");
  kid_number["kid"] = 7;

  const std::string text = jwks_text({
      json::object{{"kty", "oct"}, {"kid", "hmac"}, {"k", "c2VjcmV0"}},
      enc,
      encrypt_only,
      verify_op,
      p521,
      x25519,
      off_curve,
      short_x,
      no_e,
      bad_n,
      kid_number,
      json::object{{"kid", "no-kty"}},
      public_jwk(keys().ec256.get(), "ec256"),
  });
  // Non-object entries are skipped too.
  json::object root = parse_json(text).as_object();
  root["keys"].as_array().push_back("not a key");

  const JwkSet set = JwkSet::parse(to_json(root));
  EXPECT_EQ(set.size(), 2u);
  EXPECT_EQ(set.skipped(), 12u);
  EXPECT_NE(set.find("ec256"), nullptr);
  EXPECT_NE(set.find("rsa-verify-op"), nullptr);
  EXPECT_EQ(set.find("hmac"), nullptr);
  EXPECT_EQ(set.find("rsa-enc"), nullptr);
  EXPECT_EQ(set.find("off-curve"), nullptr);
}

TEST(JwkSet, UsesOnlyPublicPartsOfPrivateJwks) {
  json::object jwk = public_jwk(keys().ec256.get(), "with-d");
  jwk["d"] = b64url(bn_param(keys().ec256.get(), OSSL_PKEY_PARAM_PRIV_KEY, 32));
  const JwkSet set = JwkSet::parse(jwks_text({jwk}));
  ASSERT_EQ(set.size(), 1u);
  const std::string token = make_token(keys().ec256.get(), "ES256", "with-d");
  EXPECT_EQ(verify_signature(decoded(token), set.keys().front()), std::nullopt);
}

TEST(JwkSet, ThrowsOnGarbage) {
  for (std::string_view text :
       {"not json", "", "[]", "{}", R"({"keys": {}})", R"({"keys": "x"})"}) {
    try {
      JwkSet::parse(text);
      ADD_FAILURE() << "accepted " << text;
    } catch (const std::runtime_error& e) {
      EXPECT_NE(std::string(e.what()).find("JWKS"), std::string::npos) << e.what();
    }
  }
  EXPECT_EQ(JwkSet::parse(R"({"keys": []})").size(), 0u);
}

// ---------------------------------------------------------------------------
// decode_jwt

TEST(JwtDecode, SplitsAndDecodes) {
  const std::string token = make_token(keys().ec256.get(), "ES256", "ec256");
  const Jwt jwt = decoded(token);
  EXPECT_EQ(jwt.alg, "ES256");
  EXPECT_EQ(jwt.kid, "ec256");
  EXPECT_EQ(jwt.header.at("typ").as_string(), "JWT");
  EXPECT_EQ(jwt.payload.at("sub").as_string(), "user-1");
  EXPECT_EQ(jwt.signing_input, token.substr(0, token.rfind('.')));
  EXPECT_EQ(jwt.signature.size(), 64u);
}

TEST(JwtDecode, RejectsAlgNoneInAnyCase) {
  for (std::string_view alg : {"none", "None", "NONE", "nOnE"}) {
    const std::string token =
        b64url(json::object{{"alg", alg}}) + "." + b64url(default_claims()) + ".";
    expect_error(decode_jwt(token), JwtErrorKind::kAlgNone, token);
    expect_error(verify(token), JwtErrorKind::kAlgNone, token);
  }
}

TEST(JwtDecode, RejectsUnknownCrit) {
  json::object header = header_for("ES256", "ec256");
  header["crit"] = json::array{"exp"};
  header["exp"] = kNow + 600;
  const std::string input = b64url(header) + "." + b64url(default_claims());
  const std::string token = input + "." + b64url(sign(keys().ec256.get(), "ES256", input));
  expect_error(decode_jwt(token), JwtErrorKind::kUnknownCrit, token);
  expect_error(verify(token), JwtErrorKind::kUnknownCrit, token);

  header["crit"] = "b64";
  const std::string bad_crit = b64url(header) + "." + b64url(default_claims()) + ".AAAA";
  expect_error(decode_jwt(bad_crit), JwtErrorKind::kMalformed, bad_crit);
}

TEST(JwtDecode, RejectsOversizeBeforeParsing) {
  const std::string token = make_token(keys().ec256.get(), "ES256", "ec256");
  expect_error(decode_jwt(token, token.size() - 1), JwtErrorKind::kTooLarge, token);
  EXPECT_TRUE(std::holds_alternative<Jwt>(decode_jwt(token, token.size())));
  const std::string garbage(9000, '!');
  expect_error(decode_jwt(garbage), JwtErrorKind::kTooLarge, garbage);

  json::object payload = default_claims();
  payload["padding"] = std::string(8192, 'x');
  const std::string big = make_token(keys().ec256.get(), "ES256", "ec256", payload);
  expect_error(verify(big), JwtErrorKind::kTooLarge, big);
}

TEST(JwtDecode, RejectsMalformedTokens) {
  const std::string token = make_token(keys().ec256.get(), "ES256", "ec256");
  const std::string header = token.substr(0, token.find('.'));
  const std::string payload = b64url(default_claims());
  const std::string signature = token.substr(token.rfind('.') + 1);
  const std::vector<std::string> cases = {
      "",
      "abc",
      header + "." + payload,                                          // two parts
      header + "." + payload + "." + signature + "." + signature,      // four parts
      "." + payload + "." + signature,                                 // empty header
      header + ".." + signature,                                       // empty payload
      header + "." + payload + "." + signature + "=",                  // padded signature
      header + "." + payload + "*." + signature,                       // bad base64 payload
      "eyJhbGciOi$." + payload + "." + signature,                      // bad base64 header
      b64url("{\"alg\":\"ES256\"") + "." + payload + "." + signature,  // header not JSON
      b64url("[\"ES256\"]") + "." + payload + "." + signature,         // header not object
      b64url("{}") + "." + payload + "." + signature,                  // no alg
      b64url("{\"alg\":256}") + "." + payload + "." + signature,       // alg not a string
      b64url("{\"alg\":\"ES256\",\"kid\":1}") + "." + payload + "." + signature,
      header + "." + b64url("not json") + "." + signature,
      header + "." + b64url("[1,2]") + "." + signature,
      header + "." + payload + ".!!!!",
  };
  for (const std::string& bad : cases) {
    SCOPED_TRACE(bad);
    expect_error(decode_jwt(bad), JwtErrorKind::kMalformed, bad);
    expect_error(verify(bad), JwtErrorKind::kMalformed, bad);
  }
}

// ---------------------------------------------------------------------------
// Signatures

EVP_PKEY* key_for(std::string_view kid) {
  const TestKeys& k = keys();
  static const std::map<std::string_view, EVP_PKEY*> by_kid = {{"rsa", k.rsa.get()},
                                                               {"ec256", k.ec256.get()},
                                                               {"ec384", k.ec384.get()},
                                                               {"ed25519", k.ed25519.get()}};
  return by_kid.at(kid);
}

const std::vector<std::pair<std::string, std::string>> kAlgorithms = {
    {"RS256", "rsa"},   {"RS384", "rsa"},   {"RS512", "rsa"},
    {"PS256", "rsa"},   {"PS384", "rsa"},   {"PS512", "rsa"},
    {"ES256", "ec256"}, {"ES384", "ec384"}, {"EdDSA", "ed25519"},
};

TEST(JwtVerify, EachAlgorithmVerifies) {
  for (const auto& [alg, kid] : kAlgorithms) {
    SCOPED_TRACE(alg);
    const std::string token = make_token(key_for(kid), alg, kid);
    const Jwt jwt = decoded(token);
    EXPECT_EQ(verify_signature(jwt, *key_set().find(kid)), std::nullopt);
    auto result = verify(token);
    expect_verified(result);
    if (auto* verified = std::get_if<Jwt>(&result)) {
      EXPECT_EQ(verified->payload.at("sub").as_string(), "user-1");
    }
  }
}

TEST(JwtVerify, TokenWithoutKidUsesTheOnlyKey) {
  const JwkSet single = JwkSet::parse(jwks_text({public_jwk(keys().ed25519.get(), "")}));
  const std::string token = make_token(keys().ed25519.get(), "EdDSA", "");
  expect_verified(verify_jwt(token, single, default_rules(), kNow));
  expect_error(verify(token), JwtErrorKind::kUnknownKid, token);
}

TEST(JwtVerify, UnknownKid) {
  const std::string token = make_token(keys().ec256.get(), "ES256", "missing");
  expect_error(verify(token), JwtErrorKind::kUnknownKid, token);
}

TEST(JwtVerify, TamperedPayloadFails) {
  json::object forged = default_claims();
  forged["sub"] = "admin";
  for (const auto& [alg, kid] : kAlgorithms) {
    SCOPED_TRACE(alg);
    const std::string token = make_token(key_for(kid), alg, kid);
    const std::size_t first = token.find('.');
    const std::size_t second = token.rfind('.');
    const std::string tampered = token.substr(0, first + 1) + b64url(forged) + token.substr(second);
    expect_error(verify(tampered), JwtErrorKind::kBadSignature, tampered);
  }
}

TEST(JwtVerify, TamperedSignatureFails) {
  for (const auto& [alg, kid] : kAlgorithms) {
    SCOPED_TRACE(alg);
    Jwt jwt = decoded(make_token(key_for(kid), alg, kid));
    jwt.signature[jwt.signature.size() / 2] ^= 0x01;
    expect_error(verify_signature(jwt, *key_set().find(kid)), JwtErrorKind::kBadSignature);
    jwt.signature.pop_back();
    expect_error(verify_signature(jwt, *key_set().find(kid)), JwtErrorKind::kBadSignature);
    jwt.signature.clear();
    expect_error(verify_signature(jwt, *key_set().find(kid)), JwtErrorKind::kBadSignature);
  }
}

TEST(JwtVerify, SignatureFromAnotherKeyFails) {
  const std::string ec = make_token(keys().ec256_other.get(), "ES256", "ec256");
  expect_error(verify(ec), JwtErrorKind::kBadSignature, ec);
  const std::string rsa = make_token(keys().rsa_other.get(), "RS256", "rsa");
  expect_error(verify(rsa), JwtErrorKind::kBadSignature, rsa);
  const std::string pss = make_token(keys().rsa_other.get(), "PS256", "rsa");
  expect_error(verify(pss), JwtErrorKind::kBadSignature, pss);
}

TEST(JwtVerify, RejectsHmacKeyConfusion) {
  // The classic attack: HS256 "signed" with the server's public key as the secret.
  BIO* bio = BIO_new(BIO_s_mem());
  ASSERT_EQ(PEM_write_bio_PUBKEY(bio, keys().rsa.get()), 1);
  char* pem_data = nullptr;
  const long pem_length = BIO_get_mem_data(bio, &pem_data);
  const std::string pem(pem_data, static_cast<std::size_t>(pem_length));
  BIO_free(bio);

  for (std::string_view alg : {"HS256", "HS384", "HS512"}) {
    const std::string input = b64url(header_for(alg, "rsa")) + "." + b64url(default_claims());
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int mac_length = 0;
    const EVP_MD* digest = alg == "HS256"   ? EVP_sha256()
                           : alg == "HS384" ? EVP_sha384()
                                            : EVP_sha512();
    ASSERT_NE(
        HMAC(digest, pem.data(), static_cast<int>(pem.size()),
             reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac, &mac_length),
        nullptr);
    const std::string token =
        input + "." + b64url(std::string_view(reinterpret_cast<char*>(mac), mac_length));
    auto result = verify(token);
    expect_error(result, JwtErrorKind::kAlgKeyMismatch, token);
    EXPECT_EQ(std::get<JwtError>(result).message,
              "HMAC algorithms are not accepted with public keys");
  }
}

TEST(JwtVerify, RejectsAlgorithmForTheWrongKeyType) {
  const std::string rs_on_ec = make_token(keys().rsa.get(), "RS256", "ec256");
  expect_error(verify(rs_on_ec), JwtErrorKind::kAlgKeyMismatch, rs_on_ec);
  const std::string es256_on_p384 = make_token(keys().ec256.get(), "ES256", "ec384");
  expect_error(verify(es256_on_p384), JwtErrorKind::kAlgKeyMismatch, es256_on_p384);
  const std::string es384_on_p256 = make_token(keys().ec384.get(), "ES384", "ec256");
  expect_error(verify(es384_on_p256), JwtErrorKind::kAlgKeyMismatch, es384_on_p256);
  const std::string eddsa_on_rsa = make_token(keys().ed25519.get(), "EdDSA", "rsa");
  expect_error(verify(eddsa_on_rsa), JwtErrorKind::kAlgKeyMismatch, eddsa_on_rsa);
  const std::string es_on_okp = make_token(keys().ec256.get(), "ES256", "ed25519");
  expect_error(verify(es_on_okp), JwtErrorKind::kAlgKeyMismatch, es_on_okp);
}

TEST(JwtVerify, RejectsAlgOtherThanTheJwkAlg) {
  const std::string rs256 = make_token(keys().rsa.get(), "RS256", "rsa-rs256-only");
  expect_verified(verify(rs256));
  const std::string ps256 = make_token(keys().rsa.get(), "PS256", "rsa-rs256-only");
  expect_error(verify(ps256), JwtErrorKind::kAlgKeyMismatch, ps256);
}

TEST(JwtVerify, RejectsSmallRsaKeys) {
  const std::string token = make_token(keys().rsa_small.get(), "RS256", "rsa-small");
  expect_error(verify(token), JwtErrorKind::kAlgKeyMismatch, token);
}

TEST(JwtVerify, RejectsUnsupportedAlgorithms) {
  for (std::string_view alg : {"ES512", "RS1", "rs256", "ES256K", ""}) {
    const std::string token =
        b64url(header_for(alg, "ec256")) + "." + b64url(default_claims()) + ".AAAA";
    expect_error(verify(token), JwtErrorKind::kUnsupportedAlg, token);
  }
}

TEST(JwtVerify, ChecksClaimsAfterTheSignature) {
  json::object expired = default_claims();
  expired["exp"] = kNow - 3600;
  const std::string token = make_token(keys().ec256.get(), "ES256", "ec256", expired);
  expect_error(verify(token), JwtErrorKind::kExpired, token);
}

// ---------------------------------------------------------------------------
// Claims

std::optional<JwtError> claims_with(
    std::initializer_list<std::pair<std::string_view, json::value>> changes,
    const ClaimRules& rules = default_rules()) {
  json::object payload = default_claims();
  for (const auto& [name, value] : changes) {
    if (value.is_null()) {
      payload.erase(name);
    } else {
      payload[name] = value;
    }
  }
  return validate_claims(payload, rules, kNow);
}

TEST(JwtClaims, AcceptsAValidToken) {
  EXPECT_EQ(claims_with({}), std::nullopt);
}

TEST(JwtClaims, ExpiryHonoursLeeway) {
  expect_error(claims_with({{"exp", kNow - 31}}), JwtErrorKind::kExpired);
  expect_error(claims_with({{"exp", kNow - 30}}), JwtErrorKind::kExpired);
  EXPECT_EQ(claims_with({{"exp", kNow - 29}}), std::nullopt);
  EXPECT_EQ(claims_with({{"exp", kNow - 10}}), std::nullopt);
  ClaimRules strict = default_rules();
  strict.leeway = std::chrono::seconds(0);
  expect_error(claims_with({{"exp", kNow}}, strict), JwtErrorKind::kExpired);
  EXPECT_EQ(claims_with({{"exp", kNow + 1}}, strict), std::nullopt);
}

TEST(JwtClaims, AcceptsNumericDateForms) {
  EXPECT_EQ(claims_with({{"exp", static_cast<double>(kNow) + 600.5}}), std::nullopt);
  EXPECT_EQ(claims_with({{"exp", 1e300}}), std::nullopt);
  EXPECT_EQ(claims_with({{"exp", std::numeric_limits<std::uint64_t>::max()}}), std::nullopt);
  expect_error(claims_with({{"exp", static_cast<double>(kNow) - 100.5}}), JwtErrorKind::kExpired);
  expect_error(claims_with({{"exp", -1e300}}), JwtErrorKind::kExpired);
}

TEST(JwtClaims, RejectsNonNumericDates) {
  expect_error(claims_with({{"exp", "1700000600"}}), JwtErrorKind::kMalformed);
  expect_error(claims_with({{"nbf", true}}), JwtErrorKind::kMalformed);
  expect_error(claims_with({{"iat", json::array{1}}}), JwtErrorKind::kMalformed);
}

TEST(JwtClaims, NotBefore) {
  expect_error(claims_with({{"nbf", kNow + 31}}), JwtErrorKind::kNotYetValid);
  EXPECT_EQ(claims_with({{"nbf", kNow + 30}}), std::nullopt);
  EXPECT_EQ(claims_with({{"nbf", kNow - 100}}), std::nullopt);
}

TEST(JwtClaims, IssuedInTheFuture) {
  expect_error(claims_with({{"iat", kNow + 31}}), JwtErrorKind::kIssuedInFuture);
  EXPECT_EQ(claims_with({{"iat", kNow + 30}}), std::nullopt);
}

TEST(JwtClaims, MissingExp) {
  expect_error(claims_with({{"exp", nullptr}}), JwtErrorKind::kMissingExp);
  ClaimRules optional_exp = default_rules();
  optional_exp.require_exp = false;
  EXPECT_EQ(claims_with({{"exp", nullptr}}, optional_exp), std::nullopt);
}

TEST(JwtClaims, Issuer) {
  expect_error(claims_with({{"iss", "https://evil.example"}}), JwtErrorKind::kWrongIssuer);
  expect_error(claims_with({{"iss", nullptr}}), JwtErrorKind::kWrongIssuer);
  expect_error(claims_with({{"iss", 5}}), JwtErrorKind::kWrongIssuer);
  ClaimRules any_issuer = default_rules();
  any_issuer.issuer.reset();
  EXPECT_EQ(claims_with({{"iss", "https://evil.example"}}, any_issuer), std::nullopt);
}

TEST(JwtClaims, Audience) {
  EXPECT_EQ(claims_with({{"aud", "llama-stack"}}), std::nullopt);
  EXPECT_EQ(claims_with({{"aud", json::array{"other", "llama-stack"}}}), std::nullopt);
  expect_error(claims_with({{"aud", "other"}}), JwtErrorKind::kWrongAudience);
  expect_error(claims_with({{"aud", json::array{"other", 1}}}), JwtErrorKind::kWrongAudience);
  expect_error(claims_with({{"aud", json::array{}}}), JwtErrorKind::kWrongAudience);
  expect_error(claims_with({{"aud", 7}}), JwtErrorKind::kWrongAudience);
  expect_error(claims_with({{"aud", nullptr}}), JwtErrorKind::kMissingAudience);
  ClaimRules any_audience = default_rules();
  any_audience.audience.reset();
  EXPECT_EQ(claims_with({{"aud", nullptr}}, any_audience), std::nullopt);
  EXPECT_EQ(claims_with({{"aud", "other"}}, any_audience), std::nullopt);
}

TEST(JwtErrorKindNames, AreStableSnakeCase) {
  EXPECT_EQ(to_string(JwtErrorKind::kExpired), "expired");
  EXPECT_EQ(to_string(JwtErrorKind::kBadSignature), "bad_signature");
  EXPECT_EQ(to_string(JwtErrorKind::kAlgKeyMismatch), "alg_key_mismatch");
  EXPECT_EQ(to_string(JwtErrorKind::kMissingAudience), "missing_audience");
}

}  // namespace
}  // namespace llama_stack::auth
