// Authenticators turn a bearer token into a user (principal + attributes).
// They are asynchronous (JWKS fetches, introspection and custom endpoints
// are network calls) and report exactly once through the callback.
//
// Thread-safety: authenticate() may be called concurrently from any thread.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/auth/auth_config.h"
#include "core/http/http_client.h"
#include "core/http/http_types.h"
#include "core/runtime/io_runtime.h"
#include "llama_stack/apis/resources.h"

namespace llama_stack::auth {

struct AuthResult {
  enum class Status {
    kOk,
    kUnauthorized,  // 401: the token is not acceptable
    kUnavailable,   // 503: the identity provider could not be asked, nothing cached decides
  };
  Status status = Status::kUnauthorized;
  apis::Owner user;
  std::vector<std::string> scopes;  // OAuth scopes ("scope" / "scp")
  std::string issuer;
  // Unauthorized/unavailable: a short reason class for logs and audit
  // ("expired", "bad_signature", "idp_unreachable", ...) and a message for the client.
  std::string reason;
  std::string message;

  static AuthResult unauthorized(std::string reason, std::string message) {
    AuthResult r;
    r.status = Status::kUnauthorized;
    r.reason = std::move(reason);
    r.message = std::move(message);
    return r;
  }
  static AuthResult unavailable(std::string reason, std::string message) {
    AuthResult r;
    r.status = Status::kUnavailable;
    r.reason = std::move(reason);
    r.message = std::move(message);
    return r;
  }
};

class Authenticator {
 public:
  virtual ~Authenticator() = default;
  virtual void authenticate(const std::string& token, const http::HttpRequest& request,
                            std::function<void(AuthResult)> done) = 0;
};

// Builds the authenticator for `config` (oauth2_token with jwks or
// introspection, or custom). Throws std::runtime_error on bad TLS material.
std::unique_ptr<Authenticator> make_authenticator(const AuthConfig& config, IoRuntime& runtime);

// The JWKS authenticator refetches the key set for a token with an unknown
// "kid" at most once per this interval, so that tokens with made-up kids
// cannot make it fetch once per request.
inline constexpr std::chrono::seconds kUnknownKidRefetchInterval{10};
// With no keys at all (every fetch so far failed), at most one fetch per this
// interval; requests in between get 503 at once.
inline constexpr std::chrono::seconds kNoKeysRefetchInterval{1};

// Test seam: how the authenticators reach the identity provider and tell
// time. make_authenticator(config, runtime) uses HttpClient::create(runtime,
// options) and std::chrono::steady_clock; tests pass a fake client and a
// manual clock. Nothing else differs.
struct AuthenticatorDeps {
  // Makes the authenticator's HttpClient (called once, with the options
  // derived from the config: TLS verification, CA file, timeouts).
  std::function<std::shared_ptr<http::HttpClient>(const http::ClientOptions&)> make_client;
  // Monotonic time for the JWKS refresh schedule (key_recheck_period,
  // kUnknownKidRefetchInterval); unset → std::chrono::steady_clock::now.
  std::function<std::chrono::steady_clock::time_point()> steady_now;
};
std::unique_ptr<Authenticator> make_authenticator(const AuthConfig& config, AuthenticatorDeps deps);

// Maps token claims to attributes with `mapping` (claim → attribute): list
// claims are taken as is, string claims split on whitespace; merged.
json::object attributes_from_claims(
    const json::object& claims, const std::vector<std::pair<std::string, std::string>>& mapping);

// Scopes from "scope" (space-separated string) and/or "scp" (list or string).
std::vector<std::string> scopes_from_claims(const json::object& claims);

// Hex SHA-256 of `text` (tokens are cached and referred to by hash only).
std::string sha256_hex(std::string_view text);

}  // namespace llama_stack::auth
