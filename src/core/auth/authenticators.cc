// The three authenticators: oauth2_token with JWKS (local JWT verification
// with cached keys), oauth2_token with RFC 7662 introspection, and custom
// (delegated API keys). Results are cached by token hash, never by token.
#include <openssl/evp.h>

#include <cctype>
#include <chrono>
#include <deque>
#include <fstream>
#include <iterator>
#include <mutex>
#include <unordered_map>

#include "core/auth/authenticator.h"
#include "core/auth/jwt.h"
#include "core/http/http_client.h"
#include "core/log/log.h"
#include "core/util/json.h"

namespace llama_stack::auth {
namespace {

using Clock = std::chrono::steady_clock;

std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// A bounded cache of authentication results keyed by token hash; entries
// expire at an absolute unix time. FIFO eviction when full.
class ResultCache {
 public:
  explicit ResultCache(std::size_t capacity) : capacity_(capacity) {}

  std::optional<AuthResult> get(const std::string& key) {
    std::lock_guard lock(mutex_);
    auto it = entries_.find(key);
    if (it == entries_.end()) return std::nullopt;
    if (it->second.expires_at <= unix_now()) {
      entries_.erase(it);
      return std::nullopt;
    }
    return it->second.result;
  }

  void put(const std::string& key, const AuthResult& result, std::int64_t expires_at) {
    if (capacity_ == 0 || expires_at <= unix_now()) return;
    std::lock_guard lock(mutex_);
    if (entries_.count(key) == 0) {
      while (entries_.size() >= capacity_ && !order_.empty()) {
        entries_.erase(order_.front());
        order_.pop_front();
      }
      order_.push_back(key);
    }
    entries_[key] = Entry{result, expires_at};
  }

 private:
  struct Entry {
    AuthResult result;
    std::int64_t expires_at;
  };
  std::size_t capacity_;
  std::mutex mutex_;
  std::unordered_map<std::string, Entry> entries_;
  std::deque<std::string> order_;
};

http::ClientOptions client_options(bool verify, const std::optional<std::string>& ca,
                                   std::chrono::seconds timeout) {
  http::ClientOptions o;
  o.verify_tls = verify;
  o.ca_file = ca;
  o.connect_timeout = timeout;
  o.read_timeout = timeout;
  return o;
}

AuthResult user_from_claims(const json::object& claims, const OAuth2Config& config) {
  AuthResult result;
  result.status = AuthResult::Status::kOk;
  auto str = [&](std::string_view key) -> std::string {
    auto it = claims.find(key);
    return it != claims.end() && it->value().is_string() ? std::string(it->value().get_string())
                                                         : "";
  };
  result.user.principal = str("sub");
  if (result.user.principal.empty()) result.user.principal = str("username");
  result.user.attributes = attributes_from_claims(claims, config.claims_mapping);
  result.scopes = scopes_from_claims(claims);
  result.issuer = str("iss");
  return result;
}

std::string form_encode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xF]);
    }
  }
  return out;
}

// The shared path of every authenticator: results are cached by the token's
// SHA-256 (never the token); only a miss reaches verify().
class CachingAuthenticator : public Authenticator {
 public:
  explicit CachingAuthenticator(std::size_t cache_size) : cache_(cache_size) {}

  void authenticate(const std::string& token, const http::HttpRequest& request,
                    std::function<void(AuthResult)> done) final {
    const std::string key = sha256_hex(token);
    if (auto cached = cache_.get(key)) {
      done(*cached);
      return;
    }
    verify(token, key, request, std::move(done));
  }

 protected:
  // Decides on a token that is not cached; `cache_key` is its hash.
  virtual void verify(const std::string& token, const std::string& cache_key,
                      const http::HttpRequest& request, std::function<void(AuthResult)> done) = 0;
  // Caches a positive result until `expires_at` (unix seconds).
  void remember(const std::string& cache_key, const AuthResult& result, std::int64_t expires_at) {
    cache_.put(cache_key, result, expires_at);
  }

 private:
  ResultCache cache_;
};

// ------------------------------------------------------------------ JWKS

class JwksAuthenticator final : public CachingAuthenticator {
 public:
  JwksAuthenticator(const AuthConfig& config, const AuthenticatorDeps& deps)
      : CachingAuthenticator(config.oauth2.cache_size),
        config_(config.oauth2),
        max_token_bytes_(config.max_token_bytes),
        client_(deps.make_client(
            client_options(config_.verify_tls, config_.tls_cafile, config_.timeout))),
        now_(deps.steady_now ? deps.steady_now : std::function<Clock::time_point()>(Clock::now)) {}

 protected:
  void verify(const std::string& token, const std::string& key, const http::HttpRequest&,
              std::function<void(AuthResult)> done) override {
    auto decoded = decode_jwt(token, max_token_bytes_);
    if (auto* error = std::get_if<JwtError>(&decoded)) {
      done(AuthResult::unauthorized(std::string(to_string(error->kind)), error->message));
      return;
    }
    auto jwt = std::make_shared<Jwt>(std::move(std::get<Jwt>(decoded)));
    with_keys(false, [this, jwt, key, done = std::move(done)](std::shared_ptr<const JwkSet> keys) {
      if (!keys) {
        done(AuthResult::unavailable(
            "jwks_unavailable",
            "Cannot verify the token: the identity provider's keys are unavailable"));
        return;
      }
      if (keys->find(jwt->kid) != nullptr) {
        finish(*jwt, *keys, key, done);
        return;
      }
      // Unknown kid: the provider may have rotated keys. One rate-limited refetch.
      with_keys(true, [this, jwt, key, done](std::shared_ptr<const JwkSet> fresh) {
        if (!fresh || fresh->find(jwt->kid) == nullptr) {
          done(AuthResult::unauthorized("unknown_kid", "Token signed with an unknown key"));
          return;
        }
        finish(*jwt, *fresh, key, done);
      });
    });
  }

 private:
  void finish(const Jwt& jwt, const JwkSet& keys, const std::string& cache_key,
              const std::function<void(AuthResult)>& done) {
    const Jwk* jwk = keys.find(jwt.kid);
    if (auto error = verify_signature(jwt, *jwk)) {
      done(AuthResult::unauthorized(std::string(to_string(error->kind)), error->message));
      return;
    }
    ClaimRules rules;
    rules.issuer = config_.issuer;
    rules.audience = config_.audience;
    rules.leeway = config_.leeway;
    if (auto error = validate_claims(jwt.payload, rules, unix_now())) {
      done(AuthResult::unauthorized(std::string(to_string(error->kind)), error->message));
      return;
    }
    AuthResult result = user_from_claims(jwt.payload, config_);
    if (result.user.principal.empty()) {
      done(AuthResult::unauthorized("missing_sub", "Token has no 'sub' claim"));
      return;
    }
    std::int64_t exp = 0;
    if (auto it = jwt.payload.find("exp"); it != jwt.payload.end() && it->value().is_number()) {
      exp = saturated_int64(it->value());
    }
    remember(cache_key, result, exp);
    done(std::move(result));
  }

  // Calls `next` with the current keys, fetching them first when there are
  // none yet, or when `refresh` (at most one fetch per
  // kUnknownKidRefetchInterval). A stale set (older than key_recheck_period)
  // is refreshed in the background.
  void with_keys(bool refresh, std::function<void(std::shared_ptr<const JwkSet>)> next) {
    std::unique_lock lock(mutex_);
    const auto now = now_();
    const bool have = keys_ != nullptr;
    const bool rate_ok = now - last_attempt_ >= kUnknownKidRefetchInterval || !attempted_;
    if (have && !refresh) {
      auto keys = keys_;
      const bool stale = now - last_success_ >= config_.jwks->key_recheck_period;
      if (stale && !fetching_ && rate_ok) start_fetch_locked();
      lock.unlock();
      next(keys);
      return;
    }
    if (refresh && !rate_ok && !fetching_) {
      auto keys = keys_;
      lock.unlock();
      next(keys);
      return;
    }
    // No keys yet and the last fetch failed moments ago: 503 at once rather
    // than one fetch per request (anonymous clients must not be able to make
    // us hammer the identity provider while it is down).
    if (!have && attempted_ && !fetching_ && now - last_attempt_ < kNoKeysRefetchInterval) {
      lock.unlock();
      next(nullptr);
      return;
    }
    waiters_.push_back(std::move(next));
    if (!fetching_) start_fetch_locked();
  }

  // The bearer token for the JWKS GET: the token file's current content
  // (a small local file, read once per fetch), else `token`.
  std::string jwks_token() const {
    if (config_.jwks->token_file) {
      std::ifstream in(*config_.jwks->token_file, std::ios::binary);
      std::string token((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      while (!token.empty() && std::isspace(static_cast<unsigned char>(token.back()))) {
        token.pop_back();
      }
      if (!in && token.empty()) {
        LS_WARN(kAuth, "jwks.token_file '{}' cannot be read; fetching the key set without it",
                *config_.jwks->token_file);
      }
      return token;
    }
    return config_.jwks->token.value_or("");
  }

  void start_fetch_locked() {
    fetching_ = true;
    attempted_ = true;
    last_attempt_ = now_();
    http::ClientRequest request;
    request.url = config_.jwks->uri;
    if (const std::string token = jwks_token(); !token.empty()) {
      request.headers.set("authorization", "Bearer " + token);
    }
    request.headers.set("accept", "application/json");
    client_->fetch(
        std::move(request), [this](http::ClientResult r) { on_fetched(std::move(r)); },
        4 * 1024 * 1024);
  }

  void on_fetched(http::ClientResult r) {
    std::shared_ptr<const JwkSet> parsed;
    if (r.error) {
      LS_WARN(kAuth, "JWKS fetch from {} failed: {}; keeping the last good keys", config_.jwks->uri,
              r.error->message);
    } else if (r.status != 200) {
      LS_WARN(kAuth, "JWKS fetch from {} returned {}; keeping the last good keys",
              config_.jwks->uri, r.status);
    } else {
      try {
        parsed = std::make_shared<const JwkSet>(JwkSet::parse(r.body));
        std::lock_guard lock(mutex_);
        if (parsed->size() == 0 && keys_ != nullptr) {
          // An empty set would lock every caller out; treat it as a failed fetch.
          LS_WARN(kAuth, "JWKS from {} holds no usable key; keeping the last good keys",
                  config_.jwks->uri);
          parsed = nullptr;
        }
        if (parsed) {
          LS_INFO(kAuth, "JWKS from {}: {} key(s), {} skipped", config_.jwks->uri, parsed->size(),
                  parsed->skipped());
        }
      } catch (const std::exception& e) {
        LS_WARN(kAuth, "JWKS from {} is invalid ({}); keeping the last good keys",
                config_.jwks->uri, e.what());
      }
    }
    std::vector<std::function<void(std::shared_ptr<const JwkSet>)>> waiters;
    std::shared_ptr<const JwkSet> keys;
    {
      std::lock_guard lock(mutex_);
      if (parsed) {
        keys_ = parsed;
        last_success_ = now_();
      }
      fetching_ = false;
      keys = keys_;
      waiters.swap(waiters_);
    }
    for (auto& w : waiters) w(keys);
  }

  OAuth2Config config_;
  std::size_t max_token_bytes_;
  std::shared_ptr<http::HttpClient> client_;
  std::function<Clock::time_point()> now_;
  std::mutex mutex_;
  std::shared_ptr<const JwkSet> keys_;
  bool fetching_ = false;
  bool attempted_ = false;
  Clock::time_point last_attempt_{};
  Clock::time_point last_success_{};
  std::vector<std::function<void(std::shared_ptr<const JwkSet>)>> waiters_;
};

// ------------------------------------------------------------------ introspection

class IntrospectionAuthenticator final : public CachingAuthenticator {
 public:
  IntrospectionAuthenticator(const AuthConfig& config, const AuthenticatorDeps& deps)
      : CachingAuthenticator(config.oauth2.cache_size),
        config_(config.oauth2),
        client_(deps.make_client(
            client_options(config_.verify_tls, config_.tls_cafile, config_.timeout))) {}

 protected:
  void verify(const std::string& token, const std::string& key, const http::HttpRequest&,
              std::function<void(AuthResult)> done) override {
    const auto& in = *config_.introspection;
    http::ClientRequest request;
    request.method = "POST";
    request.url = in.url;
    request.headers.set("content-type", "application/x-www-form-urlencoded");
    request.headers.set("accept", "application/json");
    request.body = "token=" + form_encode(token);
    if (in.send_secret_in_body) {
      request.body += "&client_id=" + form_encode(in.client_id) +
                      "&client_secret=" + form_encode(in.client_secret);
    } else {
      request.headers.set("authorization",
                          "Basic " + base64_encode(form_encode(in.client_id) + ":" +
                                                   form_encode(in.client_secret)));
    }
    client_->fetch(std::move(request), [this, key, done = std::move(done)](http::ClientResult r) {
      if (r.error) {
        LS_WARN(kAuth, "token introspection at {} failed: {}", config_.introspection->url,
                r.error->message);
        done(AuthResult::unavailable("idp_unreachable", "Token introspection is unavailable"));
        return;
      }
      if (r.status != 200) {
        done(AuthResult::unauthorized("introspection_failed", "Token introspection failed"));
        return;
      }
      json::object claims;
      try {
        claims = parse_json(r.body).as_object();
      } catch (const std::exception&) {
        done(AuthResult::unauthorized("introspection_failed", "Token introspection failed"));
        return;
      }
      auto active = claims.find("active");
      if (active == claims.end() || !active->value().is_bool() || !active->value().get_bool()) {
        done(AuthResult::unauthorized("inactive", "Token is not active"));
        return;
      }
      if (config_.issuer) {
        auto iss = claims.find("iss");
        if (iss != claims.end() && iss->value().is_string() &&
            iss->value().get_string() != *config_.issuer) {
          done(AuthResult::unauthorized("wrong_issuer", "Token issuer does not match"));
          return;
        }
      }
      AuthResult result = user_from_claims(claims, config_);
      if (result.user.principal.empty()) {
        done(AuthResult::unauthorized("missing_sub", "Introspection returned no subject"));
        return;
      }
      if (auto exp = claims.find("exp"); exp != claims.end() && exp->value().is_number()) {
        remember(key, result, saturated_int64(exp->value()));
      }
      done(std::move(result));
    });
  }

 private:
  OAuth2Config config_;
  std::shared_ptr<http::HttpClient> client_;
};

// ------------------------------------------------------------------ custom

class CustomAuthenticator final : public CachingAuthenticator {
 public:
  CustomAuthenticator(const AuthConfig& config, const AuthenticatorDeps& deps)
      : CachingAuthenticator(config.custom.cache_ttl.count() > 0 ? 10'000 : 0),
        config_(config.custom),
        client_(deps.make_client(
            client_options(config_.verify_tls, config_.tls_cafile, config_.timeout))) {}

 protected:
  void verify(const std::string& token, const std::string& key, const http::HttpRequest& request,
              std::function<void(AuthResult)> done) override {
    // The payload Llama Stack defines: the key, and the request it came with.
    json::object headers;
    for (const auto& [name, value] : request.headers.entries()) {
      // Not the credential itself, and not the per-request provider keys.
      if (name == "authorization" || name == "x-llamastack-provider-data") continue;
      headers[name] = value;  // names are lower-case already
    }
    json::object params;
    for (const auto& [name, value] : request.query) {
      auto it = params.find(name);
      if (it == params.end()) {
        params[name] = json::array{json::value(value)};
      } else {
        it->value().as_array().emplace_back(value);
      }
    }
    json::object payload{{"api_key", token},
                         {"request", json::object{{"path", request.path},
                                                  {"headers", std::move(headers)},
                                                  {"params", std::move(params)}}}};
    http::ClientRequest call;
    call.method = "POST";
    call.url = config_.endpoint;
    call.headers.set("content-type", "application/json");
    call.body = to_json(payload);
    client_->fetch(std::move(call), [this, key, done = std::move(done)](http::ClientResult r) {
      if (r.error) {
        LS_WARN(kAuth, "custom auth endpoint {} failed: {}", config_.endpoint, r.error->message);
        done(AuthResult::unavailable("idp_unreachable",
                                     "The authentication endpoint is unavailable"));
        return;
      }
      if (r.status != 200) {
        done(AuthResult::unauthorized("rejected",
                                      "Authentication failed: " + std::to_string(r.status)));
        return;
      }
      AuthResult result;
      result.status = AuthResult::Status::kOk;
      const std::string token_id = "api-key:" + key.substr(0, 16);
      json::object body;
      try {
        json::value parsed = parse_json(r.body);
        if (parsed.is_object()) body = parsed.get_object();
      } catch (const std::exception&) {
      }
      if (auto p = body.find("principal");
          p != body.end() && p->value().is_string() && !p->value().get_string().empty()) {
        result.user.principal = p->value().get_string();
      } else {
        result.user.principal = token_id;
      }
      for (std::string_view field : {"attributes", "access_attributes"}) {
        auto a = body.find(field);
        if (a == body.end() || !a->value().is_object()) continue;
        for (const auto& kv : a->value().get_object()) {
          if (kv.value().is_array()) {
            json::array values;
            for (const auto& v : kv.value().get_array()) {
              if (v.is_string()) values.push_back(v);
            }
            result.user.attributes[kv.key()] = std::move(values);
          } else if (kv.value().is_string()) {
            result.user.attributes[kv.key()] = json::array{kv.value()};
          }
        }
        break;
      }
      // "If no access attributes are returned, the token is used as a namespace":
      // we use the token's hash, so that no secret is ever stored with resources.
      if (result.user.attributes.empty()) {
        result.user.attributes["namespaces"] = json::array{json::value(token_id)};
      }
      if (config_.cache_ttl.count() > 0)
        remember(key, result, unix_now() + config_.cache_ttl.count());
      done(std::move(result));
    });
  }

 private:
  CustomAuthConfig config_;
  std::shared_ptr<http::HttpClient> client_;
};

}  // namespace

std::string sha256_hex(std::string_view text) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(text.data(), text.size(), digest, &length, EVP_sha256(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < length; ++i) {
    out.push_back(kHex[digest[i] >> 4]);
    out.push_back(kHex[digest[i] & 0xF]);
  }
  return out;
}

json::object attributes_from_claims(
    const json::object& claims, const std::vector<std::pair<std::string, std::string>>& mapping) {
  json::object attributes;
  for (const auto& entry : mapping) {
    const std::string& attribute = entry.second;  // not a structured binding: lambdas capture it
    auto it = claims.find(entry.first);
    if (it == claims.end()) continue;
    auto add = [&](std::string_view value) {
      if (value.empty()) return;
      auto& list = attributes[attribute];
      if (!list.is_array()) list = json::array{};
      for (const auto& existing : list.get_array()) {
        if (existing.is_string() && existing.get_string() == value) return;
      }
      list.as_array().emplace_back(value);
    };
    const json::value& v = it->value();
    if (v.is_array()) {
      for (const auto& item : v.get_array()) {
        if (item.is_string()) add(item.get_string());
      }
    } else if (v.is_string()) {
      std::string_view s = v.get_string();
      std::size_t pos = 0;
      while (pos < s.size()) {
        while (pos < s.size() && std::isspace(static_cast<unsigned char>(s[pos]))) ++pos;
        std::size_t end = pos;
        while (end < s.size() && !std::isspace(static_cast<unsigned char>(s[end]))) ++end;
        add(s.substr(pos, end - pos));
        pos = end;
      }
    }
  }
  return attributes;
}

std::vector<std::string> scopes_from_claims(const json::object& claims) {
  std::vector<std::string> scopes;
  auto add_words = [&](std::string_view s) {
    std::size_t pos = 0;
    while (pos < s.size()) {
      while (pos < s.size() && s[pos] == ' ') ++pos;
      std::size_t end = s.find(' ', pos);
      if (end == std::string_view::npos) end = s.size();
      if (end > pos) scopes.emplace_back(s.substr(pos, end - pos));
      pos = end;
    }
  };
  if (auto it = claims.find("scope"); it != claims.end() && it->value().is_string()) {
    add_words(it->value().get_string());
  }
  if (auto it = claims.find("scp"); it != claims.end()) {
    if (it->value().is_array()) {
      for (const auto& v : it->value().get_array()) {
        if (v.is_string()) scopes.emplace_back(v.get_string());
      }
    } else if (it->value().is_string()) {
      add_words(it->value().get_string());
    }
  }
  return scopes;
}

std::unique_ptr<Authenticator> make_authenticator(const AuthConfig& config, IoRuntime& runtime) {
  AuthenticatorDeps deps;
  deps.make_client = [&runtime](const http::ClientOptions& options) {
    return http::HttpClient::create(runtime, options);
  };
  return make_authenticator(config, std::move(deps));
}

std::unique_ptr<Authenticator> make_authenticator(const AuthConfig& config,
                                                  AuthenticatorDeps deps) {
  if (config.type == "custom") return std::make_unique<CustomAuthenticator>(config, deps);
  if (config.oauth2.introspection)
    return std::make_unique<IntrospectionAuthenticator>(config, deps);
  return std::unique_ptr<Authenticator>(new JwksAuthenticator(config, deps));
}

}  // namespace llama_stack::auth
