// GET /v1/health, /v1/version, /v1/inspect/routes, /v1/providers[/{id}].
#include <algorithm>
#include <cctype>

#include "core/server/exchange.h"
#include "core/server/routes/routes.h"
#include "core/services/services.h"
#include "llama_stack/async/bridge.h"
#include "llama_stack/async/when_all.h"

namespace llama_stack::server::routes {
namespace {

using Ex = std::shared_ptr<Exchange>;

json::array provider_types_for(const Services& services, const std::string& api) {
  static const std::map<std::string, std::string> kRouterApi = {
      {"models", "inference"}, {"shields", "safety"}, {"vector_dbs", "vector_io"}};
  std::string owner = api;
  if (auto it = kRouterApi.find(api); it != kRouterApi.end()) owner = it->second;
  json::array types;
  for (const auto& p : services.providers()) {
    if (p.entry.api != owner) continue;
    if (std::find(types.begin(), types.end(), json::value(p.entry.provider_type)) == types.end()) {
      types.emplace_back(p.entry.provider_type);
    }
  }
  return types;
}

bool is_secret_key(std::string_view key) {
  std::string k(key);
  std::transform(k.begin(), k.end(), k.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  for (std::string_view marker : {"api_key", "apikey", "api_token", "token", "password", "secret",
                                  "authorization", "private_key", "credential"}) {
    if (k.find(marker) != std::string::npos) return true;
  }
  return false;
}

json::object provider_info(const ProviderInstance& p, const providers::HealthResponse& health) {
  json::object health_json{{"status", health.status}};
  if (!health.message.empty()) health_json["message"] = health.message;
  json::value config = p.entry.config.to_json();
  if (config.is_null()) config = json::object{};
  return json::object{{"api", p.entry.api},
                      {"provider_id", p.entry.provider_id},
                      {"provider_type", p.entry.provider_type},
                      {"config", redact_secrets(config)},
                      {"health", std::move(health_json)}};
}

// One provider's health report, as a Task (bridged from the callback API).
// A check that throws reports "Error" rather than failing the listing.
async::Task<providers::HealthResponse> health_of(const ProviderInstance& instance,
                                                 async::Executor* executor) {
  auto check = async::from_callback<providers::HealthResponse>(
      executor, {}, [&instance](async::Resolver<providers::HealthResponse> resolve) {
        instance.impl->health(
            [resolve](providers::HealthResponse health) { resolve.value(std::move(health)); });
        return async::CancelFn{};
      });
  std::string failure;
  try {
    co_return co_await check;
  } catch (const std::exception& e) {
    failure = e.what();
  }
  co_return providers::HealthResponse{"Error", "Health check failed: " + failure};
}

// Checks the health of `instances` at once (remote checks do I/O) and
// answers when all have reported, on the connection's thread.
async::Task<void> answer_with_health(Ex ex, std::vector<const ProviderInstance*> instances,
                                     bool single) {
  std::vector<async::Task<providers::HealthResponse>> checks;
  for (const auto* instance : instances) checks.push_back(health_of(*instance, &ex->executor()));
  auto all = async::when_all(std::move(checks));
  std::vector<providers::HealthResponse> results = co_await std::move(all);
  json::array data;
  for (std::size_t i = 0; i < instances.size(); ++i) {
    data.push_back(provider_info(*instances[i], results[i]));
  }
  if (single) {
    ex->send_json(200, data.at(0));
  } else {
    ex->send_json(200, json::object{{"data", std::move(data)}});
  }
}

}  // namespace

json::value redact_secrets(const json::value& value) {
  if (value.is_object()) {
    json::object out;
    for (const auto& kv : value.get_object()) {
      out[kv.key()] = is_secret_key(kv.key()) && !kv.value().is_null() ? json::value("********")
                                                                       : redact_secrets(kv.value());
    }
    return out;
  }
  if (value.is_array()) {
    json::array out;
    for (const auto& item : value.get_array()) out.push_back(redact_secrets(item));
    return out;
  }
  return value;
}

void add_inspect_routes(RouteTable& table, const Services& services) {
  table.add({"GET", "/v1/health",
             [](const std::shared_ptr<Exchange>& ex) {
               ex->send_json(200, json::object{{"status", "OK"}});
             },
             "inspect", true});
  table.add({"GET", "/v1/version",
             [](const std::shared_ptr<Exchange>& ex) {
               ex->send_json(200, json::object{{"version", LLAMA_STACK_VERSION}});
             },
             "inspect", true});
  // The list is computed from the table the request was routed through, so it
  // is always the truth.
  table.add({"GET", "/v1/inspect/routes",
             [&services](const std::shared_ptr<Exchange>& ex) {
               json::array data;
               for (const Route& route : *ex->context().route_table) {
                 data.push_back(
                     json::object{{"route", route.path},
                                  {"method", route.method},
                                  {"provider_types", provider_types_for(services, route.api)}});
               }
               ex->send_json(200, json::object{{"data", std::move(data)}});
             },
             "inspect"});
}

void add_oauth_metadata_route(RouteTable& table, const Services& services) {
  if (!services.oauth().configured) return;
  // RFC 9728 protected-resource metadata. Public (/.well-known/).
  table.add({"GET", "/.well-known/oauth-protected-resource",
             [&services](const std::shared_ptr<Exchange>& ex) {
               const auto& o = services.oauth();
               json::array servers;
               if (o.auth_server_uri) servers.emplace_back(*o.auth_server_uri);
               std::vector<std::string> scopes;
               auto add = [&](const std::string& s) {
                 if (std::find(scopes.begin(), scopes.end(), s) == scopes.end())
                   scopes.push_back(s);
               };
               for (const auto& [model, scope] : o.model_scope_overrides) add(scope);
               for (const auto& m : services.models().list()) {
                 if (auto scope = security::required_scope(o, m.identifier, m.metadata))
                   add(*scope);
               }
               if (o.enable_rate_limiting) {
                 for (const auto& [scope, tier] : o.tier_scopes) add(scope);
               }
               std::sort(scopes.begin(), scopes.end());
               json::array scopes_json;
               for (const auto& s : scopes) scopes_json.emplace_back(s);
               json::object body{
                   {"resource", o.stack_uri ? json::value(*o.stack_uri) : json::value(nullptr)},
                   {"authorization_servers", std::move(servers)},
                   {"scopes_supported", std::move(scopes_json)},
                   {"bearer_methods_supported", json::array{"header"}},
                   {"resource_name", "Llama Stack"}};
               ex->send_json(200, body);
             },
             "inspect", true});
}

void add_provider_routes(RouteTable& table, const Services& services) {
  table.add({"GET", "/v1/providers",
             [&services](const std::shared_ptr<Exchange>& ex) {
               std::vector<const ProviderInstance*> all;
               for (const auto& p : services.providers()) all.push_back(&p);
               ex->serve(answer_with_health(ex, std::move(all), false));
             },
             "providers"});
  table.add({"GET", "/v1/providers/{provider_id}",
             [&services](const std::shared_ptr<Exchange>& ex) {
               const std::string& id = ex->context().param("provider_id");
               for (const auto& p : services.providers()) {
                 if (p.entry.provider_id == id) {
                   ex->serve(answer_with_health(ex, {&p}, true));
                   return;
                 }
               }
               throw ApiError::not_found("Provider '" + id + "' not found");
             },
             "providers"});
}

}  // namespace llama_stack::server::routes
