// Keys, JWKs and signed compact JWS tokens made with OpenSSL in the tests
// themselves (tests/core/auth/jwt_test.cc, jwks_authenticator_test.cc, the
// auth filter tests). Throws std::runtime_error when OpenSSL fails.
#pragma once

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/util/json.h"

namespace llama_stack::testing {

struct PkeyFree {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;

inline void check(bool ok, const char* what) {
  if (!ok) throw std::runtime_error(std::string("OpenSSL test helper failed: ") + what);
}

inline std::string b64url(std::string_view data) {
  std::string out(4 * ((data.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(data.data()),
                                static_cast<int>(data.size()));
  out.resize(static_cast<std::size_t>(n));
  while (!out.empty() && out.back() == '=') out.pop_back();
  for (char& c : out) {
    if (c == '+') c = '-';
    if (c == '/') c = '_';
  }
  return out;
}

inline std::string b64url(const json::object& object) {
  return b64url(to_json(object));
}

inline PkeyPtr generate_rsa(std::size_t bits) {
  PkeyPtr key(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", bits));
  check(key != nullptr, "RSA keygen");
  return key;
}

inline PkeyPtr generate_ec(const char* group) {
  PkeyPtr key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", group));
  check(key != nullptr, "EC keygen");
  return key;
}

inline PkeyPtr generate_ed25519() {
  PkeyPtr key(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
  check(key != nullptr, "Ed25519 keygen");
  return key;
}

inline std::string bn_param(EVP_PKEY* key, const char* name, int pad_to = 0) {
  BIGNUM* bn = nullptr;
  check(EVP_PKEY_get_bn_param(key, name, &bn) == 1, name);
  const int size = pad_to > 0 ? pad_to : BN_num_bytes(bn);
  std::string out(static_cast<std::size_t>(size), '\0');
  const int written = BN_bn2binpad(bn, reinterpret_cast<unsigned char*>(out.data()), size);
  BN_free(bn);
  check(written == size, "BN_bn2binpad");
  return out;
}

// The public JWK of `key` as a JSON object.
inline json::object public_jwk(EVP_PKEY* key, std::string_view kid) {
  json::object jwk;
  if (!kid.empty()) jwk["kid"] = kid;
  if (EVP_PKEY_is_a(key, "RSA")) {
    jwk["kty"] = "RSA";
    jwk["n"] = b64url(bn_param(key, OSSL_PKEY_PARAM_RSA_N));
    jwk["e"] = b64url(bn_param(key, OSSL_PKEY_PARAM_RSA_E));
  } else if (EVP_PKEY_is_a(key, "EC")) {
    const int bits = EVP_PKEY_get_bits(key);
    const int coordinate = (bits + 7) / 8;
    jwk["kty"] = "EC";
    jwk["crv"] = bits == 256 ? "P-256" : "P-384";
    jwk["x"] = b64url(bn_param(key, OSSL_PKEY_PARAM_EC_PUB_X, coordinate));
    jwk["y"] = b64url(bn_param(key, OSSL_PKEY_PARAM_EC_PUB_Y, coordinate));
  } else {
    unsigned char raw[32];
    std::size_t length = sizeof raw;
    check(EVP_PKEY_get_raw_public_key(key, raw, &length) == 1, "raw public key");
    jwk["kty"] = "OKP";
    jwk["crv"] = "Ed25519";
    jwk["x"] = b64url(std::string_view(reinterpret_cast<char*>(raw), length));
  }
  return jwk;
}

inline std::string jwks_text(std::vector<json::object> jwks) {
  json::array array;
  for (auto& jwk : jwks) array.push_back(std::move(jwk));
  return to_json(json::object{{"keys", std::move(array)}});
}

// Signs `signing_input` as JWS `alg` with `key` (ECDSA converted to r||s).
inline std::string sign(EVP_PKEY* key, std::string_view alg, std::string_view signing_input) {
  const EVP_MD* digest = nullptr;
  if (alg.ends_with("256")) digest = EVP_sha256();
  if (alg.ends_with("384")) digest = EVP_sha384();
  if (alg.ends_with("512")) digest = EVP_sha512();
  if (alg == "EdDSA") digest = nullptr;

  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  EVP_PKEY_CTX* pkey_ctx = nullptr;
  check(EVP_DigestSignInit(ctx.get(), &pkey_ctx, digest, nullptr, key) == 1, "DigestSignInit");
  if (alg.starts_with("PS")) {
    check(EVP_PKEY_CTX_set_rsa_padding(pkey_ctx, RSA_PKCS1_PSS_PADDING) == 1, "PSS padding");
    check(EVP_PKEY_CTX_set_rsa_pss_saltlen(pkey_ctx, RSA_PSS_SALTLEN_DIGEST) == 1, "PSS salt");
    check(EVP_PKEY_CTX_set_rsa_mgf1_md(pkey_ctx, digest) == 1, "PSS mgf1");
  }
  const auto* tbs = reinterpret_cast<const unsigned char*>(signing_input.data());
  std::size_t length = 0;
  check(EVP_DigestSign(ctx.get(), nullptr, &length, tbs, signing_input.size()) == 1, "size");
  std::string signature(length, '\0');
  check(EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(signature.data()), &length, tbs,
                       signing_input.size()) == 1,
        "DigestSign");
  signature.resize(length);
  if (!alg.starts_with("ES")) return signature;

  const auto* der = reinterpret_cast<const unsigned char*>(signature.data());
  ECDSA_SIG* sig = d2i_ECDSA_SIG(nullptr, &der, static_cast<long>(signature.size()));
  check(sig != nullptr, "d2i_ECDSA_SIG");
  const int coordinate = alg == "ES256" ? 32 : 48;
  std::string raw(static_cast<std::size_t>(2 * coordinate), '\0');
  auto* out = reinterpret_cast<unsigned char*>(raw.data());
  const bool ok = BN_bn2binpad(ECDSA_SIG_get0_r(sig), out, coordinate) == coordinate &&
                  BN_bn2binpad(ECDSA_SIG_get0_s(sig), out + coordinate, coordinate) == coordinate;
  ECDSA_SIG_free(sig);
  check(ok, "r||s");
  return raw;
}

inline json::object header_for(std::string_view alg, std::string_view kid) {
  json::object header{{"alg", alg}, {"typ", "JWT"}};
  if (!kid.empty()) header["kid"] = kid;
  return header;
}

// A compact JWS of `payload` signed by `key` as `alg`, with `kid` in the
// header when it is not empty.
inline std::string signed_token(EVP_PKEY* key, std::string_view alg, std::string_view kid,
                                const json::object& payload) {
  const std::string input = b64url(header_for(alg, kid)) + "." + b64url(payload);
  return input + "." + b64url(sign(key, alg, input));
}

}  // namespace llama_stack::testing
