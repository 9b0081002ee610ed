// The authenticators' state machines, with the identity provider replaced by
// a FakeHttpClient and the refresh schedule by a manual clock (the
// AuthenticatorDeps seam): JWKS key-set caching and its recheck period, the
// rate-limited refetch for an unknown "kid", key rotation, failed fetches
// keeping the last good keys, concurrent validations during a refresh; and
// how the introspection and custom authenticators report an unreachable or
// refusing endpoint.
#include "core/auth/authenticator.h"

#include <gtest/gtest.h>

#include <fstream>

#include "support/temp_dir.h"

#include <atomic>
#include <chrono>
#include <latch>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "support/fake_http_client.h"
#include "support/jwt_tokens.h"

namespace llama_stack::auth {
namespace {

using namespace std::chrono_literals;
using ::llama_stack::testing::FakeHttpClient;
using ::llama_stack::testing::PkeyPtr;

constexpr const char* kJwksUri = "https://idp.example/jwks";
constexpr const char* kIssuer = "https://issuer.example";
constexpr auto kRecheck = 60s;

std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The JWKS refresh schedule's clock, moved by hand.
class ManualClock {
 public:
  std::chrono::steady_clock::time_point now() const {
    return std::chrono::steady_clock::time_point(std::chrono::nanoseconds(ns_.load()));
  }
  void advance(std::chrono::nanoseconds by) { ns_ += by.count(); }

 private:
  std::atomic<std::int64_t> ns_{std::chrono::nanoseconds(1000h).count()};
};

// EC P-256 keys (fast to make), generated once for the binary.
struct Keys {
  PkeyPtr one = ::llama_stack::testing::generate_ec("P-256");
  PkeyPtr two = ::llama_stack::testing::generate_ec("P-256");
};
const Keys& keys() {
  static const Keys instance;
  return instance;
}

// A JWKS document with the public halves of `entries` (key, kid).
std::string jwks(std::vector<std::pair<EVP_PKEY*, std::string>> entries) {
  std::vector<json::object> jwks;
  for (const auto& [key, kid] : entries)
    jwks.push_back(::llama_stack::testing::public_jwk(key, kid));
  return ::llama_stack::testing::jwks_text(std::move(jwks));
}
std::string jwks_one() {
  return jwks({{keys().one.get(), "k1"}});
}
std::string jwks_two() {
  return jwks({{keys().two.get(), "k2"}});
}
std::string jwks_both() {
  return jwks({{keys().one.get(), "k1"}, {keys().two.get(), "k2"}});
}

json::object claims(std::string_view sub) {
  static std::atomic<int> serial{0};
  const std::int64_t now = unix_now();
  return json::object{{"iss", kIssuer},       {"sub", sub},
                      {"aud", "llama-stack"}, {"scope", "models.read inference"},
                      {"iat", now - 10},      {"exp", now + 600},
                      {"jti", ++serial}};  // every token distinct: no result-cache hits
}

// An ES256 token signed by `key`, with `kid` in its header.
std::string token(EVP_PKEY* key, std::string_view kid, std::string_view sub = "user-1") {
  return ::llama_stack::testing::signed_token(key, "ES256", kid, claims(sub));
}
std::string token(EVP_PKEY* key, std::string_view kid, const json::object& payload) {
  return ::llama_stack::testing::signed_token(key, "ES256", kid, payload);
}

// What an authenticate() call reported, and how many times.
struct Outcome {
  std::mutex mutex;
  int calls = 0;
  std::optional<AuthResult> result;

  bool decided() {
    std::lock_guard lock(mutex);
    return calls > 0;
  }
  int count() {
    std::lock_guard lock(mutex);
    return calls;
  }
  AuthResult get() {
    std::lock_guard lock(mutex);
    if (!result) throw std::logic_error("authentication not decided");
    return *result;
  }
};

AuthConfig jwks_config() {
  AuthConfig config;
  config.type = "oauth2_token";
  JwksConfig jwks;
  jwks.uri = kJwksUri;
  jwks.token = "jwks-reader-token";
  jwks.key_recheck_period = kRecheck;
  config.oauth2.jwks = jwks;
  config.oauth2.issuer = kIssuer;
  config.oauth2.claims_mapping = default_claims_mapping();
  return config;
}

class AuthenticatorTest : public ::testing::Test {
 protected:
  // Builds the authenticator for `config` on the fake IdP and the manual clock.
  void build(const AuthConfig& config) {
    AuthenticatorDeps deps;
    deps.make_client = [this](const http::ClientOptions& options) {
      client_options_ = options;
      return idp_;
    };
    deps.steady_now = [this] { return clock_.now(); };
    authenticator_ = make_authenticator(config, std::move(deps));
  }

  // Starts authenticating `token`; the outcome fills in when it is decided.
  std::shared_ptr<Outcome> start(const std::string& token) {
    auto outcome = std::make_shared<Outcome>();
    authenticator_->authenticate(token, http::HttpRequest{}, [outcome](AuthResult result) {
      std::lock_guard lock(outcome->mutex);
      ++outcome->calls;
      outcome->result = std::move(result);
    });
    return outcome;
  }

  // Authenticates `token`, which must be decided at once (with the keys at
  // hand, without waiting for the IdP).
  AuthResult now(const std::string& token) {
    auto outcome = start(token);
    EXPECT_EQ(outcome->count(), 1) << "expected a decision without waiting for the IdP";
    return outcome->decided() ? outcome->get() : AuthResult{};
  }

  std::shared_ptr<FakeHttpClient> idp_ = std::make_shared<FakeHttpClient>();
  std::optional<http::ClientOptions> client_options_;
  ManualClock clock_;
  std::unique_ptr<Authenticator> authenticator_;
};

class JwksAuthenticatorTest : public AuthenticatorTest {
 protected:
  void SetUp() override { build(jwks_config()); }

  // The first request fetches the key set; the IdP answers `set`.
  void load(const std::string& set) {
    auto first = start(token(keys().one.get(), "k1"));
    ASSERT_EQ(idp_->pending(), 1u);
    ASSERT_TRUE(idp_->respond(200, set));
    ASSERT_TRUE(first->decided());
  }
};

void expect_ok(const AuthResult& result, std::string_view principal = "user-1") {
  EXPECT_EQ(result.status, AuthResult::Status::kOk) << result.reason << ": " << result.message;
  EXPECT_EQ(result.user.principal, principal);
}

void expect_unauthorized(const AuthResult& result, std::string_view reason) {
  EXPECT_EQ(result.status, AuthResult::Status::kUnauthorized);
  EXPECT_EQ(result.reason, reason) << result.message;
  EXPECT_FALSE(result.message.empty());
}

// ---------------------------------------------------------------------------
// Key-set cache

TEST_F(JwksAuthenticatorTest, FirstUseFetchesTheKeySetOnceThenVerifiesLocally) {
  auto first = start(token(keys().one.get(), "k1"));
  EXPECT_FALSE(first->decided()) << "decided before the key set arrived";
  ASSERT_EQ(idp_->sent(), 1u);
  const http::ClientRequest fetch = idp_->request(0);
  EXPECT_EQ(fetch.method, "GET");
  EXPECT_EQ(fetch.url, kJwksUri);
  EXPECT_EQ(fetch.headers.get("authorization"), "Bearer jwks-reader-token");
  EXPECT_EQ(fetch.headers.get("accept"), "application/json");
  ASSERT_TRUE(client_options_.has_value());
  EXPECT_TRUE(client_options_->verify_tls);

  ASSERT_TRUE(idp_->respond(200, jwks_one()));
  ASSERT_EQ(first->count(), 1);
  const AuthResult result = first->get();
  expect_ok(result);
  EXPECT_EQ(result.issuer, kIssuer);
  EXPECT_EQ(result.scopes, (std::vector<std::string>{"models.read", "inference"}));

  // Other tokens signed with a known key: verified against the cached set.
  expect_ok(now(token(keys().one.get(), "k1", "user-2")), "user-2");
  expect_ok(now(token(keys().one.get(), "k1", "user-3")), "user-3");
  EXPECT_EQ(idp_->sent(), 1u);
}

TEST_F(AuthenticatorTest, JwksTokenFileIsReadAtEveryFetch) {
  ::llama_stack::testing::TempDir dir;
  const std::string path = dir.file("token");
  std::ofstream(path) << "projected-token-1\n";
  AuthConfig config = jwks_config();
  config.oauth2.jwks->token_file = path;
  build(config);
  auto first = start(token(keys().one.get(), "k1"));
  ASSERT_EQ(idp_->sent(), 1u);
  EXPECT_EQ(idp_->request(0).headers.get("authorization"), "Bearer projected-token-1");
  ASSERT_TRUE(idp_->respond(200, jwks_one()));
  std::ofstream(path) << "projected-token-2";  // the kubelet rotated it
  clock_.advance(kRecheck + std::chrono::seconds(1));
  start(token(keys().one.get(), "k1"));
  ASSERT_EQ(idp_->sent(), 2u);
  EXPECT_EQ(idp_->request(1).headers.get("authorization"), "Bearer projected-token-2");
}

TEST_F(JwksAuthenticatorTest, RequestsArrivingDuringTheFirstFetchShareIt) {
  std::vector<std::shared_ptr<Outcome>> waiting;
  for (int i = 0; i < 5; ++i) waiting.push_back(start(token(keys().one.get(), "k1")));
  EXPECT_EQ(idp_->sent(), 1u);
  for (auto& outcome : waiting) EXPECT_FALSE(outcome->decided());
  ASSERT_TRUE(idp_->respond(200, jwks_one()));
  for (auto& outcome : waiting) {
    ASSERT_EQ(outcome->count(), 1);
    expect_ok(outcome->get());
  }
  EXPECT_EQ(idp_->sent(), 1u);
}

TEST_F(JwksAuthenticatorTest, AStaleKeySetIsRefreshedInTheBackground) {
  load(jwks_one());
  clock_.advance(kRecheck - 1s);
  expect_ok(now(token(keys().one.get(), "k1")));
  EXPECT_EQ(idp_->sent(), 1u) << "refetched before key_recheck_period";

  clock_.advance(1s);
  // Stale: this request is still decided at once with the keys held, and a
  // refetch starts behind it.
  expect_ok(now(token(keys().one.get(), "k1")));
  EXPECT_EQ(idp_->sent(), 2u);
  expect_ok(now(token(keys().one.get(), "k1")));
  EXPECT_EQ(idp_->sent(), 2u) << "a second refetch while one is in flight";

  // The refetch brings a rotated set: k2 now verifies without another fetch.
  ASSERT_TRUE(idp_->respond(200, jwks_two()));
  expect_ok(now(token(keys().two.get(), "k2")));
  EXPECT_EQ(idp_->sent(), 2u);

  // The period restarts at the successful refetch.
  clock_.advance(kRecheck - 1s);
  expect_ok(now(token(keys().two.get(), "k2")));
  EXPECT_EQ(idp_->sent(), 2u);
  clock_.advance(1s);
  expect_ok(now(token(keys().two.get(), "k2")));
  EXPECT_EQ(idp_->sent(), 3u);
  ASSERT_TRUE(idp_->respond(200, jwks_two()));
}

// ---------------------------------------------------------------------------
// Unknown kid

TEST_F(JwksAuthenticatorTest, AnUnknownKidRefetchesAtMostOncePerInterval) {
  load(jwks_one());  // attempt at t0

  // Within the interval of the last fetch: refused without asking the IdP,
  // however many made-up kids arrive.
  clock_.advance(kUnknownKidRefetchInterval - 1s);
  for (int i = 0; i < 100; ++i) {
    expect_unauthorized(now(token(keys().two.get(), "forged-" + std::to_string(i))), "unknown_kid");
  }
  EXPECT_EQ(idp_->sent(), 1u);

  // Once the interval has passed: one refetch, shared by every request that
  // arrives meanwhile.
  clock_.advance(1s);
  auto rotated = start(token(keys().two.get(), "k2"));
  auto forged = start(token(keys().two.get(), "forged"));
  EXPECT_EQ(idp_->sent(), 2u);
  EXPECT_FALSE(rotated->decided());
  EXPECT_FALSE(forged->decided());
  ASSERT_TRUE(idp_->respond(200, jwks_both()));
  ASSERT_EQ(rotated->count(), 1);
  expect_ok(rotated->get());
  ASSERT_EQ(forged->count(), 1);
  expect_unauthorized(forged->get(), "unknown_kid");

  // And the interval restarts at that refetch.
  for (int i = 0; i < 10; ++i) {
    expect_unauthorized(now(token(keys().two.get(), "forged-again")), "unknown_kid");
  }
  EXPECT_EQ(idp_->sent(), 2u);
  expect_ok(now(token(keys().one.get(), "k1")));  // the known keys still work
}

TEST_F(JwksAuthenticatorTest, AnUnknownKidOnTheFirstFetchDoesNotFetchTwice) {
  auto outcome = start(token(keys().two.get(), "k2"));
  ASSERT_TRUE(idp_->respond(200, jwks_one()));
  ASSERT_EQ(outcome->count(), 1);
  expect_unauthorized(outcome->get(), "unknown_kid");
  EXPECT_EQ(idp_->sent(), 1u);
  EXPECT_EQ(idp_->pending(), 0u);
}

// ---------------------------------------------------------------------------
// Rotation

TEST_F(JwksAuthenticatorTest, RotationAcceptsTheNewKeyAndDropsTheOldOne) {
  const std::string verified_before = token(keys().one.get(), "k1");
  auto first = start(verified_before);
  ASSERT_TRUE(idp_->respond(200, jwks_one()));
  expect_ok(first->get());

  // The IdP rotates k1 out and k2 in; the first k2 token fetches the new set.
  clock_.advance(kUnknownKidRefetchInterval);
  auto rotated = start(token(keys().two.get(), "k2"));
  ASSERT_EQ(idp_->sent(), 2u);
  ASSERT_TRUE(idp_->respond(200, jwks_two()));
  expect_ok(rotated->get());

  // A new token signed with the removed key is refused: at once within the
  // refetch interval, and after a refetch once the interval has passed.
  expect_unauthorized(now(token(keys().one.get(), "k1")), "unknown_kid");
  EXPECT_EQ(idp_->sent(), 2u);
  clock_.advance(kUnknownKidRefetchInterval);
  auto old_key = start(token(keys().one.get(), "k1"));
  ASSERT_EQ(idp_->sent(), 3u);
  ASSERT_TRUE(idp_->respond(200, jwks_two()));
  expect_unauthorized(old_key->get(), "unknown_kid");

  // Results are cached by token until the token's exp: a token verified
  // before the rotation is still accepted, without a fetch.
  expect_ok(now(verified_before));
  EXPECT_EQ(idp_->sent(), 3u);
}

// ---------------------------------------------------------------------------
// Failed fetches

TEST_F(JwksAuthenticatorTest, FailedRefreshesKeepTheLastGoodKeysUntilOneSucceeds) {
  load(jwks_one());
  clock_.advance(kRecheck);
  expect_ok(now(token(keys().one.get(), "k1")));  // starts the background refetch
  ASSERT_EQ(idp_->sent(), 2u);
  ASSERT_TRUE(idp_->fail(http::ClientErrorKind::kConnect, "connection refused"));
  expect_ok(now(token(keys().one.get(), "k1")));  // the last good keys

  // Still stale, so it retries, but no more than once per interval.
  clock_.advance(kUnknownKidRefetchInterval - 1s);
  expect_ok(now(token(keys().one.get(), "k1")));
  EXPECT_EQ(idp_->sent(), 2u);

  // Each kind of bad answer keeps the keys too.
  struct Bad {
    int status;
    std::string body;
  };
  const std::vector<Bad> bad_answers = {
      {500, R"({"error":"internal"})"},
      {404, ""},
      {200, "<html>not json</html>"},
      {200, R"({"no_keys":[]})"},
  };
  std::size_t fetches = 2;
  for (const Bad& bad : bad_answers) {
    clock_.advance(kUnknownKidRefetchInterval);
    expect_ok(now(token(keys().one.get(), "k1")));
    ASSERT_EQ(idp_->sent(), ++fetches) << bad.status << " " << bad.body;
    ASSERT_TRUE(idp_->respond(bad.status, bad.body));
    expect_ok(now(token(keys().one.get(), "k1")));
    expect_unauthorized(now(token(keys().two.get(), "k2")), "unknown_kid");
  }

  // The IdP is back: the next refetch installs its set, and it is fresh again.
  clock_.advance(kUnknownKidRefetchInterval);
  expect_ok(now(token(keys().one.get(), "k1")));
  ASSERT_EQ(idp_->sent(), ++fetches);
  ASSERT_TRUE(idp_->respond(200, jwks_both()));
  expect_ok(now(token(keys().two.get(), "k2")));
  clock_.advance(kRecheck - 1s);
  expect_ok(now(token(keys().two.get(), "k2")));
  EXPECT_EQ(idp_->sent(), fetches);
}

TEST_F(JwksAuthenticatorTest, WithoutAnyKeysAFailedFetchIsUnavailableAndALaterOneRecovers) {
  auto first = start(token(keys().one.get(), "k1"));
  auto second = start(token(keys().one.get(), "k1"));
  ASSERT_EQ(idp_->sent(), 1u);
  ASSERT_TRUE(idp_->fail(http::ClientErrorKind::kTimeout, "read timeout"));
  for (auto* outcome : {&first, &second}) {
    ASSERT_EQ((*outcome)->count(), 1);
    const AuthResult result = (*outcome)->get();
    EXPECT_EQ(result.status, AuthResult::Status::kUnavailable);  // 503, never "allow"
    EXPECT_EQ(result.reason, "jwks_unavailable");
  }

  clock_.advance(kUnknownKidRefetchInterval);
  auto later = start(token(keys().one.get(), "k1"));
  ASSERT_EQ(idp_->sent(), 2u);
  ASSERT_TRUE(idp_->respond(200, jwks_one()));
  ASSERT_EQ(later->count(), 1);
  expect_ok(later->get());
}

TEST_F(JwksAuthenticatorTest, WhileTheIdpIsDownWithoutKeysFetchesAreRateLimited) {
  auto first = start(token(keys().one.get(), "k1"));
  ASSERT_TRUE(idp_->fail(http::ClientErrorKind::kConnect, "connection refused"));
  ASSERT_EQ(first->get().status, AuthResult::Status::kUnavailable);
  // Within the interval: 503 at once, no new fetch per request.
  for (int i = 0; i < 50; ++i) {
    const AuthResult result = now(token(keys().one.get(), "k1"));
    EXPECT_EQ(result.status, AuthResult::Status::kUnavailable);
    EXPECT_EQ(result.reason, "jwks_unavailable");
  }
  EXPECT_EQ(idp_->sent(), 1u);
  clock_.advance(kNoKeysRefetchInterval);
  auto retry = start(token(keys().one.get(), "k1"));
  ASSERT_EQ(idp_->sent(), 2u);
  ASSERT_TRUE(idp_->respond(200, jwks_one()));
  expect_ok(retry->get());
}

TEST_F(JwksAuthenticatorTest, AnEmptyKeySetDoesNotReplaceTheLastGoodKeys) {
  load(jwks_one());
  clock_.advance(kRecheck);
  expect_ok(now(token(keys().one.get(), "k1")));  // starts the background refetch
  ASSERT_EQ(idp_->sent(), 2u);
  ASSERT_TRUE(idp_->respond(200, R"({"keys":[]})"));
  expect_ok(now(token(keys().one.get(), "k1")));
}

// ---------------------------------------------------------------------------
// Concurrency

// Many threads validate while a refetch is in flight: tokens with a known
// kid are decided at once from the keys held, tokens with the new kid all
// wait for that one refetch, and each call reports exactly once.
TEST_F(JwksAuthenticatorTest, ConcurrentValidationsDuringARefresh) {
  load(jwks_one());
  clock_.advance(kUnknownKidRefetchInterval);
  auto trigger = start(token(keys().two.get(), "k2"));
  ASSERT_EQ(idp_->sent(), 2u);

  constexpr int kThreads = 8;
  constexpr int kPerThread = 20;
  std::vector<std::vector<std::string>> known(kThreads), rotated(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    for (int i = 0; i < kPerThread; ++i) {
      known[t].push_back(token(keys().one.get(), "k1", "known-" + std::to_string(t)));
      rotated[t].push_back(token(keys().two.get(), "k2", "rotated-" + std::to_string(t)));
    }
  }
  std::vector<std::vector<std::shared_ptr<Outcome>>> known_outcomes(kThreads),
      rotated_outcomes(kThreads);
  std::atomic<int> known_not_at_once{0};
  std::latch go(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      go.arrive_and_wait();
      for (int i = 0; i < kPerThread; ++i) {
        auto outcome = start(known[t][i]);
        if (!outcome->decided()) ++known_not_at_once;
        known_outcomes[t].push_back(std::move(outcome));
        rotated_outcomes[t].push_back(start(rotated[t][i]));
      }
    });
  }
  for (auto& thread : threads) thread.join();

  EXPECT_EQ(known_not_at_once.load(), 0) << "known keys waited for the refetch";
  EXPECT_EQ(idp_->sent(), 2u) << "the waiting tokens did not share the refetch";
  for (int t = 0; t < kThreads; ++t) {
    for (auto& outcome : known_outcomes[t]) {
      ASSERT_EQ(outcome->count(), 1);
      expect_ok(outcome->get(), "known-" + std::to_string(t));
    }
    for (auto& outcome : rotated_outcomes[t]) EXPECT_FALSE(outcome->decided());
  }

  ASSERT_TRUE(idp_->respond(200, jwks_both()));
  expect_ok(trigger->get());
  for (int t = 0; t < kThreads; ++t) {
    for (auto& outcome : rotated_outcomes[t]) {
      ASSERT_EQ(outcome->count(), 1);
      expect_ok(outcome->get(), "rotated-" + std::to_string(t));
    }
  }
  EXPECT_EQ(idp_->sent(), 2u);
}

// ---------------------------------------------------------------------------
// Token checks after the key is found

TEST_F(JwksAuthenticatorTest, SignatureAndClaimsAreCheckedWithTheFetchedKeys) {
  // A malformed token is refused before any fetch.
  expect_unauthorized(now("not-a-jwt"), "malformed");
  EXPECT_EQ(idp_->sent(), 0u);

  load(jwks_both());
  const std::int64_t t = unix_now();
  json::object expired = claims("user-1");
  expired["exp"] = t - 3600;
  expect_unauthorized(now(token(keys().one.get(), "k1", expired)), "expired");
  // Not cached: refused again, the same way.
  expect_unauthorized(now(token(keys().one.get(), "k1", expired)), "expired");

  json::object other_issuer = claims("user-1");
  other_issuer["iss"] = "https://evil.example";
  expect_unauthorized(now(token(keys().one.get(), "k1", other_issuer)), "wrong_issuer");

  json::object other_audience = claims("user-1");
  other_audience["aud"] = "someone-else";
  expect_unauthorized(now(token(keys().one.get(), "k1", other_audience)), "wrong_audience");

  json::object no_subject = claims("user-1");
  no_subject.erase("sub");
  expect_unauthorized(now(token(keys().one.get(), "k1", no_subject)), "missing_sub");

  // Signed by k2's private key, claiming k1.
  expect_unauthorized(now(token(keys().two.get(), "k1")), "bad_signature");
  EXPECT_EQ(idp_->sent(), 1u);
}

// ---------------------------------------------------------------------------
// Introspection and custom endpoints

TEST_F(AuthenticatorTest, IntrospectionReportsAnUnreachableEndpointAsUnavailable) {
  AuthConfig config;
  config.type = "oauth2_token";
  config.oauth2.introspection =
      IntrospectionConfig{"https://idp.example/introspect", "client", "secret", false};
  build(config);

  auto down = start("opaque-token-1");
  ASSERT_TRUE(idp_->fail());
  ASSERT_EQ(down->count(), 1);
  EXPECT_EQ(down->get().status, AuthResult::Status::kUnavailable);
  EXPECT_EQ(down->get().reason, "idp_unreachable");

  auto error = start("opaque-token-2");
  ASSERT_TRUE(idp_->respond(500, "oops"));
  expect_unauthorized(error->get(), "introspection_failed");

  auto inactive = start("opaque-token-3");
  ASSERT_TRUE(idp_->respond(200, R"({"active":false})"));
  expect_unauthorized(inactive->get(), "inactive");

  auto active = start("opaque-token-4");
  ASSERT_TRUE(idp_->respond(200, R"({"active":true,"sub":"alice","scope":"inference","exp":)" +
                                     std::to_string(unix_now() + 600) + "}"));
  expect_ok(active->get(), "alice");
  // Cached until exp: no second introspection call.
  expect_ok(now("opaque-token-4"), "alice");
  EXPECT_EQ(idp_->sent(), 4u);
  EXPECT_EQ(idp_->request(0).method, "POST");
  EXPECT_EQ(idp_->request(0).body, "token=opaque-token-1");
}

// Found by fuzz_auth_answers: an "exp" beyond int64 was undefined behaviour.
TEST_F(AuthenticatorTest, IntrospectionAcceptsAnExpBeyondInt64) {
  AuthConfig config;
  config.type = "oauth2_token";
  config.oauth2.introspection =
      IntrospectionConfig{"https://idp.example/introspect", "client", "secret", false};
  build(config);
  auto active = start("opaque-token-huge-exp");
  ASSERT_TRUE(idp_->respond(200, R"({"active":true,"sub":"alice","exp":18999999467440737095599})"));
  expect_ok(active->get(), "alice");
}

TEST_F(AuthenticatorTest, CustomEndpointDownIsUnavailableAndARefusalIsUnauthorized) {
  AuthConfig config;
  config.type = "custom";
  config.custom.endpoint = "https://auth.example/check";
  build(config);

  auto down = start("key-1");
  ASSERT_TRUE(idp_->fail(http::ClientErrorKind::kReset, "connection reset"));
  ASSERT_EQ(down->count(), 1);
  EXPECT_EQ(down->get().status, AuthResult::Status::kUnavailable);
  EXPECT_EQ(down->get().reason, "idp_unreachable");

  auto refused = start("key-2");
  ASSERT_TRUE(idp_->respond(403, R"({"detail":"no"})"));
  expect_unauthorized(refused->get(), "rejected");

  auto accepted = start("key-3");
  ASSERT_TRUE(idp_->respond(200, R"({"principal":"bob","attributes":{"roles":["admin"]}})"));
  const AuthResult result = accepted->get();
  expect_ok(result, "bob");
  EXPECT_EQ(to_json(result.user.attributes), R"({"roles":["admin"]})");

  // cache_ttl 0: every request asks the endpoint.
  auto again = start("key-3");
  EXPECT_FALSE(again->decided());
  ASSERT_TRUE(idp_->respond(200, R"({"principal":"bob"})"));
  EXPECT_EQ(idp_->sent(), 4u);
  const json::value payload = parse_json(idp_->request(0).body);
  EXPECT_EQ(payload.at("api_key").as_string(), "key-1");
}

}  // namespace
}  // namespace llama_stack::auth
