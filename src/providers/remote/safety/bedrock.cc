// remote::bedrock: Amazon Bedrock Guardrails shields through the Bedrock
// Runtime ApplyGuardrail API, signed with AWS Signature Version 4
// (providers/utils/aws_sigv4.h) — no AWS SDK.
#include "providers/remote/safety/bedrock.h"

#include <boost/url/parse.hpp>

#include <chrono>
#include <cmath>

#include "core/config/config_node.h"
#include "core/http/http_client.h"
#include "core/util/api_error.h"
#include "core/util/message_text.h"
#include "core/util/url.h"
#include "llama_stack/async/bridge.h"
#include "llama_stack/async/when_all.h"
#include "llama_stack/providers/provider.h"
#include "providers/utils/aws_sigv4.h"
#include "providers/utils/upstream.h"

namespace llama_stack::providers::remote {
namespace {

using config::ConfigNode;
using config::Diagnostics;
using config::MapReader;

struct BedrockConfig {
  utils::AwsCredentials credentials;
  std::string region = "us-east-1";
  std::string endpoint;  // https://bedrock-runtime.<region>.amazonaws.com, or endpoint_url
  std::int64_t connect_timeout = 60;
  std::int64_t read_timeout = 60;

  // Config keys first, then the standard AWS environment variables.
  static BedrockConfig parse(const ConfigNode& node, Diagnostics& diagnostics,
                             const config::EnvLookup& env) {
    BedrockConfig c;
    MapReader r(node, diagnostics);
    auto pick = [&](const char* key, const char* variable) {
      std::optional<std::string> v = r.string(key);
      if ((!v || v->empty()) && variable != nullptr) v = env(variable);
      return v.value_or("");
    };
    c.credentials.access_key_id = pick("aws_access_key_id", "AWS_ACCESS_KEY_ID");
    c.credentials.secret_access_key = pick("aws_secret_access_key", "AWS_SECRET_ACCESS_KEY");
    c.credentials.session_token = pick("aws_session_token", "AWS_SESSION_TOKEN");
    std::string region = pick("region_name", "AWS_DEFAULT_REGION");
    if (region.empty()) region = env("AWS_REGION").value_or("");
    if (!region.empty()) c.region = region;
    c.connect_timeout = r.integer("connect_timeout", 1, 3600).value_or(c.connect_timeout);
    c.read_timeout = r.integer("read_timeout", 1, 3600).value_or(c.read_timeout);
    // Llama Stack's BedrockBaseConfig keys that have no effect here.
    r.accept({"profile_name", "total_max_attempts", "retry_mode", "session_ttl"});
    if (const auto* profile = node.find("profile_name");
        profile != nullptr && !profile->is_null() && !profile->scalar.empty()) {
      diagnostics.warning(*profile,
                          "profile_name is not supported (no shared credentials files are "
                          "read): give aws_access_key_id and aws_secret_access_key");
    }
    const std::optional<std::string> endpoint = r.string("endpoint_url");
    if (endpoint && !endpoint->empty()) {
      if (auto e = check_http_url(*endpoint)) diagnostics.error(*node.find("endpoint_url"), *e);
      c.endpoint = *endpoint;
    } else {
      c.endpoint = "https://bedrock-runtime." + c.region + ".amazonaws.com";
    }
    while (!c.endpoint.empty() && c.endpoint.back() == '/') c.endpoint.pop_back();
    if (c.credentials.access_key_id.empty() || c.credentials.secret_access_key.empty()) {
      diagnostics.error(node,
                        "remote::bedrock needs AWS credentials: aws_access_key_id and "
                        "aws_secret_access_key (or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)");
    }
    r.finish();
    return c;
  }
};

// The score of a content filter's confidence.
double confidence_score(std::string_view confidence) {
  if (confidence == "HIGH") return 1.0;
  if (confidence == "MEDIUM") return 2.0 / 3.0;
  if (confidence == "LOW") return 1.0 / 3.0;
  return 0.0;  // NONE
}

const json::array* array_at(const json::object& o, std::string_view key) {
  const auto* v = json_field(o, key);
  return v != nullptr && v->is_array() ? &v->get_array() : nullptr;
}

std::string string_at(const json::object& o, std::string_view key) {
  const auto* v = json_field(o, key);
  return v != nullptr && v->is_string() ? std::string(v->get_string()) : std::string();
}

}  // namespace

BedrockVerdict bedrock_verdict(const json::object& response) {
  BedrockVerdict out;
  const std::string action = string_at(response, "action");
  if (action != "GUARDRAIL_INTERVENED") return out;
  out.intervened = true;
  if (const auto* outputs = array_at(response, "outputs")) {
    for (const auto& o : *outputs) {  // as Llama Stack: the last output's text
      if (const auto* obj = o.if_object()) out.user_message = string_at(*obj, "text");
    }
  }
  auto flag = [&](std::string code, double score) {
    auto [it, inserted] = out.scores.emplace(code, score);
    if (!inserted) it->second = std::max(it->second, score);
  };
  auto acted = [](const json::object& item) {
    const std::string a = string_at(item, "action");
    return a.empty() || a != "NONE";
  };
  if (const auto* assessments = array_at(response, "assessments")) {
    for (const auto& a : *assessments) {
      const auto* assessment = a.if_object();
      if (assessment == nullptr) continue;
      out.assessment = *assessment;  // as Llama Stack: the last assessment is the metadata
      auto policy = [&](std::string_view key) -> const json::object* {
        const auto* p = json_field(*assessment, key);
        return p != nullptr && p->is_object() ? &p->get_object() : nullptr;
      };
      if (const auto* p = policy("contentPolicy")) {
        if (const auto* filters = array_at(*p, "filters")) {
          for (const auto& f : *filters) {
            const auto* filter = f.if_object();
            if (filter != nullptr && acted(*filter)) {
              flag(string_at(*filter, "type"), confidence_score(string_at(*filter, "confidence")));
            }
          }
        }
      }
      if (const auto* p = policy("topicPolicy")) {
        if (const auto* topics = array_at(*p, "topics")) {
          for (const auto& t : *topics) {
            const auto* topic = t.if_object();
            if (topic != nullptr && acted(*topic)) flag("TOPIC:" + string_at(*topic, "name"), 1.0);
          }
        }
      }
      if (const auto* p = policy("wordPolicy")) {
        for (const char* list : {"customWords", "managedWordLists"}) {
          if (const auto* words = array_at(*p, list)) {
            for (const auto& w : *words) {
              const auto* word = w.if_object();
              if (word != nullptr && acted(*word)) flag("WORDS", 1.0);
            }
          }
        }
      }
      if (const auto* p = policy("sensitiveInformationPolicy")) {
        if (const auto* entities = array_at(*p, "piiEntities")) {
          for (const auto& e : *entities) {
            const auto* entity = e.if_object();
            if (entity != nullptr && acted(*entity)) flag("PII:" + string_at(*entity, "type"), 1.0);
          }
        }
        if (const auto* regexes = array_at(*p, "regexes")) {
          for (const auto& x : *regexes) {
            const auto* regex = x.if_object();
            if (regex != nullptr && acted(*regex)) flag("REGEX:" + string_at(*regex, "name"), 1.0);
          }
        }
      }
      if (const auto* p = policy("contextualGroundingPolicy")) {
        if (const auto* filters = array_at(*p, "filters")) {
          for (const auto& f : *filters) {
            const auto* filter = f.if_object();
            if (filter != nullptr && string_at(*filter, "action") == "BLOCKED") {
              flag("GROUNDING:" + string_at(*filter, "type"), 1.0);
            }
          }
        }
      }
    }
  }
  return out;
}

apis::RunShieldResponse bedrock_run_shield_response(const BedrockVerdict& verdict) {
  if (!verdict.intervened) return {};
  apis::SafetyViolation violation;
  violation.violation_level = "error";
  violation.user_message = verdict.user_message;
  violation.metadata = verdict.assessment;
  std::string codes;
  for (const auto& [code, score] : verdict.scores) codes += (codes.empty() ? "" : ",") + code;
  violation.metadata["violation_type"] = codes.empty() ? "GUARDRAIL_INTERVENED" : codes;
  return apis::RunShieldResponse{std::move(violation)};
}

namespace {

class BedrockSafety final : public SafetyProvider {
 public:
  BedrockSafety(ProviderContext context, BedrockConfig config)
      : context_(std::move(context)), config_(std::move(config)) {
    auto url = boost::urls::parse_absolute_uri(config_.endpoint);
    if (url) {
      const bool tls = url->scheme() == "https";
      host_ = std::string(url->encoded_host_and_port());
      if (url->has_port() && ((tls && url->port() == "443") || (!tls && url->port() == "80"))) {
        host_ = std::string(url->encoded_host());
      }
    }
  }

  void initialize() override {
    http::ClientOptions options;
    options.connect_timeout = std::chrono::seconds(config_.connect_timeout);
    options.read_timeout = std::chrono::seconds(config_.read_timeout);
    client_ = http::HttpClient::create(*context_.runtime, options);
  }

  apis::Shield register_shield(apis::Shield shield) override {
    if (shield.provider_resource_id.empty()) {
      throw ApiError::bad_request("Shield '" + shield.identifier +
                                  "' (remote::bedrock) needs provider_shield_id: the guardrail id");
    }
    if (version_of(shield).empty()) {
      throw ApiError::bad_request("Shield '" + shield.identifier +
                                  "' (remote::bedrock) needs params.guardrailVersion (a version "
                                  "number or DRAFT)");
    }
    return shield;
  }

  async::Task<apis::RunShieldResponse> run_shield(const apis::CallContext& context,
                                                  const apis::Shield& shield, json::array messages,
                                                  json::object /*params*/) override {
    auto applied = apply(context, shield, std::move(messages));
    BedrockVerdict verdict = co_await std::move(applied);
    co_return bedrock_run_shield_response(verdict);
  }

  async::Task<apis::ShieldAssessment> assess(const apis::CallContext& context,
                                             const apis::Shield& shield,
                                             json::array messages) override {
    auto applied = apply(context, shield, std::move(messages));
    BedrockVerdict verdict = co_await std::move(applied);
    apis::ShieldAssessment out;
    out.violation = bedrock_run_shield_response(verdict).violation;
    if (out.violation) out.scores = verdict.scores;
    co_return out;
  }

  async::Task<std::vector<apis::ModerationResult>> moderate(
      const apis::CallContext& context, const apis::Shield& shield,
      std::vector<std::string> inputs) override {
    std::vector<async::Task<apis::ModerationResult>> checks;
    for (auto& input : inputs) checks.push_back(moderate_one(context, shield, std::move(input)));
    auto all = async::when_all(std::move(checks));
    co_return co_await std::move(all);
  }

 private:
  static std::string version_of(const apis::Shield& shield) {
    const auto* v = json_field(shield.params, "guardrailVersion");
    if (v == nullptr) return {};
    if (v->is_string()) return std::string(v->get_string());
    if (v->is_int64() || v->is_uint64()) return std::to_string(v->to_number<std::int64_t>());
    return {};
  }

  async::Task<apis::ModerationResult> moderate_one(const apis::CallContext& context,
                                                   const apis::Shield& shield, std::string input) {
    json::array messages{json::object{{"role", "user"}, {"content", std::move(input)}}};
    auto applied = apply(context, shield, std::move(messages));
    BedrockVerdict verdict = co_await std::move(applied);
    apis::ModerationResult r;
    r.flagged = verdict.intervened;
    for (const auto& [code, score] : verdict.scores) {
      r.categories[code] = true;
      r.category_scores[code] = score;
      r.category_applied_input_types[code] = json::array{"text"};
    }
    if (auto violation = bedrock_run_shield_response(verdict).violation) {
      r.user_message = violation->user_message;
      r.metadata = violation->metadata;
    }
    co_return r;
  }

  // POST /guardrail/{id}/version/{version}/apply, signed.
  async::Task<BedrockVerdict> apply(const apis::CallContext& context, const apis::Shield& shield,
                                    json::array messages) {
    json::array content;
    std::string source = "INPUT";
    for (std::size_t i = 0; i < messages.size(); ++i) {
      const std::string path = "messages[" + std::to_string(i) + "]";
      const json::object* m = messages[i].if_object();
      if (m == nullptr) throw JsonFieldError(path, "Field '" + path + "' must be an object");
      const auto* role = json_field(*m, "role");
      source = role != nullptr && role->is_string() && role->get_string() == "assistant" ? "OUTPUT"
                                                                                         : "INPUT";
      const auto* text = json_field(*m, "content");
      if (text == nullptr || text->is_null()) continue;
      content.push_back(
          json::object{{"text", json::object{{"text", message_text(*text, path + ".content")}}}});
    }
    if (content.empty()) throw JsonFieldError("messages", "Field 'messages' has no text to check");

    const std::string wire_path =
        "/guardrail/" + utils::aws_uri_encode(shield.provider_resource_id, false) + "/version/" +
        utils::aws_uri_encode(version_of(shield), false) + "/apply";
    utils::SigV4Request to_sign;
    to_sign.method = "POST";
    to_sign.host = host_;
    to_sign.path = wire_path;
    to_sign.headers = {{"content-type", "application/json"}};
    to_sign.body = to_json(json::object{{"source", source}, {"content", std::move(content)}});
    const utils::SigV4Result signature = utils::sigv4_sign(
        to_sign, config_.credentials, config_.region, "bedrock", std::chrono::system_clock::now());

    http::ClientRequest request;
    request.method = "POST";
    request.url = config_.endpoint + wire_path;
    request.headers.set("host", host_);
    request.headers.set("content-type", "application/json");
    request.headers.set("accept", "application/json");
    request.headers.set("x-amz-date", signature.amz_date);
    if (!config_.credentials.session_token.empty()) {
      request.headers.set("x-amz-security-token", config_.credentials.session_token);
    }
    request.headers.set("authorization", signature.authorization);
    request.body = std::move(to_sign.body);

    auto start = [&](async::Resolver<http::ClientResult> resolve) -> async::CancelFn {
      auto handle = client_->fetch(std::move(request), [resolve](http::ClientResult result) {
        resolve.value(std::move(result));
      });
      return utils::cancel_of(handle);
    };
    auto operation =
        async::from_callback<http::ClientResult>(context.executor, context.stop, std::move(start));
    http::ClientResult result = co_await operation;
    const std::string who = "Shield '" + shield.identifier + "' (Bedrock guardrail '" +
                            shield.provider_resource_id + "')";
    if (result.error) {
      ApiError e = utils::transport_error(context_.provider_id, *result.error);
      throw ApiError(e.status(), who + ": " + e.what());
    }
    if (result.status < 200 || result.status >= 300) {
      // AWS errors ({"message": …}, or "Message"): the shield's failure, not
      // the caller's — 503 when throttled or unavailable, else 502.
      std::string message = result.body.substr(0, 300);
      try {
        const json::value doc = parse_json(result.body);
        if (const auto* o = doc.if_object()) {
          for (const char* key : {"message", "Message"}) {
            if (const auto* m = json_field(*o, key); m != nullptr && m->is_string()) {
              message = m->get_string();
            }
          }
        }
      } catch (const JsonSyntaxError&) {
      }
      const int status = result.status == 429 || result.status == 503 ? 503 : 502;
      throw ApiError(status, who + ": Bedrock answered HTTP " + std::to_string(result.status) +
                                 ": " + message);
    }
    json::value doc;
    try {
      doc = parse_json(result.body);
    } catch (const JsonSyntaxError& e) {
      throw ApiError::bad_gateway(who + ": malformed ApplyGuardrail answer: " + e.what());
    }
    if (!doc.is_object() || json_field(doc.get_object(), "action") == nullptr) {
      throw ApiError::bad_gateway(who + ": malformed ApplyGuardrail answer (no 'action')");
    }
    co_return bedrock_verdict(doc.get_object());
  }

  ProviderContext context_;
  BedrockConfig config_;
  std::string host_;
  std::shared_ptr<http::HttpClient> client_;
};

}  // namespace

ProviderSpec bedrock_safety_spec() {
  ProviderSpec spec;
  spec.api = "safety";
  spec.provider_type = "remote::bedrock";
  spec.description = "Amazon Bedrock Guardrails (ApplyGuardrail, SigV4-signed)";
  spec.validate_config = [](const ConfigNode& node, Diagnostics& d) {
    BedrockConfig::parse(node, d, config::process_env());
  };
  spec.create = [](const ProviderContext& context, const ConfigNode& node) {
    Diagnostics ignored;  // validated before
    return std::unique_ptr<Provider>(
        new BedrockSafety(context, BedrockConfig::parse(node, ignored, config::process_env())));
  };
  return spec;
}

}  // namespace llama_stack::providers::remote
