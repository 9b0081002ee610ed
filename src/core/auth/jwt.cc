#include "core/auth/jwt.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/param_build.h>
#include <openssl/rsa.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <limits>
#include <stdexcept>

namespace llama_stack::auth {
namespace {

template <typename T, void (*Free)(T*)>
struct OpensslDeleter {
  void operator()(T* p) const { Free(p); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, OpensslDeleter<EVP_PKEY, EVP_PKEY_free>>;
using PkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, OpensslDeleter<EVP_PKEY_CTX, EVP_PKEY_CTX_free>>;
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, OpensslDeleter<EVP_MD_CTX, EVP_MD_CTX_free>>;
using BignumPtr = std::unique_ptr<BIGNUM, OpensslDeleter<BIGNUM, BN_free>>;
using ParamBldPtr =
    std::unique_ptr<OSSL_PARAM_BLD, OpensslDeleter<OSSL_PARAM_BLD, OSSL_PARAM_BLD_free>>;
using ParamPtr = std::unique_ptr<OSSL_PARAM, OpensslDeleter<OSSL_PARAM, OSSL_PARAM_free>>;
using EcdsaSigPtr = std::unique_ptr<ECDSA_SIG, OpensslDeleter<ECDSA_SIG, ECDSA_SIG_free>>;

// OpenSSL reports failures on a thread-local error queue. A rejected key or
// signature is an expected outcome here, so its errors must not linger for
// the next TLS call on this thread to misread; earlier entries are kept.
class ErrorQueueScope {
 public:
  ErrorQueueScope() { ERR_set_mark(); }
  ~ErrorQueueScope() { ERR_pop_to_mark(); }
  ErrorQueueScope(const ErrorQueueScope&) = delete;
  ErrorQueueScope& operator=(const ErrorQueueScope&) = delete;
};

const unsigned char* bytes(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

int base64url_value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '-') return 62;
  if (c == '_') return 63;
  return -1;
}

// ---------------------------------------------------------------------------
// JWK parsing

// The string member `name`, or nullopt when absent or not a string.
std::optional<std::string_view> string_member(const json::object& object, std::string_view name) {
  const json::value* value = object.if_contains(name);
  if (value == nullptr || !value->is_string()) return std::nullopt;
  return std::string_view(value->get_string());
}

// A base64url member decoded, or nullopt when absent or invalid.
std::optional<std::string> binary_member(const json::object& object, std::string_view name) {
  auto text = string_member(object, name);
  if (!text) return std::nullopt;
  return base64url_decode(*text);
}

PkeyPtr pkey_from_params(const char* type, OSSL_PARAM_BLD* builder) {
  ParamPtr params(OSSL_PARAM_BLD_to_param(builder));
  if (!params) return nullptr;
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  if (!ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1) return nullptr;
  EVP_PKEY* raw = nullptr;
  if (EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_PUBLIC_KEY, params.get()) != 1) return nullptr;
  return PkeyPtr(raw);
}

PkeyPtr rsa_public_key(const json::object& object) {
  auto n = binary_member(object, "n");
  auto e = binary_member(object, "e");
  if (!n || !e || n->empty() || e->empty()) return nullptr;
  BignumPtr n_bn(BN_bin2bn(bytes(*n), static_cast<int>(n->size()), nullptr));
  BignumPtr e_bn(BN_bin2bn(bytes(*e), static_cast<int>(e->size()), nullptr));
  ParamBldPtr builder(OSSL_PARAM_BLD_new());
  if (!n_bn || !e_bn || !builder ||
      OSSL_PARAM_BLD_push_BN(builder.get(), OSSL_PKEY_PARAM_RSA_N, n_bn.get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(builder.get(), OSSL_PKEY_PARAM_RSA_E, e_bn.get()) != 1) {
    return nullptr;
  }
  return pkey_from_params("RSA", builder.get());
}

struct Curve {
  std::string_view jwk_name;  // "crv" in a JWK
  const char* openssl_group;  // OSSL_PKEY_PARAM_GROUP_NAME
  int nid;
  std::size_t coordinate_size;  // bytes of x, y, r and s
};
constexpr std::array<Curve, 2> kCurves = {{
    {"P-256", "prime256v1", NID_X9_62_prime256v1, 32},
    {"P-384", "secp384r1", NID_secp384r1, 48},
}};

const Curve* find_curve(std::string_view jwk_name) {
  for (const Curve& curve : kCurves) {
    if (curve.jwk_name == jwk_name) return &curve;
  }
  return nullptr;
}

PkeyPtr ec_public_key(const json::object& object, const Curve& curve) {
  auto x = binary_member(object, "x");
  auto y = binary_member(object, "y");
  // RFC 7518 §6.2.1.2: coordinates are always full length.
  if (!x || !y || x->size() != curve.coordinate_size || y->size() != curve.coordinate_size) {
    return nullptr;
  }
  std::string point = "\x04" + *x + *y;  // SEC 1 uncompressed point
  ParamBldPtr builder(OSSL_PARAM_BLD_new());
  if (!builder ||
      OSSL_PARAM_BLD_push_utf8_string(builder.get(), OSSL_PKEY_PARAM_GROUP_NAME,
                                      curve.openssl_group, 0) != 1 ||
      OSSL_PARAM_BLD_push_octet_string(builder.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                       point.size()) != 1) {
    return nullptr;
  }
  PkeyPtr key = pkey_from_params("EC", builder.get());
  if (!key) return nullptr;
  // Refuse points off the curve (invalid-curve attacks) explicitly rather
  // than relying on the import path to have checked.
  PkeyCtxPtr check(EVP_PKEY_CTX_new_from_pkey(nullptr, key.get(), nullptr));
  if (!check || EVP_PKEY_public_check(check.get()) != 1) return nullptr;
  return key;
}

PkeyPtr ed25519_public_key(const json::object& object) {
  auto x = binary_member(object, "x");
  if (!x || x->size() != 32) return nullptr;
  return PkeyPtr(EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, bytes(*x), x->size()));
}

bool usable_for_signatures(const json::object& object) {
  if (const json::value* use = object.if_contains("use")) {
    if (!use->is_string() || use->get_string() != "sig") return false;
  }
  if (const json::value* ops = object.if_contains("key_ops")) {
    if (!ops->is_array()) return false;
    bool verify = false;
    for (const json::value& op : ops->get_array()) {
      if (op.is_string() && op.get_string() == "verify") verify = true;
    }
    if (!verify) return false;
  }
  return true;
}

std::optional<Jwk> parse_jwk(const json::value& value) {
  if (!value.is_object()) return std::nullopt;
  const json::object& object = value.get_object();
  auto kty = string_member(object, "kty");
  if (!kty || !usable_for_signatures(object)) return std::nullopt;
  // Optional members of the wrong type make the key suspect: skip it.
  for (std::string_view name : {"kid", "alg", "crv"}) {
    const json::value* member = object.if_contains(name);
    if (member != nullptr && !member->is_string()) return std::nullopt;
  }

  Jwk jwk;
  jwk.kty = std::string(*kty);
  jwk.kid = std::string(string_member(object, "kid").value_or(""));
  jwk.alg = std::string(string_member(object, "alg").value_or(""));
  jwk.crv = std::string(string_member(object, "crv").value_or(""));

  PkeyPtr key;
  if (jwk.kty == "RSA") {
    jwk.crv.clear();
    key = rsa_public_key(object);
  } else if (jwk.kty == "EC") {
    if (const Curve* curve = find_curve(jwk.crv)) key = ec_public_key(object, *curve);
  } else if (jwk.kty == "OKP") {
    if (jwk.crv == "Ed25519") key = ed25519_public_key(object);
  }
  if (!key) return std::nullopt;
  jwk.key = std::shared_ptr<EVP_PKEY>(key.release(), EVP_PKEY_free);
  return jwk;
}

// ---------------------------------------------------------------------------
// Signature verification

enum class Family { kRsaPkcs1, kRsaPss, kEcdsa, kEdDsa, kHmac };

struct Algorithm {
  std::string_view name;
  Family family;
  const EVP_MD* (*digest)();  // nullptr for EdDSA and HMAC
  const Curve* curve;         // ECDSA only
};

const Algorithm* find_algorithm(std::string_view name) {
  static const std::array<Algorithm, 12> kAlgorithms = {{
      {"RS256", Family::kRsaPkcs1, EVP_sha256, nullptr},
      {"RS384", Family::kRsaPkcs1, EVP_sha384, nullptr},
      {"RS512", Family::kRsaPkcs1, EVP_sha512, nullptr},
      {"PS256", Family::kRsaPss, EVP_sha256, nullptr},
      {"PS384", Family::kRsaPss, EVP_sha384, nullptr},
      {"PS512", Family::kRsaPss, EVP_sha512, nullptr},
      {"ES256", Family::kEcdsa, EVP_sha256, &kCurves[0]},
      {"ES384", Family::kEcdsa, EVP_sha384, &kCurves[1]},
      {"EdDSA", Family::kEdDsa, nullptr, nullptr},
      {"HS256", Family::kHmac, nullptr, nullptr},
      {"HS384", Family::kHmac, nullptr, nullptr},
      {"HS512", Family::kHmac, nullptr, nullptr},
  }};
  for (const Algorithm& algorithm : kAlgorithms) {
    if (algorithm.name == name) return &algorithm;
  }
  return nullptr;
}

constexpr int kMinRsaBits = 2048;

JwtError error(JwtErrorKind kind, std::string message) {
  return JwtError{kind, std::move(message)};
}

std::string describe_key(const Jwk& key) {
  std::string out = "the key";
  if (!key.kid.empty()) out += " \"" + key.kid + "\"";
  out += " (" + (key.kty.empty() ? std::string("no kty") : key.kty);
  if (!key.crv.empty()) out += " " + key.crv;
  out += ")";
  return out;
}

// The NID of an EC key's group, or NID_undef.
int ec_group_nid(EVP_PKEY* key) {
  char name[80];
  std::size_t length = 0;
  if (EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, name, sizeof name, &length) !=
      1) {
    return NID_undef;
  }
  int nid = OBJ_txt2nid(name);
  if (nid == NID_undef) nid = EC_curve_nist2nid(name);
  return nid;
}

// Checks that `algorithm` may be used with `key`; the error otherwise.
std::optional<JwtError> check_key_fits(const Algorithm& algorithm, const Jwk& key) {
  const std::string alg(algorithm.name);
  auto mismatch = [&](std::string_view needs) {
    return error(JwtErrorKind::kAlgKeyMismatch,
                 alg + " requires " + std::string(needs) + ", " + describe_key(key) + " is not");
  };
  switch (algorithm.family) {
    case Family::kRsaPkcs1:
    case Family::kRsaPss:
      if (key.kty != "RSA" || EVP_PKEY_is_a(key.key.get(), "RSA") != 1) {
        return mismatch("an RSA key");
      }
      if (EVP_PKEY_get_bits(key.key.get()) < kMinRsaBits) {
        return error(JwtErrorKind::kAlgKeyMismatch,
                     describe_key(key) + " has " +
                         std::to_string(EVP_PKEY_get_bits(key.key.get())) +
                         " bits; RSA keys need at least " + std::to_string(kMinRsaBits));
      }
      return std::nullopt;
    case Family::kEcdsa: {
      const std::string needs = "an EC " + std::string(algorithm.curve->jwk_name) + " key";
      if (key.kty != "EC" || key.crv != algorithm.curve->jwk_name ||
          EVP_PKEY_is_a(key.key.get(), "EC") != 1 ||
          ec_group_nid(key.key.get()) != algorithm.curve->nid) {
        return mismatch(needs);
      }
      return std::nullopt;
    }
    case Family::kEdDsa:
      if (key.kty != "OKP" || key.crv != "Ed25519" ||
          EVP_PKEY_is_a(key.key.get(), "ED25519") != 1) {
        return mismatch("an OKP Ed25519 key");
      }
      return std::nullopt;
    case Family::kHmac:
      break;
  }
  return error(JwtErrorKind::kAlgKeyMismatch, "HMAC algorithms are not accepted with public keys");
}

// JWS carries ECDSA signatures as r||s (RFC 7518 §3.4); OpenSSL verifies DER.
std::optional<std::string> ecdsa_raw_to_der(std::string_view raw, std::size_t coordinate_size) {
  if (raw.size() != 2 * coordinate_size) return std::nullopt;
  BignumPtr r(BN_bin2bn(bytes(raw), static_cast<int>(coordinate_size), nullptr));
  BignumPtr s(
      BN_bin2bn(bytes(raw.substr(coordinate_size)), static_cast<int>(coordinate_size), nullptr));
  EcdsaSigPtr sig(ECDSA_SIG_new());
  if (!r || !s || !sig || ECDSA_SIG_set0(sig.get(), r.get(), s.get()) != 1) return std::nullopt;
  r.release();  // owned by sig now
  s.release();
  const int length = i2d_ECDSA_SIG(sig.get(), nullptr);
  if (length <= 0) return std::nullopt;
  std::string der(static_cast<std::size_t>(length), '\0');
  auto* out = reinterpret_cast<unsigned char*>(der.data());
  if (i2d_ECDSA_SIG(sig.get(), &out) != length) return std::nullopt;
  return der;
}

// ---------------------------------------------------------------------------
// Claims

std::int64_t saturating_add(std::int64_t a, std::int64_t b) {
  std::int64_t sum = 0;
  if (__builtin_add_overflow(a, b, &sum)) {
    return b > 0 ? std::numeric_limits<std::int64_t>::max()
                 : std::numeric_limits<std::int64_t>::min();
  }
  return sum;
}

enum class DateStatus { kAbsent, kPresent, kInvalid };

// Reads the NumericDate claim `name` into `out`. Fractions round toward the
// stricter side: down for exp, up for nbf and iat (`round_up`).
DateStatus read_date(const json::object& payload, std::string_view name, bool round_up,
                     std::int64_t& out) {
  const json::value* value = payload.if_contains(name);
  if (value == nullptr) return DateStatus::kAbsent;
  constexpr auto kMax = std::numeric_limits<std::int64_t>::max();
  switch (value->kind()) {
    case json::kind::int64:
      out = value->get_int64();
      return DateStatus::kPresent;
    case json::kind::uint64:
      out = value->get_uint64() > static_cast<std::uint64_t>(kMax)
                ? kMax
                : static_cast<std::int64_t>(value->get_uint64());
      return DateStatus::kPresent;
    case json::kind::double_: {
      double d = value->get_double();
      if (!std::isfinite(d)) return DateStatus::kInvalid;
      d = round_up ? std::ceil(d) : std::floor(d);
      // 2^63 is exactly representable; anything at or beyond it saturates.
      constexpr double kLimit = 9223372036854775808.0;
      if (d >= kLimit) {
        out = kMax;
      } else if (d < -kLimit) {
        out = std::numeric_limits<std::int64_t>::min();
      } else {
        out = static_cast<std::int64_t>(d);
      }
      return DateStatus::kPresent;
    }
    default:
      return DateStatus::kInvalid;
  }
}

JwtError bad_date(std::string_view name) {
  return error(JwtErrorKind::kMalformed, "claim \"" + std::string(name) + "\" must be a number");
}

bool audience_matches(const json::value& aud, std::string_view expected) {
  if (aud.is_string()) return aud.get_string() == expected;
  if (aud.is_array()) {
    for (const json::value& entry : aud.get_array()) {
      if (entry.is_string() && entry.get_string() == expected) return true;
    }
  }
  return false;
}

}  // namespace

std::optional<std::string> base64url_decode(std::string_view text) {
  if (text.size() % 4 == 1) return std::nullopt;  // 6 bits cannot make a byte
  std::string out;
  out.reserve(text.size() / 4 * 3 + 2);
  std::uint32_t buffer = 0;
  int bits = 0;
  for (char c : text) {
    const int value = base64url_value(c);
    if (value < 0) return std::nullopt;
    buffer = ((buffer << 6) | static_cast<std::uint32_t>(value)) & 0xFFFFu;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((buffer >> bits) & 0xFFu));
    }
  }
  // A canonical encoding leaves the unused low bits zero.
  if (bits > 0 && (buffer & ((1u << bits) - 1u)) != 0) return std::nullopt;
  return out;
}

JwkSet JwkSet::parse(std::string_view json_text) {
  json::value root;
  try {
    root = parse_json(json_text);
  } catch (const JsonSyntaxError& e) {
    throw std::runtime_error(std::string("JWKS is not valid JSON: ") + e.what());
  }
  const json::value* keys = root.is_object() ? root.get_object().if_contains("keys") : nullptr;
  if (keys == nullptr || !keys->is_array()) {
    throw std::runtime_error("JWKS must be a JSON object with a \"keys\" array");
  }
  ErrorQueueScope errors;
  JwkSet set;
  for (const json::value& entry : keys->get_array()) {
    if (auto jwk = parse_jwk(entry)) {
      set.keys_.push_back(std::move(*jwk));
    } else {
      ++set.skipped_;
    }
  }
  return set;
}

const Jwk* JwkSet::find(std::string_view kid) const {
  if (kid.empty()) return keys_.size() == 1 ? &keys_.front() : nullptr;
  for (const Jwk& key : keys_) {
    if (key.kid == kid) return &key;
  }
  return nullptr;
}

std::string_view to_string(JwtErrorKind kind) {
  switch (kind) {
    case JwtErrorKind::kMalformed:
      return "malformed";
    case JwtErrorKind::kTooLarge:
      return "too_large";
    case JwtErrorKind::kAlgNone:
      return "alg_none";
    case JwtErrorKind::kUnsupportedAlg:
      return "unsupported_alg";
    case JwtErrorKind::kAlgKeyMismatch:
      return "alg_key_mismatch";
    case JwtErrorKind::kUnknownCrit:
      return "unknown_crit";
    case JwtErrorKind::kUnknownKid:
      return "unknown_kid";
    case JwtErrorKind::kBadSignature:
      return "bad_signature";
    case JwtErrorKind::kExpired:
      return "expired";
    case JwtErrorKind::kNotYetValid:
      return "not_yet_valid";
    case JwtErrorKind::kIssuedInFuture:
      return "issued_in_future";
    case JwtErrorKind::kMissingExp:
      return "missing_exp";
    case JwtErrorKind::kWrongIssuer:
      return "wrong_issuer";
    case JwtErrorKind::kWrongAudience:
      return "wrong_audience";
    case JwtErrorKind::kMissingAudience:
      return "missing_audience";
  }
  return "unknown";
}

std::variant<Jwt, JwtError> decode_jwt(std::string_view token, std::size_t max_bytes) {
  if (token.size() > max_bytes) {
    return error(JwtErrorKind::kTooLarge, "token is " + std::to_string(token.size()) +
                                              " bytes, over the limit of " +
                                              std::to_string(max_bytes));
  }
  const std::size_t first_dot = token.find('.');
  const std::size_t second_dot =
      first_dot == std::string_view::npos ? first_dot : token.find('.', first_dot + 1);
  if (second_dot == std::string_view::npos ||
      token.find('.', second_dot + 1) != std::string_view::npos) {
    return error(JwtErrorKind::kMalformed, "token must have three dot-separated parts");
  }
  const std::string_view header_part = token.substr(0, first_dot);
  const std::string_view payload_part = token.substr(first_dot + 1, second_dot - first_dot - 1);
  const std::string_view signature_part = token.substr(second_dot + 1);
  if (header_part.empty() || payload_part.empty()) {
    return error(JwtErrorKind::kMalformed, "token header and payload must not be empty");
  }

  auto decode_object = [](std::string_view part, std::string_view what,
                          json::object& out) -> std::optional<JwtError> {
    auto text = base64url_decode(part);
    if (!text) {
      return error(JwtErrorKind::kMalformed, "token " + std::string(what) + " is not base64url");
    }
    json::value value;
    try {
      value = parse_json(*text);
    } catch (const JsonSyntaxError&) {
      return error(JwtErrorKind::kMalformed, "token " + std::string(what) + " is not JSON");
    }
    if (!value.is_object()) {
      return error(JwtErrorKind::kMalformed,
                   "token " + std::string(what) + " is not a JSON object");
    }
    out = std::move(value.get_object());
    return std::nullopt;
  };

  Jwt jwt;
  if (auto failure = decode_object(header_part, "header", jwt.header)) return *failure;

  auto alg = string_member(jwt.header, "alg");
  if (!alg) return error(JwtErrorKind::kMalformed, "token header has no string \"alg\"");
  std::string lower_alg(*alg);
  for (char& c : lower_alg) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (lower_alg == "none") {
    return error(JwtErrorKind::kAlgNone, "unsigned tokens (alg \"none\") are not accepted");
  }
  jwt.alg = std::string(*alg);

  if (const json::value* kid = jwt.header.if_contains("kid")) {
    if (!kid->is_string()) return error(JwtErrorKind::kMalformed, "token \"kid\" is not a string");
    jwt.kid = std::string(kid->get_string());
  }

  // RFC 7515 §4.1.11: a recipient must reject a token whose "crit" names an
  // extension it does not implement; this verifier implements none.
  if (const json::value* crit = jwt.header.if_contains("crit")) {
    bool well_formed = crit->is_array() && !crit->get_array().empty();
    if (well_formed) {
      for (const json::value& name : crit->get_array())
        well_formed = well_formed && name.is_string();
    }
    if (!well_formed) {
      return error(JwtErrorKind::kMalformed, "token \"crit\" must be a non-empty array of strings");
    }
    return error(JwtErrorKind::kUnknownCrit,
                 "token header \"crit\" lists extensions this server does not support");
  }

  if (auto failure = decode_object(payload_part, "payload", jwt.payload)) return *failure;

  auto signature = base64url_decode(signature_part);
  if (!signature) return error(JwtErrorKind::kMalformed, "token signature is not base64url");
  jwt.signature = std::move(*signature);
  jwt.signing_input = std::string(token.substr(0, second_dot));
  return jwt;
}

std::optional<JwtError> verify_signature(const Jwt& jwt, const Jwk& key) {
  const Algorithm* algorithm = find_algorithm(jwt.alg);
  if (algorithm == nullptr) {
    return error(JwtErrorKind::kUnsupportedAlg,
                 "token algorithm is not supported (RS256, RS384, RS512, PS256, PS384, PS512, "
                 "ES256, ES384 and EdDSA are)");
  }
  if (algorithm->family == Family::kHmac) {
    return error(JwtErrorKind::kAlgKeyMismatch,
                 "HMAC algorithms are not accepted with public keys");
  }
  if (!key.key) {
    return error(JwtErrorKind::kAlgKeyMismatch, describe_key(key) + " has no public key");
  }
  if (!key.alg.empty() && key.alg != algorithm->name) {
    return error(JwtErrorKind::kAlgKeyMismatch, describe_key(key) + " is for " + key.alg +
                                                    ", the token uses " +
                                                    std::string(algorithm->name));
  }
  if (auto mismatch = check_key_fits(*algorithm, key)) return mismatch;

  ErrorQueueScope errors;
  auto bad_signature = [&] {
    return error(
        JwtErrorKind::kBadSignature,
        std::string(algorithm->name) + " signature does not verify with " + describe_key(key));
  };

  std::string der;
  std::string_view signature = jwt.signature;
  if (algorithm->family == Family::kEcdsa) {
    auto converted = ecdsa_raw_to_der(signature, algorithm->curve->coordinate_size);
    if (!converted) return bad_signature();
    der = std::move(*converted);
    signature = der;
  }

  MdCtxPtr ctx(EVP_MD_CTX_new());
  if (!ctx) return bad_signature();
  EVP_PKEY_CTX* pkey_ctx = nullptr;  // owned by ctx
  const EVP_MD* digest = algorithm->digest != nullptr ? algorithm->digest() : nullptr;
  if (EVP_DigestVerifyInit(ctx.get(), &pkey_ctx, digest, nullptr, key.key.get()) != 1) {
    return bad_signature();
  }
  if (algorithm->family == Family::kRsaPss) {
    // RFC 7518 §3.5: MGF1 with the same hash, salt as long as the hash.
    if (EVP_PKEY_CTX_set_rsa_padding(pkey_ctx, RSA_PKCS1_PSS_PADDING) != 1 ||
        EVP_PKEY_CTX_set_rsa_pss_saltlen(pkey_ctx, RSA_PSS_SALTLEN_DIGEST) != 1 ||
        EVP_PKEY_CTX_set_rsa_mgf1_md(pkey_ctx, digest) != 1) {
      return bad_signature();
    }
  }
  if (EVP_DigestVerify(ctx.get(), bytes(signature), signature.size(), bytes(jwt.signing_input),
                       jwt.signing_input.size()) != 1) {
    return bad_signature();
  }
  return std::nullopt;
}

std::optional<JwtError> validate_claims(const json::object& payload, const ClaimRules& rules,
                                        std::int64_t now) {
  const std::int64_t leeway = std::max<std::int64_t>(0, rules.leeway.count());

  std::int64_t exp = 0;
  switch (read_date(payload, "exp", /*round_up=*/false, exp)) {
    case DateStatus::kInvalid:
      return bad_date("exp");
    case DateStatus::kAbsent:
      if (rules.require_exp) {
        return error(JwtErrorKind::kMissingExp, "token has no \"exp\" (expiration) claim");
      }
      break;
    case DateStatus::kPresent:
      // RFC 7519 §4.1.4: valid only while now is before exp.
      if (now >= saturating_add(exp, leeway)) {
        return error(JwtErrorKind::kExpired, "token expired at " + std::to_string(exp) + " (now " +
                                                 std::to_string(now) + ", leeway " +
                                                 std::to_string(leeway) + "s)");
      }
      break;
  }

  std::int64_t nbf = 0;
  switch (read_date(payload, "nbf", /*round_up=*/true, nbf)) {
    case DateStatus::kInvalid:
      return bad_date("nbf");
    case DateStatus::kAbsent:
      break;
    case DateStatus::kPresent:
      if (saturating_add(now, leeway) < nbf) {
        return error(JwtErrorKind::kNotYetValid,
                     "token is not valid before " + std::to_string(nbf) + " (now " +
                         std::to_string(now) + ", leeway " + std::to_string(leeway) + "s)");
      }
      break;
  }

  std::int64_t iat = 0;
  switch (read_date(payload, "iat", /*round_up=*/true, iat)) {
    case DateStatus::kInvalid:
      return bad_date("iat");
    case DateStatus::kAbsent:
      break;
    case DateStatus::kPresent:
      if (iat > saturating_add(now, leeway)) {
        return error(JwtErrorKind::kIssuedInFuture,
                     "token was issued in the future, at " + std::to_string(iat) + " (now " +
                         std::to_string(now) + ", leeway " + std::to_string(leeway) + "s)");
      }
      break;
  }

  if (rules.issuer) {
    auto iss = string_member(payload, "iss");
    if (!iss || *iss != *rules.issuer) {
      return error(JwtErrorKind::kWrongIssuer,
                   "token issuer is not the expected issuer \"" + *rules.issuer + "\"");
    }
  }

  if (rules.audience) {
    const json::value* aud = payload.if_contains("aud");
    if (aud == nullptr) {
      return error(JwtErrorKind::kMissingAudience,
                   "token has no \"aud\" claim; expected audience \"" + *rules.audience + "\"");
    }
    if (!audience_matches(*aud, *rules.audience)) {
      return error(JwtErrorKind::kWrongAudience,
                   "token audience does not include \"" + *rules.audience + "\"");
    }
  }
  return std::nullopt;
}

std::variant<Jwt, JwtError> verify_jwt(std::string_view token, const JwkSet& keys,
                                       const ClaimRules& rules, std::int64_t now,
                                       std::size_t max_bytes) {
  auto decoded = decode_jwt(token, max_bytes);
  if (auto* failure = std::get_if<JwtError>(&decoded)) return std::move(*failure);
  Jwt& jwt = std::get<Jwt>(decoded);
  const Jwk* key = keys.find(jwt.kid);
  if (key == nullptr) {
    return error(JwtErrorKind::kUnknownKid,
                 jwt.kid.empty() ? "token has no \"kid\" and the JWKS does not hold exactly one key"
                                 : "no key in the JWKS matches the token's \"kid\"");
  }
  if (auto failure = verify_signature(jwt, *key)) return std::move(*failure);
  if (auto failure = validate_claims(jwt.payload, rules, now)) return std::move(*failure);
  return decoded;
}

}  // namespace llama_stack::auth
