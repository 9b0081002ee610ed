// JWT bearer-token verification against a JWKS: parsing public JWKs into
// OpenSSL keys, decoding compact JWS tokens, checking signatures with the
// asymmetric JWS algorithms (RS*, PS*, ES256/ES384, EdDSA) and validating the
// registered time, issuer and audience claims.
//
// Only public-key algorithms are accepted: HS* tokens are always refused, so
// an attacker cannot "sign" with a published public key used as an HMAC
// secret. Error messages describe the failure and never quote the token.
//
// Thread-safety: a parsed JwkSet is immutable and may be shared across
// threads; all free functions are pure and safe to call concurrently.
#pragma once

#include "core/util/json.h"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

typedef struct evp_pkey_st EVP_PKEY;

namespace llama_stack::auth {

// A public key from a JWKS, ready for verification.
struct Jwk {
  std::string kid;                // may be empty
  std::string kty;                // "RSA" | "EC" | "OKP"
  std::string alg;                // optional "alg" member, may be empty
  std::string crv;                // "P-256" | "P-384" | "Ed25519" for EC/OKP; empty for RSA
  std::shared_ptr<EVP_PKEY> key;  // public key only; freed with EVP_PKEY_free
};

// The signature keys of a JSON Web Key Set (RFC 7517). Immutable after parse;
// safe to share across threads.
class JwkSet {
 public:
  // Parses {"keys":[...]}. Keys that cannot serve to verify signatures are
  // skipped and counted in skipped(): unsupported kty or crv, "use" present
  // and not "sig", "key_ops" present without "verify", or invalid key
  // material. Private members ("d", "p", ...) are ignored: only the public
  // parts are loaded. Throws std::runtime_error when the text is not JSON or
  // has no "keys" array.
  static JwkSet parse(std::string_view json_text);

  // The first key whose kid equals `kid`. An empty `kid` (a token without
  // "kid") finds the only key when the set holds exactly one; nullptr
  // otherwise.
  const Jwk* find(std::string_view kid) const;

  std::size_t size() const { return keys_.size(); }
  std::size_t skipped() const { return skipped_; }
  const std::vector<Jwk>& keys() const { return keys_; }

 private:
  std::vector<Jwk> keys_;
  std::size_t skipped_ = 0;
};

enum class JwtErrorKind {
  kMalformed,        // not a compact JWS with base64url JSON-object parts
  kTooLarge,         // longer than the allowed maximum
  kAlgNone,          // "alg": "none" (unsecured JWS)
  kUnsupportedAlg,   // an algorithm we do not implement
  kAlgKeyMismatch,   // alg not usable with this key (or HMAC, or weak key)
  kUnknownCrit,      // "crit" names an extension we do not understand
  kUnknownKid,       // no key in the set for the token's kid
  kBadSignature,     // signature does not verify
  kExpired,          // now is past exp (+ leeway)
  kNotYetValid,      // now is before nbf (- leeway)
  kIssuedInFuture,   // iat is after now (+ leeway)
  kMissingExp,       // exp absent while required
  kWrongIssuer,      // iss absent or different from the expected issuer
  kWrongAudience,    // aud does not contain the expected audience
  kMissingAudience,  // aud absent while an audience is expected
};

// `message` is for people (logs, WWW-Authenticate error_description); it
// never contains the token.
struct JwtError {
  JwtErrorKind kind;
  std::string message;
};

// A stable snake_case name for `kind`, e.g. "expired", "bad_signature".
std::string_view to_string(JwtErrorKind kind);

// A decoded, not yet verified, compact JWS.
struct Jwt {
  json::object header;
  json::object payload;
  std::string alg;
  std::string kid;            // empty when the header has none
  std::string signing_input;  // "<b64 header>.<b64 payload>"
  std::string signature;      // raw bytes
};

// Decodes unpadded base64url (RFC 4648 §5) strictly: no padding, no
// whitespace, no characters outside the alphabet and no non-zero trailing
// bits. nullopt when `text` is not such an encoding.
std::optional<std::string> base64url_decode(std::string_view text);

// Splits and decodes a compact JWS. Checks, in order: size > max_bytes →
// kTooLarge (before any parsing); exactly three parts with a non-empty header
// and payload, each base64url, header and payload JSON objects, "alg" a
// string (and "kid" a string when present) → else kMalformed; "alg" "none" in
// any case → kAlgNone; "crit" present → kUnknownCrit (we understand no
// extension; a "crit" that is not a non-empty array of strings is kMalformed).
std::variant<Jwt, JwtError> decode_jwt(std::string_view token, std::size_t max_bytes = 8192);

// Verifies the signature of `jwt` with `key`. The algorithm must suit the
// key: RS256/RS384/RS512/PS256/PS384/PS512 need an RSA key of at least 2048
// bits, ES256 an EC P-256 key, ES384 an EC P-384 key, EdDSA an OKP Ed25519
// key, and a key with an "alg" member only serves that alg; otherwise
// kAlgKeyMismatch. HS256/HS384/HS512 are always kAlgKeyMismatch; other algs
// kUnsupportedAlg. nullopt when the signature is valid.
std::optional<JwtError> verify_signature(const Jwt& jwt, const Jwk& key);

struct ClaimRules {
  std::optional<std::string> issuer;    // exact match on "iss" when set
  std::optional<std::string> audience;  // "aud" (string or array) must contain it when set
  std::chrono::seconds leeway{30};      // allowed clock skew for exp, nbf and iat
  bool require_exp = true;
};

// Checks the registered claims: exp (required when rules.require_exp), nbf,
// iat (after now + leeway → kIssuedInFuture), iss, aud. Time claims must be
// JSON numbers (else kMalformed). `now` is in unix seconds. nullopt when the
// claims are acceptable.
std::optional<JwtError> validate_claims(const json::object& payload, const ClaimRules& rules,
                                        std::int64_t now);

// decode_jwt, then the key for the token's kid in `keys` (none →
// kUnknownKid), verify_signature and validate_claims. Returns the verified
// token.
std::variant<Jwt, JwtError> verify_jwt(std::string_view token, const JwkSet& keys,
                                       const ClaimRules& rules, std::int64_t now,
                                       std::size_t max_bytes = 8192);

}  // namespace llama_stack::auth
