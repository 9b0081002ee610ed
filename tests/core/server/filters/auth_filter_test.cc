// AuthFilter through ServerCore: what a request without a usable bearer
// token gets (401 + WWW-Authenticate), how an authenticator that answers
// later continues the chain (kPending, then the handler exactly once), and
// what an unreachable identity provider gives (503, never "allow"). Uses
// scripted authenticators and, for the end-to-end cases, the real JWKS and
// custom authenticators on a FakeHttpClient.
#include "core/server/filters/auth_filter.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/server/filters/quota_filter.h"
#include "core/server/filters/rate_limit_filter.h"
#include "support/fake_http_client.h"
#include "support/jwt_tokens.h"
#include "support/server_harness.h"

namespace llama_stack::server {
namespace {

using ::llama_stack::testing::dispatch;
using ::llama_stack::testing::FakeHttpClient;
using ::llama_stack::testing::make_request;
using ::llama_stack::testing::TestSink;

constexpr std::size_t kMaxTokenBytes = 64;

// An authenticator the test scripts: it answers at once with `inline_result`
// when set, or keeps the callback for the test to call (from any thread).
class ScriptedAuthenticator final : public auth::Authenticator {
 public:
  void authenticate(const std::string& token, const HttpRequest&,
                    std::function<void(auth::AuthResult)> done) override {
    if (throw_on_call) throw std::runtime_error("authenticator exploded with secret detail");
    std::unique_lock lock(mutex_);
    tokens_.push_back(token);
    if (inline_result) {
      auth::AuthResult result = *inline_result;
      lock.unlock();
      done(std::move(result));
      return;
    }
    pending_.push_back(std::move(done));
  }

  // Answers the oldest kept callback.
  void answer(auth::AuthResult result) {
    std::function<void(auth::AuthResult)> done;
    {
      std::lock_guard lock(mutex_);
      ASSERT_FALSE(pending_.empty());
      done = std::move(pending_.front());
      pending_.erase(pending_.begin());
    }
    done(std::move(result));
  }

  std::vector<std::string> tokens() const {
    std::lock_guard lock(mutex_);
    return tokens_;
  }

  std::optional<auth::AuthResult> inline_result;
  bool throw_on_call = false;

 private:
  mutable std::mutex mutex_;
  std::vector<std::string> tokens_;
  std::vector<std::function<void(auth::AuthResult)>> pending_;
};

auth::AuthResult ok_result(std::string principal) {
  auth::AuthResult result;
  result.status = auth::AuthResult::Status::kOk;
  result.user.principal = std::move(principal);
  result.user.attributes["roles"] = json::array{"admin"};
  result.scopes = {"inference", "models.read"};
  result.issuer = "https://issuer.example";
  return result;
}

// Counts the requests that reach it and what the auth filter left in the
// context; placed after the auth filter.
class ProbeFilter final : public Filter {
 public:
  std::string_view name() const override { return "probe"; }
  FilterStatus on_request(const std::shared_ptr<Exchange>& exchange) override {
    std::lock_guard lock(mutex);
    ++calls;
    const RequestContext& context = exchange->context();
    principal = context.user ? context.user->principal : "";
    scopes = context.scopes;
    issuer = context.token_issuer;
    return FilterStatus::kContinue;
  }
  std::mutex mutex;
  int calls = 0;
  std::string principal;
  std::vector<std::string> scopes;
  std::string issuer;
};

struct HandlerProbe {
  std::atomic<int> calls{0};
  std::mutex mutex;
  std::thread::id thread;
};

// ServerCore with routes GET /v1/models (authenticated), GET /v1/health
// (public) and POST /v1/chat/completions (inference), and the filters given.
ServerCore make_core(HandlerProbe& probe, std::vector<std::unique_ptr<Filter>> filters) {
  auto handler = [&probe](const std::shared_ptr<Exchange>& exchange) {
    {
      std::lock_guard lock(probe.mutex);
      probe.thread = std::this_thread::get_id();
    }
    ++probe.calls;
    const auto& user = exchange->context().user;
    exchange->send_json(200, json::object{{"principal", user ? user->principal : ""}});
  };
  RouteTable routes;
  routes.add({"GET", "/v1/models", handler, "models"});
  routes.add({"GET", "/v1/health", handler, "inspect", true});
  routes.add({"GET", "/.well-known/oauth-protected-resource", handler, "inspect"});
  routes.add({"POST", "/v1/chat/completions", handler, "inference"});
  return ServerCore(std::move(routes), std::move(filters));
}

struct Chain {
  ScriptedAuthenticator* authenticator = nullptr;
  ProbeFilter* probe_filter = nullptr;
  std::vector<std::unique_ptr<Filter>> filters;
};

Chain scripted_chain(std::optional<std::string> metadata_url = std::nullopt) {
  Chain chain;
  auto authenticator = std::make_unique<ScriptedAuthenticator>();
  chain.authenticator = authenticator.get();
  chain.filters.push_back(
      std::make_unique<AuthFilter>(std::move(authenticator), kMaxTokenBytes, metadata_url));
  auto probe = std::make_unique<ProbeFilter>();
  chain.probe_filter = probe.get();
  chain.filters.push_back(std::move(probe));
  return chain;
}

Headers bearer(std::string_view token) {
  Headers headers;
  headers.add("authorization", "Bearer " + std::string(token));
  return headers;
}

json::value body_of(const HttpResponse& response) {
  return parse_json(response.body);
}

void expect_challenge(const HttpResponse& response, std::string_view description) {
  EXPECT_EQ(response.status, 401);
  auto challenge = response.headers.get("www-authenticate");
  ASSERT_TRUE(challenge.has_value());
  EXPECT_TRUE(challenge->starts_with(
      R"(Bearer realm="llama-stack", error="invalid_token", error_description=")"))
      << *challenge;
  EXPECT_NE(challenge->find(description), std::string_view::npos) << *challenge;
  EXPECT_EQ(body_of(response).at("error").at("type").as_string(), "authentication_error");
  EXPECT_EQ(response.headers.get("x-should-retry"), "false");
}

// ---------------------------------------------------------------------------
// Requests without a usable bearer token

TEST(AuthFilter, MissingOrMalformedCredentialsAre401WithAChallenge) {
  HandlerProbe handler;
  Chain chain = scripted_chain();
  ScriptedAuthenticator* authenticator = chain.authenticator;
  ServerCore core = make_core(handler, std::move(chain.filters));

  struct Case {
    std::optional<std::string> authorization;
    std::string description;
  };
  const std::vector<Case> cases = {
      {std::nullopt, "Missing or invalid Authorization header"},
      {"", "Missing or invalid Authorization header"},
      {"Basic dXNlcjpwYXNz", "Missing or invalid Authorization header"},
      {"Token abc", "Missing or invalid Authorization header"},
      {"Bearer", "Missing or invalid Authorization header"},
      {"Bearer ", "Missing or invalid Authorization header"},
      {"Bearer     ", "Missing or invalid Authorization header"},
      {"Bearer " + std::string(kMaxTokenBytes + 1, 'a'), "Token exceeds 64 bytes"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.authorization.value_or("<none>"));
    Headers headers;
    if (c.authorization) headers.add("authorization", *c.authorization);
    auto sink = dispatch(core, make_request("GET", "/v1/models", headers));
    ASSERT_EQ(sink->responses(), 1);  // answered synchronously: kStop
    expect_challenge(sink->response(), c.description);
  }
  EXPECT_EQ(handler.calls.load(), 0);
  EXPECT_TRUE(authenticator->tokens().empty()) << "the authenticator saw a bad header";
}

TEST(AuthFilter, TheTokenIsTrimmedAndTheSchemeIsCaseTolerant) {
  HandlerProbe handler;
  Chain chain = scripted_chain();
  chain.authenticator->inline_result = ok_result("alice");
  ScriptedAuthenticator* authenticator = chain.authenticator;
  ServerCore core = make_core(handler, std::move(chain.filters));
  Headers headers;
  headers.add("authorization", "bearer   tok.en  ");
  auto sink = dispatch(core, make_request("GET", "/v1/models", headers));
  EXPECT_EQ(sink->response().status, 200);
  EXPECT_EQ(authenticator->tokens(), (std::vector<std::string>{"tok.en"}));
}

TEST(AuthFilter, PublicRoutesNeedNoCredentials) {
  HandlerProbe handler;
  Chain chain = scripted_chain();
  ScriptedAuthenticator* authenticator = chain.authenticator;
  ServerCore core = make_core(handler, std::move(chain.filters));
  EXPECT_EQ(dispatch(core, make_request("GET", "/v1/health"))->response().status, 200);
  EXPECT_EQ(dispatch(core, make_request("GET", "/.well-known/oauth-protected-resource"))
                ->response()
                .status,
            200);
  EXPECT_EQ(handler.calls.load(), 2);
  EXPECT_TRUE(authenticator->tokens().empty());
}

TEST(AuthFilter, ARejectedTokenIs401WithASafeDescriptionAndResourceMetadata) {
  HandlerProbe handler;
  Chain chain = scripted_chain("https://stack.example/.well-known/oauth-protected-resource");
  chain.authenticator->inline_result =
      auth::AuthResult::unauthorized("expired", "token \"expired\" at \\ 12\n");
  ServerCore core = make_core(handler, std::move(chain.filters));
  auto sink = dispatch(core, make_request("GET", "/v1/models", bearer("some.jwt.token")));
  const HttpResponse response = sink->response();
  expect_challenge(response, R"(error_description="token expired at  12")");
  EXPECT_NE(response.headers.get("www-authenticate")
                ->find(R"(, resource_metadata="https://stack.example/.well-known/)"),
            std::string_view::npos);
  EXPECT_EQ(handler.calls.load(), 0);
  EXPECT_EQ(sink->responses(), 1);
}

TEST(AuthFilter, AnUnavailableIdentityProviderIs503WithRetryAfter) {
  HandlerProbe handler;
  Chain chain = scripted_chain();
  chain.authenticator->inline_result =
      auth::AuthResult::unavailable("idp_unreachable", "Token introspection is unavailable");
  ServerCore core = make_core(handler, std::move(chain.filters));
  auto sink = dispatch(core, make_request("GET", "/v1/models", bearer("opaque")));
  const HttpResponse response = sink->response();
  EXPECT_EQ(response.status, 503);
  EXPECT_EQ(response.headers.get("retry-after"), "5");
  EXPECT_FALSE(response.headers.contains("www-authenticate"));
  EXPECT_EQ(response.headers.get("x-should-retry"), "true");
  EXPECT_EQ(body_of(response).at("error").at("message").as_string(),
            "Token introspection is unavailable");
  EXPECT_EQ(handler.calls.load(), 0);
}

TEST(AuthFilter, AnAuthenticatorThatThrowsIsAnErrorResponseNotACrash) {
  HandlerProbe handler;
  Chain chain = scripted_chain();
  chain.authenticator->throw_on_call = true;
  ServerCore core = make_core(handler, std::move(chain.filters));
  auto sink = dispatch(core, make_request("GET", "/v1/models", bearer("opaque")));
  ASSERT_EQ(sink->responses(), 1);
  EXPECT_EQ(sink->response().status, 500);
  EXPECT_EQ(sink->response().body.find("secret detail"), std::string::npos);
  EXPECT_EQ(handler.calls.load(), 0);
}

// ---------------------------------------------------------------------------
// kPending and resume

TEST(AuthFilter, AnAsynchronousAnswerResumesTheChainOnceOnTheAnsweringThread) {
  HandlerProbe handler;
  Chain chain = scripted_chain();
  ScriptedAuthenticator* authenticator = chain.authenticator;
  ProbeFilter* after_auth = chain.probe_filter;
  ServerCore core = make_core(handler, std::move(chain.filters));

  auto sink = dispatch(core, make_request("GET", "/v1/models", bearer("opaque")));
  // Pending: dispatch returned with nothing answered and nothing after the
  // auth filter run.
  EXPECT_EQ(sink->responses(), 0);
  EXPECT_EQ(after_auth->calls, 0);
  EXPECT_EQ(handler.calls.load(), 0);

  std::thread::id answering_thread;
  std::thread idp([&] {
    answering_thread = std::this_thread::get_id();
    authenticator->answer(ok_result("alice"));
  });
  idp.join();

  ASSERT_EQ(sink->responses(), 1);
  EXPECT_EQ(sink->response().status, 200);
  EXPECT_EQ(body_of(sink->response()).at("principal").as_string(), "alice");
  EXPECT_EQ(handler.calls.load(), 1);
  EXPECT_EQ(handler.thread, answering_thread);
  EXPECT_EQ(after_auth->calls, 1);
  EXPECT_EQ(after_auth->principal, "alice");
  EXPECT_EQ(after_auth->scopes, (std::vector<std::string>{"inference", "models.read"}));
  EXPECT_EQ(after_auth->issuer, "https://issuer.example");
}

TEST(AuthFilter, AnAnswerInsideAuthenticateRunsTheRestOfTheChainOnce) {
  HandlerProbe handler;
  Chain chain = scripted_chain();
  chain.authenticator->inline_result = ok_result("alice");
  ProbeFilter* after_auth = chain.probe_filter;
  ServerCore core = make_core(handler, std::move(chain.filters));
  for (int i = 1; i <= 3; ++i) {
    auto sink = dispatch(core, make_request("GET", "/v1/models", bearer("cached")));
    ASSERT_EQ(sink->responses(), 1);
    EXPECT_EQ(sink->response().status, 200);
    EXPECT_EQ(handler.calls.load(), i);
    EXPECT_EQ(after_auth->calls, i);
  }
}

TEST(AuthFilter, ALateRejectionNeverReachesTheHandler) {
  HandlerProbe handler;
  Chain chain = scripted_chain();
  ScriptedAuthenticator* authenticator = chain.authenticator;
  ProbeFilter* after_auth = chain.probe_filter;
  ServerCore core = make_core(handler, std::move(chain.filters));
  auto rejected = dispatch(core, make_request("GET", "/v1/models", bearer("a")));
  auto unavailable = dispatch(core, make_request("GET", "/v1/models", bearer("b")));
  EXPECT_EQ(rejected->responses() + unavailable->responses(), 0);
  authenticator->answer(auth::AuthResult::unauthorized("bad_signature", "signature mismatch"));
  authenticator->answer(auth::AuthResult::unavailable("jwks_unavailable", "keys unavailable"));
  expect_challenge(rejected->response(), "signature mismatch");
  EXPECT_EQ(unavailable->response().status, 503);
  EXPECT_EQ(rejected->responses(), 1);
  EXPECT_EQ(unavailable->responses(), 1);
  EXPECT_EQ(handler.calls.load(), 0);
  EXPECT_EQ(after_auth->calls, 0);
}

// ---------------------------------------------------------------------------
// With the real authenticators on a fake identity provider

// The identity provider (a FakeHttpClient) and the JWKS refresh clock.
struct Idp {
  std::shared_ptr<FakeHttpClient> client = std::make_shared<FakeHttpClient>();
  std::shared_ptr<std::atomic<std::int64_t>> seconds =
      std::make_shared<std::atomic<std::int64_t>>(1'000'000);
  auth::AuthenticatorDeps deps() {
    auth::AuthenticatorDeps deps;
    deps.make_client = [client = client](const http::ClientOptions&) { return client; };
    deps.steady_now = [seconds = seconds] {
      return std::chrono::steady_clock::time_point(std::chrono::seconds(seconds->load()));
    };
    return deps;
  }
  // Past the JWKS refetch interval.
  void wait_out_refetch_interval() { *seconds += auth::kUnknownKidRefetchInterval.count(); }
};

std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

TEST(AuthFilter, JwksExpiredTokenIs401AndAnUnreachableIdpIs503) {
  using namespace ::llama_stack::testing;
  static const PkeyPtr key = generate_ec("P-256");
  auth::AuthConfig config;
  config.type = "oauth2_token";
  config.oauth2.jwks = auth::JwksConfig{"https://idp.example/jwks", std::nullopt,
                                        std::chrono::seconds(3600), std::nullopt};
  config.oauth2.claims_mapping = auth::default_claims_mapping();
  Idp idp;
  std::vector<std::unique_ptr<Filter>> filters;
  filters.push_back(std::make_unique<AuthFilter>(auth::make_authenticator(config, idp.deps()),
                                                 config.max_token_bytes));
  HandlerProbe handler;
  ServerCore core = make_core(handler, std::move(filters));

  auto token_with = [&](std::int64_t exp) {
    const std::int64_t now = unix_now();
    return signed_token(
        key.get(), "ES256", "k1",
        json::object{{"sub", "alice"}, {"aud", "llama-stack"}, {"iat", now - 60}, {"exp", exp}});
  };

  // No keys yet and the IdP is down: 503, the handler never runs.
  auto down =
      dispatch(core, make_request("GET", "/v1/models", bearer(token_with(unix_now() + 600))));
  EXPECT_EQ(down->responses(), 0);
  ASSERT_TRUE(idp.client->fail());
  ASSERT_EQ(down->responses(), 1);
  EXPECT_EQ(down->response().status, 503);
  EXPECT_EQ(down->response().headers.get("retry-after"), "5");

  // The IdP answers the next attempt: a valid token reaches the handler once.
  idp.wait_out_refetch_interval();
  const std::string good = token_with(unix_now() + 600);
  auto ok = dispatch(core, make_request("GET", "/v1/models", bearer(good)));
  ASSERT_TRUE(idp.client->respond(200, jwks_text({public_jwk(key.get(), "k1")})));
  ASSERT_EQ(ok->responses(), 1);
  EXPECT_EQ(ok->response().status, 200);
  EXPECT_EQ(handler.calls.load(), 1);

  // An expired token: 401 with the reason, without echoing the token.
  const std::string expired = token_with(unix_now() - 3600);
  auto old = dispatch(core, make_request("GET", "/v1/models", bearer(expired)));
  ASSERT_EQ(old->responses(), 1);
  expect_challenge(old->response(), "token expired at");
  EXPECT_EQ(old->response().headers.get("www-authenticate")->find(expired), std::string::npos);
  EXPECT_EQ(old->response().body.find(expired), std::string::npos);

  // Garbage in the token: 401, no IdP call.
  auto garbage = dispatch(core, make_request("GET", "/v1/models", bearer("a.b.c")));
  expect_challenge(garbage->response(), "");
  EXPECT_EQ(idp.client->sent(), 2u);
  EXPECT_EQ(handler.calls.load(), 1);
}

TEST(AuthFilter, CustomEndpointDownIs503AndARefusalIs401) {
  auth::AuthConfig config;
  config.type = "custom";
  config.custom.endpoint = "https://auth.example/check";
  Idp idp;
  std::vector<std::unique_ptr<Filter>> filters;
  filters.push_back(std::make_unique<AuthFilter>(auth::make_authenticator(config, idp.deps()),
                                                 config.max_token_bytes));
  HandlerProbe handler;
  ServerCore core = make_core(handler, std::move(filters));

  auto down = dispatch(core, make_request("GET", "/v1/models", bearer("key-1")));
  ASSERT_TRUE(idp.client->fail(http::ClientErrorKind::kTimeout, "connect timeout"));
  EXPECT_EQ(down->response().status, 503);

  auto refused = dispatch(core, make_request("GET", "/v1/models", bearer("key-2")));
  ASSERT_TRUE(idp.client->respond(401, ""));
  expect_challenge(refused->response(), "Authentication failed: 401");

  auto accepted = dispatch(core, make_request("GET", "/v1/models", bearer("key-3")));
  ASSERT_TRUE(idp.client->respond(200, R"({"principal":"carol"})"));
  EXPECT_EQ(accepted->response().status, 200);
  EXPECT_EQ(body_of(accepted->response()).at("principal").as_string(), "carol");
  EXPECT_EQ(handler.calls.load(), 1);
}

// ---------------------------------------------------------------------------
// The whole chain: auth (answers later) → quota → rate limit → handler

TEST(FilterChain, EachHopResumesOnceAndTheHandlerRunsOnTheConnectionThread) {
  HandlerProbe handler;
  Chain chain = scripted_chain();
  ScriptedAuthenticator* authenticator = chain.authenticator;
  QuotaConfig quota;
  quota.authenticated_max_requests = 2;
  chain.filters.push_back(
      std::make_unique<QuotaFilter>(quota, storage::make_memory_kvstore(), true));
  security::OAuthSettings oauth;
  oauth.enable_rate_limiting = true;
  oauth.default_user_tier = "free";
  oauth.tiers["free"] = security::TierLimits{100, 100000};
  chain.filters.push_back(std::make_unique<RateLimitFilter>(
      oauth, std::make_shared<security::RateLimiter>(storage::make_memory_kvstore()),
      std::vector<std::string>{}, nullptr));
  ServerCore core = make_core(handler, std::move(chain.filters));

  for (int i = 1; i <= 3; ++i) {
    auto sink = dispatch(core, make_request("POST", "/v1/chat/completions", bearer("opaque"),
                                            R"({"model":"m","max_tokens":10})"));
    EXPECT_EQ(sink->responses(), 0);
    std::thread idp([&] { authenticator->answer(ok_result("alice")); });
    idp.join();
    // Auth resumed the chain into the quota filter, which hops to the
    // connection's thread (here: this one) once its count is known.
    ASSERT_TRUE(sink->finish());
    ASSERT_EQ(sink->responses(), 1);
    if (i <= 2) {
      EXPECT_EQ(sink->response().status, 200);
      EXPECT_EQ(sink->posts(), 2);  // the quota decision, then the rate-limit decision
      EXPECT_EQ(handler.thread, std::this_thread::get_id());
      EXPECT_TRUE(sink->response().headers.contains("x-ratelimit-remaining-requests"));
    } else {
      EXPECT_EQ(sink->response().status, 429);  // over the quota of 2
      EXPECT_EQ(sink->posts(), 1);
    }
    EXPECT_EQ(handler.calls.load(), std::min(i, 2));
  }
}

}  // namespace
}  // namespace llama_stack::server
