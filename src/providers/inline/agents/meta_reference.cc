// inline::meta-reference (agents): agents, sessions and turns persisted in
// `persistence_store` (a kvstore; AgentStore), each turn run by a TurnRunner
// (agent_turn.h) over the routers of ProviderDeps; the OpenAI Responses API
// (responses.h), its responses in the same kvstore. `responses_store` (a SQL
// store in Python) is accepted and unused.
#include "providers/inline/agents/meta_reference.h"

#include "core/config/config_node.h"
#include "core/config/stack_config.h"
#include "core/log/log.h"
#include "core/storage/open_store.h"
#include "core/util/api_error.h"
#include "core/util/ids.h"
#include "core/util/json.h"
#include "core/util/message_text.h"
#include "providers/inline/agents/agent_store.h"
#include "providers/inline/agents/agent_turn.h"
#include "providers/inline/agents/responses.h"
#include "providers/utils/url_documents.h"

namespace llama_stack::providers::inline_ {
namespace {

using config::ConfigNode;
using config::Diagnostics;
using config::MapReader;
using namespace agents;

struct MetaReferenceConfig {
  config::KVStoreConfig persistence_store;
  DocumentLimits documents;

  static MetaReferenceConfig parse(const ConfigNode& node, Diagnostics& diagnostics) {
    MetaReferenceConfig c;
    MapReader r(node, diagnostics);
    const ConfigNode* kv = r.node("persistence_store");
    c.persistence_store =
        kv != nullptr && !kv->is_null()
            ? config::parse_kvstore_config(*kv, diagnostics,
                                           config::config_dir() + "/agents_store.db")
            : config::KVStoreConfig::sqlite(config::config_dir() + "/agents_store.db");
    r.node("responses_store");  // the Responses API's store (later versions): accepted
    c.documents.allow_private_urls =
        r.boolean("allow_private_urls").value_or(c.documents.allow_private_urls);
    c.documents.max_document_bytes = r.integer("max_document_bytes", 1, std::int64_t{1} << 32)
                                         .value_or(c.documents.max_document_bytes);
    c.documents.fetch_timeout_seconds =
        r.integer("fetch_timeout_seconds", 1, 3600).value_or(c.documents.fetch_timeout_seconds);
    r.finish();
    return c;
  }
};

std::optional<apis::Owner> owner_of(const json::object& record) {
  const json::value* o = record.if_contains("owner");
  return o != nullptr ? apis::Owner::from_json(*o) : std::nullopt;
}

ApiError agent_not_found(const std::string& id) {
  return ApiError::not_found("Agent '" + id + "' not found");
}
ApiError session_not_found(const std::string& id) {
  return ApiError::not_found("Session '" + id + "' not found");
}
ApiError turn_not_found(const std::string& id) {
  return ApiError::not_found("Turn '" + id + "' not found");
}

apis::PaginatedJson paginate(std::vector<json::object> items, const apis::IndexPage& page) {
  apis::PaginatedJson out;
  const std::size_t start = static_cast<std::size_t>(std::max<std::int64_t>(0, page.start_index));
  std::size_t end = items.size();
  if (page.limit && *page.limit >= 0) {
    end = std::min(items.size(), start + static_cast<std::size_t>(*page.limit));
  }
  for (std::size_t i = start; i < end; ++i) out.data.push_back(std::move(items[i]));
  out.has_more = end < items.size();
  return out;
}

// AgentConfig, checked (400 naming the field) and with Python's defaults.
json::object checked_agent_config(json::object config) {
  JsonReader r(config, "agent_config");
  r.required_string("model");
  if (!config.contains("instructions")) {
    throw JsonFieldError("agent_config.instructions",
                         "Field 'agent_config.instructions' is required");
  }
  r.required_string("instructions");
  for (const char* list : {"input_shields", "output_shields", "toolgroups", "client_tools"}) {
    const json::value* v = json_field(config, list);
    if (v == nullptr) {
      config[list] = json::array{};
    } else if (!v->is_array()) {
      throw JsonFieldError(std::string("agent_config.") + list,
                           std::string("Field 'agent_config.") + list + "' must be a list");
    }
  }
  for (std::size_t i = 0; i < config["toolgroups"].as_array().size(); ++i) {
    toolgroup_ref(config["toolgroups"].as_array()[i],
                  "agent_config.toolgroups[" + std::to_string(i) + "]");
  }
  for (std::size_t i = 0; i < config["client_tools"].as_array().size(); ++i) {
    client_tool_def(config["client_tools"].as_array()[i],
                    "agent_config.client_tools[" + std::to_string(i) + "]");
  }
  if (auto n = r.optional_int("max_infer_iters"); n && *n < 1) {
    throw JsonFieldError("agent_config.max_infer_iters",
                         "Field 'agent_config.max_infer_iters' must be at least 1");
  }
  if (!json_field(config, "max_infer_iters")) config["max_infer_iters"] = 10;
  if (!json_field(config, "sampling_params")) {
    config["sampling_params"] = json::object{{"strategy", json::object{{"type", "greedy"}}},
                                             {"max_tokens", 0},
                                             {"repetition_penalty", 1.0},
                                             {"stop", nullptr}};
  }
  // The deprecated top-level tool_choice / tool_prompt_format build tool_config.
  json::object tool_config{{"tool_choice", "auto"},
                           {"tool_prompt_format", nullptr},
                           {"system_message_behavior", "append"}};
  if (const json::value* t = json_field(config, "tool_config")) {
    if (!t->is_object()) {
      throw JsonFieldError("agent_config.tool_config",
                           "Field 'agent_config.tool_config' must be an object");
    }
    for (const auto& [k, v] : t->get_object()) tool_config[k] = v;
  }
  for (const char* key : {"tool_choice", "tool_prompt_format"}) {
    const json::value* top = json_field(config, key);
    if (top == nullptr) {
      config[key] = nullptr;
      continue;
    }
    const json::value* inner = json_field(config, "tool_config")
                                   ? json_field(config["tool_config"].as_object(), key)
                                   : nullptr;
    if (inner != nullptr && *inner != *top) {
      throw JsonFieldError(std::string("agent_config.") + key,
                           std::string("Field 'agent_config.") + key +
                               "' differs from agent_config.tool_config." + key);
    }
    tool_config[key] = *top;
  }
  config["tool_config"] = std::move(tool_config);
  for (const char* key : {"response_format", "name"}) {
    if (!config.contains(key)) config[key] = nullptr;
  }
  if (!config.contains("enable_session_persistence")) config["enable_session_persistence"] = false;
  return config;
}

class MetaReferenceAgents final : public AgentsProvider {
 public:
  MetaReferenceAgents(ProviderContext context, MetaReferenceConfig config)
      : context_(std::move(context)), config_(std::move(config)) {}

  void initialize() override {
    std::shared_ptr<storage::KVStore> kv = storage::open_kvstore(config_.persistence_store);
    store_ = std::make_unique<AgentStore>(kv);
    http::ClientOptions options;
    options.read_timeout = std::chrono::seconds(config_.documents.fetch_timeout_seconds);
    client_ = http::HttpClient::create(*context_.runtime, options);
    http::ClientOptions mcp_options;  // MCP servers of Responses' `mcp` tools
    mcp_options.read_timeout = std::chrono::seconds(60);
    responses_ = std::make_unique<ResponsesEngine>(
        *context_.deps, std::move(kv), http::HttpClient::create(*context_.runtime, mcp_options),
        context_.provider_id);
    LS_INFO(kAgents, "{} (inline::meta-reference): {} agent(s) in {}", context_.provider_id,
            store_->agents().size(), config_.persistence_store.describe());
  }

  void shutdown() noexcept override {
    try {
      if (store_) store_->kv().flush();
    } catch (const std::exception& e) {
      LS_WARN(kAgents, "{}: flushing the persistence store failed: {}", context_.provider_id,
              e.what());
    }
  }

  std::optional<apis::Owner> agent_owner(const std::string& agent_id) override {
    std::optional<json::object> agent = store_->agent(agent_id);
    if (!agent) throw agent_not_found(agent_id);
    return owner_of(*agent);
  }

  apis::ResponsesApi& responses() override { return *responses_; }
  std::optional<apis::Owner> response_owner(const std::string& response_id) override {
    return responses_->owner(response_id);
  }

  std::optional<apis::Owner> session_owner(const std::string& agent_id,
                                           const std::string& session_id) override {
    std::optional<json::object> session = store_->session(agent_id, session_id);
    if (!session) throw session_not_found(session_id);
    return owner_of(*session);
  }

  async::Task<std::string> create_agent(const apis::CallContext& context,
                                        json::object agent_config) override {
    json::object config = checked_agent_config(std::move(agent_config));
    if ((!config["input_shields"].as_array().empty() ||
         !config["output_shields"].as_array().empty()) &&
        deps().safety == nullptr) {
      throw ApiError::bad_request("The agent names shields, but no safety provider is configured");
    }
    const std::string id = random_uuid4();
    json::object agent{
        {"agent_id", id}, {"agent_config", std::move(config)}, {"created_at", now_iso()}};
    if (context.user) agent["owner"] = context.user->to_json();
    store_->put_agent(agent);
    LS_INFO(kAgents, "agent '{}' created ({})", id,
            json_string(agent["agent_config"].as_object(), "model"));
    co_return id;
  }

  async::Task<json::object> get_agent(const apis::CallContext&, std::string agent_id) override {
    co_return public_agent(agent(agent_id));
  }

  async::Task<apis::PaginatedJson> list_agents(const apis::CallContext& context,
                                               apis::IndexPage page) override {
    auto listed = list_agents_visible(context, page, {});
    co_return co_await std::move(listed);
  }

  async::Task<apis::PaginatedJson> list_agents_visible(const apis::CallContext&,
                                                       apis::IndexPage page,
                                                       Visible visible) override {
    std::vector<json::object> out;
    for (auto& a : store_->agents()) {
      if (visible && !visible(json_string(a, "agent_id"), owner_of(a))) continue;
      out.push_back(public_agent(std::move(a)));
    }
    co_return paginate(std::move(out), page);
  }

  async::Task<void> delete_agent(const apis::CallContext&, std::string agent_id) override {
    agent(agent_id);
    store_->remove_agent(agent_id);
    co_return;
  }

  async::Task<std::string> create_session(const apis::CallContext& context, std::string agent_id,
                                          std::string session_name) override {
    agent(agent_id);
    const std::string id = random_uuid4();
    json::object session{{"session_id", id},
                         {"session_name", std::move(session_name)},
                         {"started_at", now_iso()},
                         {"turn_ids", json::array{}}};
    if (context.user) session["owner"] = context.user->to_json();
    store_->put_session(agent_id, session);
    co_return id;
  }

  async::Task<json::object> get_session(const apis::CallContext&, std::string agent_id,
                                        std::string session_id,
                                        std::optional<std::vector<std::string>> turn_ids) override {
    json::object s = session(agent_id, session_id);
    json::array turns;
    for (auto& t : store_->turns(agent_id, session_id)) {
      if (turn_ids && std::find(turn_ids->begin(), turn_ids->end(), json_string(t, "turn_id")) ==
                          turn_ids->end()) {
        continue;
      }
      turns.push_back(std::move(t));
    }
    co_return public_session(std::move(s), std::move(turns));
  }

  async::Task<apis::PaginatedJson> list_sessions(const apis::CallContext& context,
                                                 std::string agent_id,
                                                 apis::IndexPage page) override {
    auto listed = list_sessions_visible(context, std::move(agent_id), page, {});
    co_return co_await std::move(listed);
  }

  async::Task<apis::PaginatedJson> list_sessions_visible(const apis::CallContext&,
                                                         std::string agent_id, apis::IndexPage page,
                                                         Visible visible) override {
    agent(agent_id);
    std::vector<json::object> out;
    for (auto& s : store_->sessions(agent_id)) {
      if (visible && !visible(json_string(s, "session_id"), owner_of(s))) continue;
      out.push_back(public_session(std::move(s), json::array{}));  // turns: as Python, not listed
    }
    co_return paginate(std::move(out), page);
  }

  async::Task<void> delete_session(const apis::CallContext&, std::string agent_id,
                                   std::string session_id) override {
    session(agent_id, session_id);
    store_->remove_session(agent_id, session_id);
    co_return;
  }

  async::Task<json::object> create_turn(const apis::CallContext& context, std::string agent_id,
                                        std::string session_id, apis::CreateTurnRequest request,
                                        apis::TurnEventSink on_event) override {
    json::object a = agent(agent_id);
    session(agent_id, session_id);
    if (request.messages.empty()) {
      throw JsonFieldError("messages", "Field 'messages' must be a non-empty list");
    }
    for (std::size_t i = 0; i < request.messages.size(); ++i) {
      const std::string field = "messages[" + std::to_string(i) + "]";
      JsonReader m(request.messages[i], field);
      const std::string role = m.required_string("role");
      if (role != "user" && role != "tool") {
        throw JsonFieldError(field + ".role", "Field '" + field + ".role' must be user or tool");
      }
      if (role == "tool") m.required_string("call_id");
    }
    // Turn documents: their text joins the last message (as Python).
    if (!request.documents.empty()) {
      auto added = add_documents(context, request.messages, std::move(request.documents));
      co_await std::move(added);
    }
    TurnState state;
    state.agent_id = agent_id;
    state.session_id = session_id;
    state.turn_id = random_uuid4();
    state.started_at = now_iso();
    state.input_messages = request.messages;
    state.toolgroups = std::move(request.toolgroups);
    state.tool_config = std::move(request.tool_config);
    const json::object& config = a["agent_config"].as_object();
    if (const std::string instructions = json_string(config, "instructions");
        !instructions.empty()) {
      state.messages.push_back(json::object{{"role", "system"}, {"content", instructions}});
    }
    for (const auto& t : store_->turns(agent_id, session_id))
      append_turn_messages(t, state.messages);
    for (const auto& m : request.messages) state.messages.push_back(m);
    TurnRunner runner(turn_deps(), context, std::move(a), std::move(on_event));
    auto ran = runner.start(std::move(state));
    co_return co_await std::move(ran);
  }

  async::Task<json::object> resume_turn(const apis::CallContext& context, std::string agent_id,
                                        std::string session_id, std::string turn_id,
                                        json::array tool_responses,
                                        apis::TurnEventSink on_event) override {
    json::object a = agent(agent_id);
    session(agent_id, session_id);
    if (!store_->turn(agent_id, session_id, turn_id)) throw turn_not_found(turn_id);
    std::optional<json::object> saved = store_->turn_state(agent_id, session_id, turn_id);
    if (!saved) {
      throw ApiError::bad_request("Turn '" + turn_id + "' is not awaiting tool responses");
    }
    if (tool_responses.empty()) {
      throw JsonFieldError("tool_responses", "Field 'tool_responses' must be a non-empty list");
    }
    TurnRunner runner(turn_deps(), context, std::move(a), std::move(on_event));
    auto ran = runner.resume(TurnState::from_json(*saved), std::move(tool_responses));
    co_return co_await std::move(ran);
  }

  async::Task<json::object> get_turn(const apis::CallContext&, std::string agent_id,
                                     std::string session_id, std::string turn_id) override {
    session(agent_id, session_id);
    std::optional<json::object> turn = store_->turn(agent_id, session_id, turn_id);
    if (!turn) throw turn_not_found(turn_id);
    co_return std::move(*turn);
  }

  async::Task<json::object> get_step(const apis::CallContext&, std::string agent_id,
                                     std::string session_id, std::string turn_id,
                                     std::string step_id) override {
    session(agent_id, session_id);
    std::optional<json::object> turn = store_->turn(agent_id, session_id, turn_id);
    if (!turn) throw turn_not_found(turn_id);
    if (const json::value* steps = turn->if_contains("steps"); steps && steps->is_array()) {
      for (const auto& s : steps->get_array()) {
        if (s.is_object() && json_string(s.get_object(), "step_id") == step_id) {
          co_return json::object{{"step", s}};
        }
      }
    }
    throw ApiError::not_found("Step '" + step_id + "' not found in turn '" + turn_id + "'");
  }

 private:
  const ProviderDeps& deps() const { return *context_.deps; }

  TurnDeps turn_deps() {
    if (deps().inference == nullptr) throw ApiError::unavailable("agents: no inference router");
    return TurnDeps{deps().inference, deps().safety, deps().tool_runtime, store_.get(),
                    deps().telemetry};
  }

  json::object agent(const std::string& agent_id) const {
    std::optional<json::object> a = store_->agent(agent_id);
    if (!a) throw agent_not_found(agent_id);
    return std::move(*a);
  }

  json::object session(const std::string& agent_id, const std::string& session_id) const {
    std::optional<json::object> s = store_->session(agent_id, session_id);
    if (!s) throw session_not_found(session_id);
    return std::move(*s);
  }

  static json::object public_agent(json::object a) {
    return json::object{{"agent_id", a["agent_id"]},
                        {"agent_config", a["agent_config"]},
                        {"created_at", a["created_at"]}};
  }

  static json::object public_session(json::object s, json::array turns) {
    return json::object{{"session_id", s["session_id"]},
                        {"session_name", s["session_name"]},
                        {"turns", std::move(turns)},
                        {"started_at", s["started_at"]}};
  }

  // Each document's text is appended to the last message (Python's
  // behaviour): text, text content items, and data:/http(s) URLs (fetched
  // with the provider's document limits and SSRF refusals).
  async::Task<void> add_documents(const apis::CallContext& context, json::array& messages,
                                  json::array documents) {
    std::string text;
    for (std::size_t i = 0; i < documents.size(); ++i) {
      const std::string field = "documents[" + std::to_string(i) + "]";
      JsonReader d(documents[i], field);
      const json::value* content = d.find("content");
      if (content == nullptr)
        throw JsonFieldError(field + ".content", "Field '" + field + ".content' is required");
      std::optional<std::string> mime = d.optional_string("mime_type");
      std::optional<std::string> url;
      if (content->is_string() && looks_like_url(content->get_string())) {
        url = std::string(content->get_string());
      } else if (const json::object* o = content->if_object()) {
        if (const json::value* uri = json_field(*o, "uri"); uri && uri->is_string()) {
          url = std::string(uri->get_string());
        }
      }
      std::string piece;
      if (url) {
        auto fetched = fetch_document(context, *client_, context_.workers, *url, mime,
                                      config_.documents, field + ".content");
        piece = co_await std::move(fetched);
      } else {
        piece = message_text(*content, field + ".content");
      }
      if (!text.empty()) text += "\n";
      text += piece;
    }
    json::object& last = messages.back().as_object();
    json::value& content = last["content"];
    if (content.is_string()) {
      content = std::string(content.get_string()) + text;
    } else if (content.is_array()) {
      content.get_array().push_back(json::object{{"type", "text"}, {"text", text}});
    } else {
      content = text;
    }
  }

  ProviderContext context_;
  MetaReferenceConfig config_;
  std::unique_ptr<AgentStore> store_;
  std::unique_ptr<ResponsesEngine> responses_;
  std::shared_ptr<http::HttpClient> client_;
};

}  // namespace

ProviderSpec meta_reference_agents_spec() {
  ProviderSpec spec;
  spec.api = "agents";
  spec.provider_type = "inline::meta-reference";
  spec.description = "The agent loop: shields, inference, tools; sessions and turns persisted";
  spec.api_dependencies = {"inference"};
  spec.optional_dependencies = {"safety", "vector_io", "tool_runtime"};
  spec.validate_config = [](const ConfigNode& node, Diagnostics& d) {
    MetaReferenceConfig::parse(node, d);
  };
  spec.create = [](const ProviderContext& context, const ConfigNode& node) {
    Diagnostics ignored;
    return std::unique_ptr<Provider>(
        new MetaReferenceAgents(context, MetaReferenceConfig::parse(node, ignored)));
  };
  return spec;
}

}  // namespace llama_stack::providers::inline_
