// What identity providers answer: a token introspection answer (RFC 7662),
// a custom auth endpoint's answer, and a fetched JWKS, each handed to the
// authenticator the server builds (make_authenticator) through a fake HTTP
// client at the wire level. The first byte picks the authenticator and the
// HTTP status; the rest is the answer's body.
#include <cstdint>
#include <memory>
#include <string>

#include "core/auth/authenticator.h"
#include "fuzz/fuzz_support.h"
#include "support/fake_http_client.h"

using namespace llama_stack;

namespace {

auth::AuthConfig config_for(int which) {
  auth::AuthConfig config;
  if (which == 0) {
    config.type = "oauth2_token";
    auth::IntrospectionConfig introspection;
    introspection.url = "https://idp.example/introspect";
    introspection.client_id = "client";
    introspection.client_secret = "secret";
    config.oauth2.introspection = introspection;
    config.oauth2.claims_mapping = {{"sub", "roles"}, {"groups", "teams"}, {"scope", "scopes"}};
  } else if (which == 1) {
    config.type = "custom";
    config.custom.endpoint = "https://auth.example/check";
  } else {
    config.type = "oauth2_token";
    auth::JwksConfig jwks;
    jwks.uri = "https://idp.example/jwks";
    config.oauth2.jwks = jwks;
    config.oauth2.issuer = "https://idp.test";
  }
  return config;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const int which = data[0] % 3;
  const int status = (data[0] / 3) % 4 == 0 ? 401 : 200;
  const std::string body(fuzz::as_text(data + 1, size - 1));
  auto idp = std::make_shared<testing::FakeHttpClient>();
  auth::AuthenticatorDeps deps;
  deps.make_client = [idp](const http::ClientOptions&) { return idp; };
  auto authenticator = auth::make_authenticator(config_for(which), deps);
  int decided = 0;
  http::HttpRequest request;
  // A JWT-shaped token for the JWKS authenticator (kid "k1"), opaque for the others.
  const std::string token =
      which == 2 ? "eyJhbGciOiJSUzI1NiIsImtpZCI6ImsxIn0.eyJzdWIiOiJhIn0.c2ln" : "opaque-token";
  authenticator->authenticate(token, request, [&](auth::AuthResult) { ++decided; });
  if (idp->pending() == 1) idp->respond(status, body);
  if (decided != 1) __builtin_trap();  // every answer decides the request, once
  return 0;
}
