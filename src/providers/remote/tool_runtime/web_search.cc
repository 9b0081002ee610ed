// remote::tavily-search and remote::brave-search: the web_search tool of
// `builtin::websearch`, over the search services' real HTTP APIs —
// Tavily's POST /search, Brave's GET /res/v1/web/search. The API key comes
// from the config (`api_key`) or the caller's X-LlamaStack-Provider-Data
// (`tavily_search_api_key`, `brave_search_api_key`), as in Llama Stack; the
// answer is Llama Stack's: JSON text {query, top_k: [{title, url, content
// (Tavily) | description (Brave), score?}]}. `base_url` (ours) points at
// another host (a proxy, or the tests' wire double).
#include "providers/remote/tool_runtime/web_search.h"

#include <boost/url/encode.hpp>
#include <boost/url/rfc/unreserved_chars.hpp>

#include "core/config/config_node.h"
#include "core/util/api_error.h"
#include "core/util/json.h"
#include "llama_stack/async/bridge.h"
#include "providers/utils/upstream.h"

namespace llama_stack::providers::remote {
namespace {

using config::ConfigNode;
using config::Diagnostics;
using config::MapReader;

enum class Service { kTavily, kBrave };

struct SearchConfig {
  std::optional<std::string> api_key;
  std::int64_t max_results = 3;
  std::string base_url;
  std::int64_t timeout_seconds = 30;

  static SearchConfig parse(const ConfigNode& node, Diagnostics& diagnostics, Service service) {
    SearchConfig c;
    MapReader r(node, diagnostics);
    c.api_key = r.string("api_key");
    if (c.api_key && c.api_key->empty()) c.api_key.reset();
    c.max_results = r.integer("max_results", 1, 50).value_or(c.max_results);
    c.base_url =
        r.string_or("base_url", service == Service::kTavily ? "https://api.tavily.com"
                                                            : "https://api.search.brave.com");
    while (!c.base_url.empty() && c.base_url.back() == '/') c.base_url.pop_back();
    c.timeout_seconds = r.integer("timeout_seconds", 1, 600).value_or(c.timeout_seconds);
    r.finish();
    return c;
  }
};

class WebSearch final : public ToolRuntimeProvider {
 public:
  WebSearch(ProviderContext context, SearchConfig config, Service service)
      : context_(std::move(context)), config_(std::move(config)), service_(service) {}

  void initialize() override {
    http::ClientOptions options;
    options.read_timeout = std::chrono::seconds(config_.timeout_seconds);
    client_ = http::HttpClient::create(*context_.runtime, options);
  }

  async::Task<std::vector<apis::ToolDef>> list_runtime_tools(const apis::CallContext&,
                                                             const apis::ToolGroup&) override {
    apis::ToolDef def;
    def.name = "web_search";
    def.description = "Search the web for information";
    def.parameters.push_back(json::object{{"name", "query"},
                                          {"parameter_type", "string"},
                                          {"description", "The query to search for"},
                                          {"required", true}});
    co_return std::vector<apis::ToolDef>{std::move(def)};
  }

  async::Task<apis::ToolInvocationResult> invoke_tool(const apis::CallContext& context,
                                                      const apis::ToolGroup&,
                                                      const std::string& tool_name,
                                                      json::object kwargs) override {
    if (tool_name != "web_search") {
      throw ApiError::not_found("Tool '" + tool_name + "' is not a web search tool");
    }
    const std::string query = json_string(kwargs, "query");
    if (query.empty()) throw JsonFieldError("kwargs.query", "Field 'kwargs.query' is required");
    const std::string key = api_key(context);
    http::ClientRequest request;
    if (service_ == Service::kTavily) {
      request.method = "POST";
      request.url = config_.base_url + "/search";
      request.headers.set("content-type", "application/json");
      request.headers.set("authorization", "Bearer " + key);
      request.body = to_json(
          json::object{{"api_key", key}, {"query", query}, {"max_results", config_.max_results}});
    } else {
      request.url = config_.base_url + "/res/v1/web/search?q=" +
                    boost::urls::encode(query, boost::urls::unreserved_chars) +
                    "&count=" + std::to_string(config_.max_results);
      request.headers.set("accept", "application/json");
      request.headers.set("x-subscription-token", key);
    }
    auto start = [&](async::Resolver<http::ClientResult> resolve) -> async::CancelFn {
      auto handle = client_->fetch(
          std::move(request), [resolve](http::ClientResult r) { resolve.value(std::move(r)); });
      return utils::cancel_of(handle);
    };
    auto operation =
        async::from_callback<http::ClientResult>(context.executor, context.stop, std::move(start));
    http::ClientResult result = co_await operation;
    const std::string who = service_ == Service::kTavily ? "Tavily" : "Brave Search";
    if (result.error) {
      ApiError e = utils::transport_error(context_.provider_id, *result.error);
      throw ApiError(e.status(), who + ": " + e.what());
    }
    if (result.status == 401 || result.status == 403) {
      throw ApiError::bad_request(who + " refused the API key (HTTP " +
                                  std::to_string(result.status) + ")");
    }
    if (result.status == 429) throw ApiError(429, who + " rate limit exceeded");
    if (result.status < 200 || result.status >= 300) {
      throw ApiError::bad_gateway(who + " answered HTTP " + std::to_string(result.status));
    }
    json::value body;
    try {
      body = parse_json(result.body);
    } catch (const std::exception&) {
      throw ApiError::bad_gateway(who + " answered malformed JSON");
    }
    json::array top;
    const json::value* results = nullptr;
    if (body.is_object()) {
      if (service_ == Service::kTavily) {
        results = body.get_object().if_contains("results");
      } else if (const json::value* web = body.get_object().if_contains("web");
                 web && web->is_object()) {
        results = web->get_object().if_contains("results");
      }
    }
    if (results != nullptr && results->is_array()) {
      for (const auto& r : results->get_array()) {
        if (!r.is_object()) continue;
        const json::object& o = r.get_object();
        json::object item{{"title", json_string(o, "title")}, {"url", json_string(o, "url")}};
        if (service_ == Service::kTavily) {
          item["content"] = json_string(o, "content");
          if (const json::value* s = o.if_contains("score"); s && s->is_number())
            item["score"] = *s;
        } else {
          item["description"] = json_string(o, "description");
        }
        top.push_back(std::move(item));
        if (static_cast<std::int64_t>(top.size()) >= config_.max_results) break;
      }
    }
    apis::ToolInvocationResult out;
    out.content = to_json(json::object{{"query", query}, {"top_k", std::move(top)}});
    co_return out;
  }

 private:
  std::string api_key(const apis::CallContext& context) const {
    const char* field =
        service_ == Service::kTavily ? "tavily_search_api_key" : "brave_search_api_key";
    if (const json::value* k = context.provider_data.if_contains(field); k && k->is_string()) {
      return std::string(k->get_string());
    }
    if (config_.api_key) return *config_.api_key;
    throw ApiError::bad_request(std::string("No API key for web search: set api_key in the "
                                            "provider config, or pass X-LlamaStack-Provider-Data "
                                            "with ") +
                                field);
  }

  ProviderContext context_;
  SearchConfig config_;
  Service service_;
  std::shared_ptr<http::HttpClient> client_;
};

ProviderSpec spec_for(Service service) {
  ProviderSpec spec;
  spec.api = "tool_runtime";
  spec.provider_type =
      service == Service::kTavily ? "remote::tavily-search" : "remote::brave-search";
  spec.description = service == Service::kTavily ? "Web search through Tavily's API"
                                                 : "Web search through Brave Search's API";
  spec.validate_config = [service](const ConfigNode& node, Diagnostics& d) {
    SearchConfig::parse(node, d, service);
  };
  spec.create = [service](const ProviderContext& context, const ConfigNode& node) {
    Diagnostics ignored;
    return std::unique_ptr<Provider>(
        new WebSearch(context, SearchConfig::parse(node, ignored, service), service));
  };
  return spec;
}

}  // namespace

ProviderSpec tavily_search_spec() {
  return spec_for(Service::kTavily);
}

ProviderSpec brave_search_spec() {
  return spec_for(Service::kBrave);
}

}  // namespace llama_stack::providers::remote
