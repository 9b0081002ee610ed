#include "providers/inline/agents/responses.h"

#include <algorithm>
#include <chrono>

#include "core/log/log.h"
#include "core/routing/conversations_router.h"
#include "core/util/api_error.h"
#include "core/util/ids.h"
#include "core/util/json.h"
#include "llama_stack/async/channel.h"
#include "llama_stack/async/started.h"
#include "providers/inline/agents/response_items.h"
#include "providers/utils/chat_completion.h"
#include "providers/utils/mcp_client.h"

namespace llama_stack::providers::inline_::agents {
namespace {

constexpr std::string_view kPrefix = "response:";
constexpr std::int64_t kMaxIterations = 10;

ApiError response_not_found(const std::string& id) {
  return ApiError::not_found("Response '" + id + "' not found");
}

json::value field_or_null(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v != nullptr ? *v : json::value(nullptr);
}

// The characters of an answer held back per guardrail check while it streams.
constexpr std::size_t kGuardrailWindow = 200;

// Runs a streamed chat completion whose text deltas go to `channel`, and
// closes the channel when it ends (whichever way).
async::Task<json::object> generate_into(apis::InferenceApi& inference, apis::CallContext child,
                                        json::object chat,
                                        std::shared_ptr<async::Channel<std::string>> channel) {
  try {
    apis::ChunkSink sink = [channel](json::object chunk) {
      for (auto& text : utils::chunk_texts(chunk)) channel->push(std::move(text));
    };
    auto call = inference.chat_completion(child, std::move(chat), std::move(sink));
    json::object result = co_await std::move(call);
    channel->close();
    co_return result;
  } catch (...) {
    channel->close();
    throw;
  }
}

// One response: the state of the loop, and the coroutine that runs it.
class ResponseRun {
 public:
  ResponseRun(const ProviderDeps& deps, utils::McpClient& mcp, const apis::CallContext& context,
              json::object request, apis::ResponseEventSink sink)
      : deps_(deps),
        mcp_(mcp),
        context_(context),
        request_(std::move(request)),
        emitter_(std::move(sink)) {}

  // Parses the request (400s before anything runs) and builds the context.
  async::Task<void> prepare(storage::KVStore& kv);
  async::Task<json::object> run();

  json::array context_items;  // everything before the input (stored for chaining)
  json::array input;          // this request's items

  bool store() const {
    const json::value* s = request_.if_contains("store");
    return s == nullptr || !s->is_bool() || s->get_bool();
  }
  const json::object& response() const { return response_; }
  const json::array& output() const { return output_; }
  std::optional<std::string> conversation_id;
  bool streaming = false;
  std::optional<std::string> guardrail_refusal;  // a guardrail's violation message
  std::vector<std::string> guardrails;           // shield ids
  std::optional<ApiError> error;                 // why the response failed

 private:
  async::Task<void> infer();
  // The first guardrail violation over `messages` (its user message), if any.
  async::Task<std::optional<std::string>> guard(json::array messages);
  async::Task<void> file_search(json::object call);
  async::Task<void> web_search(json::object call);
  async::Task<void> mcp_call(json::object call);
  // Lists each `mcp` tool's server (an mcp_list_tools item each) and offers
  // their (allowed) tools to the model.
  async::Task<void> list_mcp_tools();
  json::object snapshot(std::string_view status) const;

  const ProviderDeps& deps_;
  utils::McpClient& mcp_;
  const apis::CallContext& context_;
  json::object request_;
  ResponseEmitter emitter_;
  std::string id_ = "resp_" + random_uuid4();
  std::int64_t created_at_ = unix_seconds();
  std::string model_;
  std::optional<std::string> instructions_;
  ResponseTools tools_;
  json::value response_format_;
  json::array messages_;
  json::array output_;
  json::object response_;
  utils::Usage usage_;
  std::int64_t tool_calls_ = 0;
  std::int64_t max_tool_calls_ = -1;
  bool client_calls_ = false;
  std::optional<json::object> failure_;
};

json::object ResponseRun::snapshot(std::string_view status) const {
  json::object r{
      {"id", id_},
      {"object", "response"},
      {"created_at", created_at_},
      {"model", model_},
      {"status", status},
      {"output", output_},
      {"error", failure_ ? json::value(*failure_) : json::value(nullptr)},
      {"incomplete_details", nullptr},
      {"instructions", instructions_ ? json::value(*instructions_) : json::value(nullptr)},
      {"max_output_tokens", field_or_null(request_, "max_output_tokens")},
      {"max_tool_calls", field_or_null(request_, "max_tool_calls")},
      {"metadata", request_.contains("metadata") && request_.at("metadata").is_object()
                       ? request_.at("metadata")
                       : json::value(json::object{})},
      {"parallel_tool_calls", request_.contains("parallel_tool_calls")
                                  ? request_.at("parallel_tool_calls")
                                  : json::value(true)},
      {"previous_response_id", field_or_null(request_, "previous_response_id")},
      {"temperature", field_or_null(request_, "temperature")},
      {"top_p", field_or_null(request_, "top_p")},
      {"text", request_.contains("text")
                   ? request_.at("text")
                   : json::value(json::object{{"format", json::object{{"type", "text"}}}})},
      {"tool_choice",
       request_.contains("tool_choice") ? request_.at("tool_choice") : json::value("auto")},
      {"tools", request_.contains("tools") ? request_.at("tools") : json::value(json::array{})},
      {"truncation", "disabled"},
      {"store", store()},
      {"user", field_or_null(request_, "user")}};
  if (conversation_id) r["conversation"] = json::object{{"id", *conversation_id}};
  r["usage"] = json::object{{"input_tokens", usage_.prompt_tokens},
                            {"output_tokens", usage_.completion_tokens},
                            {"total_tokens", usage_.total()},
                            {"input_tokens_details", json::object{{"cached_tokens", 0}}},
                            {"output_tokens_details", json::object{{"reasoning_tokens", 0}}}};
  return r;
}

async::Task<void> ResponseRun::prepare(storage::KVStore& kv) {
  JsonReader r(request_);
  model_ = r.required_string("model");
  instructions_ = r.optional_string("instructions");
  const json::value* in = r.find("input");
  if (in == nullptr) throw JsonFieldError("input", "Field 'input' is required");
  input = input_items(*in);
  tools_ = response_tools(r.find("tools"));
  response_format_ = response_format(r.find("text"));
  if (auto m = r.optional_int("max_tool_calls")) {
    if (*m < 1) throw JsonFieldError("max_tool_calls", "Field 'max_tool_calls' must be at least 1");
    max_tool_calls_ = *m;
  }
  if (auto m = r.optional_int("max_output_tokens"); m && *m < 1) {
    throw JsonFieldError("max_output_tokens", "Field 'max_output_tokens' must be at least 1");
  }
  const auto previous = r.optional_string("previous_response_id");
  std::optional<std::string> conversation;
  if (const json::value* c = r.find("conversation")) {
    if (c->is_string()) {
      conversation = std::string(c->get_string());
    } else if (c->is_object() && json_field(c->get_object(), "id") &&
               c->get_object().at("id").is_string()) {
      conversation = std::string(c->get_object().at("id").get_string());
    } else {
      throw JsonFieldError("conversation", "Field 'conversation' must be an id or {id}");
    }
  }
  if (previous && conversation) {
    throw ApiError::bad_request("previous_response_id and conversation cannot both be given");
  }
  if (previous) {
    std::optional<std::string> stored = kv.get(std::string(kPrefix) + *previous);
    if (!stored) throw ApiError::not_found("Response '" + *previous + "' not found");
    // (The responses router checked that the caller may read it.)
    json::object record = parse_json(*stored).as_object();
    if (const json::value* c = record.if_contains("context"); c && c->is_array()) {
      context_items = c->get_array();
    }
  }
  if (conversation) {
    if (deps_.conversations == nullptr) {
      throw ApiError::not_implemented("Conversations are not available");
    }
    auto items = deps_.conversations->all_items(context_, *conversation);  // 404 when unknown
    context_items = co_await std::move(items);
    conversation_id = conversation;
  }
  json::array all = context_items;
  for (const auto& i : input) all.push_back(i);
  messages_ = chat_messages(all, instructions_);
  // Guardrails (Llama Stack's extension): shields over the input.
  if (const json::value* g = r.find("guardrails"); g && g->is_array() && !g->get_array().empty()) {
    if (deps_.safety == nullptr) {
      throw ApiError::bad_request("guardrails need a safety provider, and none is configured");
    }
    json::array user;
    for (const auto& m : messages_) {
      if (json_string(m.as_object(), "role") == "user") user.push_back(m);
    }
    for (const auto& shield : g->get_array()) {
      guardrails.push_back(shield.is_string() ? std::string(shield.get_string())
                                              : json_string(shield.as_object(), "id"));
    }
    auto checked = guard(std::move(user));
    guardrail_refusal = co_await std::move(checked);
  }
}

async::Task<std::optional<std::string>> ResponseRun::guard(json::array messages) {
  for (const auto& id : guardrails) {
    auto checked = deps_.safety->run_shield(context_, id, messages, json::object{});
    apis::RunShieldResponse verdict = co_await std::move(checked);
    if (verdict.violation && verdict.violation->violation_level == "error") {
      co_return verdict.violation->user_message;
    }
  }
  co_return std::nullopt;
}

async::Task<void> ResponseRun::infer() {
  json::object chat{{"model", model_}, {"messages", messages_}};
  const bool offer_tools =
      !tools_.chat_tools.empty() && (max_tool_calls_ < 0 || tool_calls_ < max_tool_calls_);
  if (offer_tools) {
    chat["tools"] = tools_.chat_tools;
    if (const json::value* c = request_.if_contains("tool_choice"); c && !c->is_null()) {
      if (c->is_string()) {
        chat["tool_choice"] = *c;
      } else if (c->is_object() && json_string(c->get_object(), "type") == "function") {
        chat["tool_choice"] = json::object{
            {"type", "function"},
            {"function", json::object{{"name", json_string(c->get_object(), "name")}}}};
      }
    }
    if (const json::value* p = request_.if_contains("parallel_tool_calls"); p && p->is_bool()) {
      chat["parallel_tool_calls"] = *p;
    }
  }
  for (const char* key : {"temperature", "top_p"}) {
    if (const json::value* v = json_field(request_, key)) chat[key] = *v;
  }
  if (const json::value* m = json_field(request_, "max_output_tokens")) chat["max_tokens"] = *m;
  if (!response_format_.is_null()) chat["response_format"] = response_format_;
  const bool streamed = streaming;
  chat["stream"] = streamed;
  if (streamed) chat["stream_options"] = json::object{{"include_usage", true}};
  apis::ChunkSink sink;
  if (streamed) {
    sink = [this](json::object chunk) {
      for (const auto& text : utils::chunk_texts(chunk)) emitter_.text_delta(text);
    };
  }
  apis::CallContext child = context_;
  child.settle_tokens = {};
  json::object completion;
  std::optional<std::string> refusal;
  bool checked_all = false;  // the guardrails judged the whole answer while it streamed
  if (streamed && !guardrails.empty()) {
    // Guarded stream: the answer is checked in windows of kGuardrailWindow
    // characters as it arrives; each window is sent once it passed.
    auto channel = std::make_shared<async::Channel<std::string>>(context_.executor);
    auto generation = async::start(generate_into(*deps_.inference, child, std::move(chat), channel),
                                   context_.executor);
    std::string passed, pending, piece;
    for (;;) {
      auto next = channel->pop(piece);
      const bool more = co_await next;
      if (refusal) {
        if (!more) break;
        continue;  // drain what the model still sends
      }
      if (more) pending += piece;
      if (pending.empty() || (more && pending.size() < kGuardrailWindow)) {
        if (!more) break;
        continue;
      }
      auto checked =
          guard(json::array{json::object{{"role", "assistant"}, {"content", passed + pending}}});
      refusal = co_await std::move(checked);
      if (!refusal) {
        emitter_.text_delta(pending);
        passed += pending;
        pending.clear();
      }
      if (!more) break;
    }
    auto joined = generation.join();
    completion = co_await joined;
    checked_all = true;
  } else {
    auto call = deps_.inference->chat_completion(child, std::move(chat), sink);
    completion = co_await std::move(call);
  }
  utils::add_usage(completion, usage_);
  json::object message = utils::first_message(completion);
  const std::string text = json_string(message, "content");
  if (!guardrails.empty() && !text.empty() && !checked_all) {
    auto checked = guard(json::array{json::object{{"role", "assistant"}, {"content", text}}});
    refusal = co_await std::move(checked);
  }
  // What passed before a refusal stays (it was checked); the rest is refused.
  if (std::optional<json::object> item = emitter_.end_message()) {
    output_.push_back(std::move(*item));
  } else if (!text.empty() && !refusal) {
    output_.push_back(emitter_.message(text));
  }
  if (refusal) {
    output_.push_back(emitter_.refusal(*refusal));
    message["content"] = *refusal;
  }
  messages_.push_back(message);
  json::array server_calls;
  for (const utils::FunctionCall& f : utils::function_calls(message)) {
    if ((f.name == "file_search" && tools_.file_search) ||
        (f.name == "web_search" && tools_.web_search) || tools_.mcp_tool_server.count(f.name) > 0) {
      server_calls.push_back(json::object{
          {"id", f.id}, {"function", json::object{{"name", f.name}, {"arguments", f.arguments}}}});
      continue;
    }
    json::object item{{"id", "fc_" + random_uuid4()},
                      {"type", "function_call"},
                      {"call_id", f.id},
                      {"name", f.name},
                      {"arguments", f.arguments},
                      {"status", "completed"}};
    emitter_.function_call(item);
    output_.push_back(std::move(item));
    client_calls_ = true;
  }
  for (const auto& c : server_calls) {
    const json::object& call_object = c.as_object();
    const std::string name = json_string(call_object.at("function").as_object(), "name");
    if (name == "file_search" && tools_.file_search) {
      auto searched = file_search(call_object);
      co_await std::move(searched);
    } else if (name == "web_search" && tools_.web_search) {
      auto searched = web_search(call_object);
      co_await std::move(searched);
    } else {
      auto called = mcp_call(call_object);
      co_await std::move(called);
    }
  }
}

async::Task<void> ResponseRun::file_search(json::object call) {
  ++tool_calls_;
  const std::string call_id = json_string(call, "id");
  std::string arguments;
  if (const json::value* f = call.if_contains("function"); f && f->is_object()) {
    arguments = json_string(f->get_object(), "arguments");
  }
  std::string query;
  try {
    json::value args = parse_json(arguments.empty() ? "{}" : arguments);
    if (args.is_object()) query = json_string(args.get_object(), "query");
  } catch (const std::exception&) {
  }
  json::object item{{"id", "fs_" + random_uuid4()},
                    {"type", "file_search_call"},
                    {"status", "in_progress"},
                    {"queries", json::array{query}},
                    {"results", nullptr}};
  emitter_.tool_started(item, "response.file_search_call", {"in_progress", "searching"});
  json::array results;
  std::string error;
  if (query.empty()) {
    error = "the model called file_search without a query";
  } else if (deps_.vector_stores == nullptr) {
    error = "vector stores are not available";
  } else {
    std::vector<json::object> found;
    for (const auto& id : tools_.file_search->vector_store_ids) {
      if (!id.is_string()) continue;
      apis::VectorStoreSearchRequest search;
      search.queries = {query};
      search.max_num_results = std::clamp<std::int64_t>(tools_.file_search->max_num_results, 1, 50);
      if (tools_.file_search->filters) search.filters = *tools_.file_search->filters;
      if (tools_.file_search->ranking_options) {
        const json::object& ro = *tools_.file_search->ranking_options;
        if (const json::value* t = ro.if_contains("score_threshold"); t && t->is_number()) {
          search.score_threshold = t->to_number<double>();
        }
      }
      try {
        auto page =
            deps_.vector_stores->search(context_, std::string(id.get_string()), std::move(search));
        apis::VectorStoreSearchPage answer = co_await std::move(page);
        for (const auto& r : answer.data) {
          found.push_back(json::object{{"file_id", r.file_id},
                                       {"filename", r.filename},
                                       {"score", r.score},
                                       {"text", r.text},
                                       {"attributes", r.attributes}});
        }
      } catch (const ApiError& e) {
        if (e.status() == 499) throw;
        error = e.what();
      }
    }
    std::stable_sort(found.begin(), found.end(), [](const json::object& a, const json::object& b) {
      return a.at("score").to_number<double>() > b.at("score").to_number<double>();
    });
    if (static_cast<std::int64_t>(found.size()) > tools_.file_search->max_num_results) {
      found.resize(static_cast<std::size_t>(tools_.file_search->max_num_results));
    }
    for (auto& f : found) results.push_back(std::move(f));
  }
  item["status"] = error.empty() ? "completed" : "failed";
  item["results"] = results;
  emitter_.tool_done(item, "response.file_search_call", !error.empty());
  output_.push_back(item);
  messages_.push_back(
      json::object{{"role", "tool"},
                   {"tool_call_id", call_id},
                   {"content", error.empty() ? file_search_text(results) : "Error: " + error}});
}

namespace {

http::Headers headers_of(const json::object& headers) {
  http::Headers out;
  for (const auto& [k, v] : headers) {
    if (v.is_string()) out.set(std::string(k), std::string(v.get_string()));
  }
  return out;
}

// The text of MCP or tool-runtime content items.
std::string content_text(const json::value& content) {
  if (content.is_string()) return std::string(content.get_string());
  std::string text;
  if (content.is_array()) {
    for (const auto& c : content.get_array()) {
      if (c.is_object() && json_string(c.get_object(), "type") == "text") {
        if (!text.empty()) text += "\n";
        text += json_string(c.get_object(), "text");
      }
    }
  }
  return text;
}

std::string call_argument(const json::object& call, std::string_view key) {
  const json::value* f = call.if_contains("function");
  if (f == nullptr || !f->is_object()) return "";
  try {
    json::value args = parse_json(json_string(f->get_object(), "arguments"));
    if (args.is_object()) return json_string(args.get_object(), key);
  } catch (const std::exception&) {
  }
  return "";
}

}  // namespace

async::Task<void> ResponseRun::list_mcp_tools() {
  for (std::size_t i = 0; i < tools_.mcp.size(); ++i) {
    const McpTool& server = tools_.mcp[i];
    json::object item{{"id", "mcpl_" + random_uuid4()},
                      {"type", "mcp_list_tools"},
                      {"server_label", server.server_label},
                      {"tools", json::array{}}};
    emitter_.tool_started(item, "response.mcp_list_tools", {"in_progress"});
    std::string error;
    try {
      auto listed = mcp_.list_tools(context_, server.server_url, headers_of(server.headers));
      std::vector<json::object> tools = co_await std::move(listed);
      json::array described;
      for (const auto& t : tools) {
        const std::string name = json_string(t, "name");
        if (name.empty() || (server.allowed_tools && server.allowed_tools->count(name) == 0)) {
          continue;
        }
        json::value schema = t.contains("inputSchema")
                                 ? t.at("inputSchema")
                                 : json::value(json::object{{"type", "object"}});
        described.push_back(json::object{{"name", name},
                                         {"description", field_or_null(t, "description")},
                                         {"input_schema", schema}});
        json::object function{{"name", name}, {"parameters", schema}};
        if (const json::value* d = t.if_contains("description"); d && d->is_string()) {
          function["description"] = *d;
        }
        tools_.chat_tools.push_back(
            json::object{{"type", "function"}, {"function", std::move(function)}});
        tools_.mcp_tool_server[name] = i;
      }
      item["tools"] = std::move(described);
    } catch (const ApiError& e) {
      if (e.status() == 499) throw;
      error = e.what();
      item["error"] = error;
    }
    emitter_.tool_done(item, "response.mcp_list_tools", !error.empty());
    output_.push_back(std::move(item));
    if (!error.empty()) {
      throw ApiError(502, "MCP server '" + server.server_label + "': " + error);
    }
  }
}

async::Task<void> ResponseRun::web_search(json::object call) {
  ++tool_calls_;
  const std::string query = call_argument(call, "query");
  json::object item{{"id", "ws_" + random_uuid4()},
                    {"type", "web_search_call"},
                    {"status", "in_progress"},
                    {"action", json::object{{"type", "search"}, {"query", query}}}};
  emitter_.tool_started(item, "response.web_search_call", {"in_progress", "searching"});
  std::string text;
  bool failed = false;
  if (deps_.tool_runtime == nullptr) {
    text = "Error: web search is not available (no tool_runtime provider)";
    failed = true;
  } else {
    apis::CallContext child = context_;
    child.settle_tokens = {};
    try {
      const std::string tool = "web_search";  // the call keeps a reference: not a temporary
      auto invoked = deps_.tool_runtime->invoke_tool(child, tool, json::object{{"query", query}});
      apis::ToolInvocationResult result = co_await std::move(invoked);
      text = content_text(result.content);
      if (result.error_message) {
        text = "Error: " + *result.error_message;
        failed = true;
      }
    } catch (const ApiError& e) {
      if (e.status() == 499) throw;
      text = std::string("Error: ") + e.what();
      failed = true;
    }
  }
  item["status"] = failed ? "failed" : "completed";
  emitter_.tool_done(item, "response.web_search_call", failed);
  output_.push_back(item);
  messages_.push_back(
      json::object{{"role", "tool"}, {"tool_call_id", json_string(call, "id")}, {"content", text}});
}

async::Task<void> ResponseRun::mcp_call(json::object call) {
  ++tool_calls_;
  const json::object& function = call.at("function").as_object();
  const std::string name = json_string(function, "name");
  const McpTool& server = tools_.mcp[tools_.mcp_tool_server.at(name)];
  const std::string arguments = json_string(function, "arguments");
  json::object item{{"id", "mcp_" + random_uuid4()},
                    {"type", "mcp_call"},
                    {"server_label", server.server_label},
                    {"name", name},
                    {"arguments", arguments},
                    {"output", nullptr},
                    {"error", nullptr}};
  emitter_.tool_started(item, "response.mcp_call", {"in_progress"});
  emitter_.mcp_arguments(item);
  std::string text;
  bool failed = false;
  json::object args;
  try {
    json::value parsed = parse_json(arguments.empty() ? "{}" : arguments);
    if (!parsed.is_object()) throw std::runtime_error("not an object");
    args = std::move(parsed.get_object());
  } catch (const std::exception&) {
    text = "Error: the arguments of the call to '" + name + "' are not a JSON object";
    failed = true;
  }
  if (!failed) {
    try {
      auto called = mcp_.call_tool(context_, server.server_url, headers_of(server.headers), name,
                                   std::move(args));
      json::object result = co_await std::move(called);
      text = content_text(result.contains("content") ? result.at("content") : json::value());
      if (const json::value* e = result.if_contains("isError");
          e && e->is_bool() && e->get_bool()) {
        failed = true;
      }
    } catch (const ApiError& e) {
      if (e.status() == 499) throw;
      text = std::string("Error: ") + e.what();
      failed = true;
    }
  }
  if (failed) {
    item["error"] = text;
  } else {
    item["output"] = text;
  }
  emitter_.tool_done(item, "response.mcp_call", failed);
  output_.push_back(item);
  messages_.push_back(
      json::object{{"role", "tool"}, {"tool_call_id", json_string(call, "id")}, {"content", text}});
}

async::Task<json::object> ResponseRun::run() {
  emitter_.response_event("response.created", snapshot("in_progress"));
  emitter_.response_event("response.in_progress", snapshot("in_progress"));
  try {
    if (guardrail_refusal) {
      output_.push_back(emitter_.refusal(*guardrail_refusal));
    } else {
      if (!tools_.mcp.empty()) {
        auto listed = list_mcp_tools();
        co_await std::move(listed);
      }
      for (std::int64_t i = 0; i < kMaxIterations; ++i) {
        const std::size_t before = output_.size();
        auto step = infer();
        co_await std::move(step);
        bool searched = false;
        for (std::size_t k = before; k < output_.size(); ++k) {
          const std::string type = json_string(output_[k].as_object(), "type");
          searched = searched || type == "file_search_call" || type == "web_search_call" ||
                     type == "mcp_call";
        }
        if (client_calls_ || !searched) break;  // a final answer, or the client's turn
      }
    }
    response_ = snapshot("completed");
    emitter_.response_event("response.completed", response_);
  } catch (...) {
    ApiError e = to_api_error(std::current_exception(), "response");
    if (e.status() == 499) throw;
    failure_ = json::object{{"code", e.status() >= 500 ? "server_error" : "invalid_request"},
                            {"message", e.what()}};
    error = e;
    response_ = snapshot("failed");
    emitter_.response_event("response.failed", response_);
  }
  if (context_.settle_tokens) context_.settle_tokens(usage_.total());
  co_return response_;
}

}  // namespace

async::Task<json::object> ResponsesEngine::create_response(const apis::CallContext& context,
                                                           json::object request,
                                                           apis::ResponseEventSink on_event) {
  if (deps_.inference == nullptr) throw ApiError::unavailable("responses: no inference router");
  const bool streaming = static_cast<bool>(on_event);
  ResponseRun run(deps_, *mcp_, context, std::move(request), std::move(on_event));
  run.streaming = streaming;
  auto prepared = run.prepare(*kv_);
  co_await std::move(prepared);
  auto ran = run.run();
  json::object response = co_await std::move(ran);
  json::array context_items = run.context_items;
  for (const auto& i : run.input) context_items.push_back(i);
  for (const auto& o : run.output()) context_items.push_back(o);
  if (run.store()) {
    json::object record{{"response", response},
                        {"input_items", run.input},
                        {"context", context_items},
                        {"created_at", response.at("created_at")},
                        {"order", std::chrono::duration_cast<std::chrono::microseconds>(
                                      std::chrono::system_clock::now().time_since_epoch())
                                      .count()}};
    if (context.user) record["owner"] = context.user->to_json();
    kv_->set(std::string(kPrefix) + json_string(response, "id"), to_json(record));
  }
  if (run.conversation_id && json_string(response, "status") == "completed") {
    json::array added = run.input;
    for (const auto& o : run.output()) added.push_back(o);
    auto appended = deps_.conversations->add_items(context, *run.conversation_id, std::move(added));
    co_await std::move(appended);
  }
  // Not streamed: a failure is the HTTP error (the failed response is stored).
  if (!streaming && run.error) throw *run.error;
  co_return response;
}

std::optional<json::object> ResponsesEngine::record(const std::string& response_id) const {
  std::optional<std::string> stored = kv_->get(std::string(kPrefix) + response_id);
  if (!stored) return std::nullopt;
  json::value parsed = parse_json(*stored);
  if (!parsed.is_object()) return std::nullopt;
  return std::move(parsed.get_object());
}

std::optional<apis::Owner> ResponsesEngine::owner(const std::string& response_id) const {
  std::optional<json::object> r = record(response_id);
  if (!r) throw response_not_found(response_id);
  const json::value* o = r->if_contains("owner");
  return o != nullptr ? apis::Owner::from_json(*o) : std::nullopt;
}

async::Task<json::object> ResponsesEngine::get_response(const apis::CallContext&,
                                                        std::string response_id) {
  std::optional<json::object> r = record(response_id);
  if (!r) throw response_not_found(response_id);
  co_return r->at("response").as_object();
}

async::Task<json::object> ResponsesEngine::list_responses(const apis::CallContext&,
                                                          apis::CursorQuery query) {
  std::vector<std::pair<std::int64_t, json::object>> records;
  for (const auto& [key, value] : kv_->scan_prefix(kPrefix)) {
    try {
      json::object r = parse_json(value).as_object();
      std::optional<apis::Owner> owner;
      if (const json::value* o = r.if_contains("owner")) owner = apis::Owner::from_json(*o);
      const std::string id = key.substr(kPrefix.size());
      if (query.visible && !query.visible(id, owner)) continue;
      json::object response = r.at("response").as_object();
      if (query.model && json_string(response, "model") != *query.model) continue;
      const json::value* order = r.if_contains("order");
      records.emplace_back(order && order->is_int64() ? order->get_int64() : 0,
                           std::move(response));
    } catch (const std::exception& e) {
      LS_WARN(kAgents, "responses: unreadable record '{}': {}", key, e.what());
    }
  }
  std::sort(records.begin(), records.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<json::object> items;
  for (auto& r : records) items.push_back(std::move(r.second));
  co_return routing::cursor_list(std::move(items), query);
}

async::Task<json::object> ResponsesEngine::list_input_items(const apis::CallContext&,
                                                            std::string response_id,
                                                            apis::CursorQuery query) {
  std::optional<json::object> r = record(response_id);
  if (!r) throw response_not_found(response_id);
  std::vector<json::object> items;
  if (const json::value* in = r->if_contains("input_items"); in && in->is_array()) {
    for (const auto& i : in->get_array()) {
      if (i.is_object()) items.push_back(i.get_object());
    }
  }
  co_return routing::cursor_list(std::move(items), query);
}

async::Task<void> ResponsesEngine::delete_response(const apis::CallContext&,
                                                   std::string response_id) {
  if (!record(response_id)) throw response_not_found(response_id);
  kv_->remove(std::string(kPrefix) + response_id);
  co_return;
}

}  // namespace llama_stack::providers::inline_::agents
