#include "providers/inline/agents/agent_turn.h"

#include "core/inference/native.h"
#include "core/log/log.h"
#include "core/util/api_error.h"
#include "core/util/ids.h"
#include "core/util/json.h"
#include "llama_stack/async/when_all.h"
#include "providers/utils/chat_completion.h"

namespace llama_stack::providers::inline_::agents {
namespace {

json::array array_of(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v != nullptr && v->is_array() ? v->get_array() : json::array{};
}

json::object assistant_message(std::string content, std::string_view stop_reason,
                               json::array tool_calls = {}) {
  return json::object{{"role", "assistant"},
                      {"content", std::move(content)},
                      {"stop_reason", stop_reason},
                      {"tool_calls", std::move(tool_calls)}};
}

// The tool response content the model sees for a failure.
std::string tool_error(const std::string& what) {
  return "Error: " + what;
}

}  // namespace

json::object TurnState::to_json() const {
  json::object o{{"agent_id", agent_id},
                 {"session_id", session_id},
                 {"turn_id", turn_id},
                 {"started_at", started_at},
                 {"input_messages", input_messages},
                 {"messages", messages},
                 {"steps", steps},
                 {"inference_calls", inference_calls},
                 {"pending_step_id", pending_step_id},
                 {"pending_started_at", pending_started_at},
                 {"pending_calls", pending_calls}};
  if (toolgroups) o["toolgroups"] = *toolgroups;
  if (tool_config) o["tool_config"] = *tool_config;
  return o;
}

TurnState TurnState::from_json(const json::object& o) {
  TurnState s;
  s.agent_id = json_string(o, "agent_id");
  s.session_id = json_string(o, "session_id");
  s.turn_id = json_string(o, "turn_id");
  s.started_at = json_string(o, "started_at");
  s.input_messages = array_of(o, "input_messages");
  s.messages = array_of(o, "messages");
  s.steps = array_of(o, "steps");
  if (const json::value* n = o.if_contains("inference_calls"); n && n->is_int64()) {
    s.inference_calls = n->get_int64();
  }
  if (const json::value* t = o.if_contains("toolgroups"); t && t->is_array()) {
    s.toolgroups = t->get_array();
  }
  if (const json::value* t = o.if_contains("tool_config"); t && t->is_object()) {
    s.tool_config = t->get_object();
  }
  s.pending_step_id = json_string(o, "pending_step_id");
  s.pending_started_at = json_string(o, "pending_started_at");
  s.pending_calls = array_of(o, "pending_calls");
  return s;
}

const json::object& TurnRunner::config() const {
  return agent_.at("agent_config").as_object();
}

void TurnRunner::emit(json::object payload) {
  if (on_event_) on_event_(std::move(payload));
}

async::Task<json::object> TurnRunner::start(TurnState state) {
  emit(json::object{{"event_type", "turn_start"}, {"turn_id", state.turn_id}});
  auto ran = run(std::move(state), true);
  co_return co_await std::move(ran);
}

async::Task<json::object> TurnRunner::resume(TurnState state, json::array tool_responses) {
  std::set<std::string> pending;
  for (const auto& c : state.pending_calls) {
    if (c.is_object()) pending.insert(json_string(c.get_object(), "call_id"));
  }
  json::array responses;
  for (std::size_t i = 0; i < tool_responses.size(); ++i) {
    const std::string field = "tool_responses[" + std::to_string(i) + "]";
    JsonReader r(tool_responses[i], field);
    const std::string call_id = r.required_string("call_id");
    if (pending.count(call_id) == 0) {
      throw JsonFieldError(field + ".call_id", "Field '" + field + ".call_id': turn '" +
                                                   state.turn_id + "' awaits no call '" + call_id +
                                                   "'");
    }
    const json::value* content = r.find("content");
    json::object response{{"call_id", call_id},
                          {"tool_name", r.required_string("tool_name")},
                          {"content", content != nullptr ? *content : json::value("")},
                          {"metadata", r.find("metadata") ? *r.find("metadata") : json::value()}};
    state.messages.push_back(
        json::object{{"role", "tool"}, {"call_id", call_id}, {"content", response["content"]}});
    responses.push_back(std::move(response));
  }
  // As Python: the client tools' step completes now (it never started on the stream).
  json::object details = step_details("tool_execution", state.turn_id, state.pending_step_id,
                                      state.pending_started_at);
  details["tool_calls"] = state.pending_calls;
  details["tool_responses"] = std::move(responses);
  state.steps.push_back(details);
  emit(step_complete("tool_execution", state.pending_step_id, std::move(details)));
  state.pending_step_id.clear();
  state.pending_started_at.clear();
  state.pending_calls.clear();
  auto ran = run(std::move(state), false);
  co_return co_await std::move(ran);
}

async::Task<json::object> TurnRunner::run(TurnState state, bool check_input) {
  try {
    const json::object& cfg = config();
    if (check_input) {
      json::array input_shields = array_of(cfg, "input_shields");
      if (!input_shields.empty()) {
        auto checked = shields(state, std::move(input_shields), "user-input");
        std::optional<json::object> violation = co_await std::move(checked);
        if (violation) {
          co_return finish(
              state, assistant_message(json_string(*violation, "user_message"), "end_of_turn"),
              false);
        }
      }
    }
    auto listed = tools(state);
    const Toolset toolset = co_await std::move(listed);
    std::int64_t max_iters = 10;
    if (const json::value* m = cfg.if_contains("max_infer_iters"); m && m->is_int64()) {
      max_iters = std::max<std::int64_t>(1, m->get_int64());
    }
    json::object output;
    for (;;) {
      auto inferred = infer(state, toolset);
      json::object message = co_await std::move(inferred);
      const json::array calls = array_of(message, "tool_calls");
      if (calls.empty() || json_string(message, "stop_reason") == "out_of_tokens") {
        output = std::move(message);
        break;
      }
      if (state.inference_calls >= max_iters) {
        // As Python: the last message's tool calls are not run.
        output = std::move(message);
        output["stop_reason"] = "end_of_turn";
        break;
      }
      json::array client_calls;
      for (const auto& c : calls) {
        const std::string name = json_string(c.get_object(), "tool_name");
        if (toolset.client_tools.count(name) > 0) {
          client_calls.push_back(c);
          continue;
        }
        auto executed = execute(state, toolset, c.get_object());
        co_await std::move(executed);
      }
      if (!client_calls.empty()) {
        state.pending_step_id = random_uuid4();
        state.pending_started_at = now_iso();
        state.pending_calls = client_calls;
        co_return finish(state, assistant_message("", "end_of_message", std::move(client_calls)),
                         true);
      }
    }
    json::array output_shields = array_of(cfg, "output_shields");
    if (!output_shields.empty()) {
      auto checked = shields(state, std::move(output_shields), "assistant-output");
      std::optional<json::object> violation = co_await std::move(checked);
      if (violation) {
        output = assistant_message(json_string(*violation, "user_message"), "end_of_turn");
      }
    }
    co_return finish(state, std::move(output), false);
  } catch (...) {
    // The turn is stored as it stands (no output message, not completed),
    // then the failure goes to the caller.
    try {
      json::object turn{{"turn_id", state.turn_id},
                        {"session_id", state.session_id},
                        {"input_messages", state.input_messages},
                        {"steps", state.steps},
                        {"output_message", nullptr},
                        {"output_attachments", json::array{}},
                        {"started_at", state.started_at},
                        {"completed_at", nullptr}};
      deps_.store->put_turn(state.agent_id, turn);
    } catch (const std::exception& e) {
      LS_WARN(kAgents, "agents: storing incomplete turn '{}' failed: {}", state.turn_id, e.what());
    }
    if (context_.settle_tokens) context_.settle_tokens(tokens_);
    throw;
  }
}

routing::ChildSpan TurnRunner::step_span(const char* step_type, const TurnState& state,
                                         const std::string& step_id) {
  routing::ChildSpan span(deps_.telemetry, context_, std::string("agent.step.") + step_type);
  json::object& a = span.attributes();
  a["step_type"] = step_type;
  a["step_id"] = step_id;
  a["turn_id"] = state.turn_id;
  a["session_id"] = state.session_id;
  a["agent_id"] = state.agent_id;
  return span;
}

async::Task<std::optional<json::object>> TurnRunner::shields(TurnState& state, json::array ids,
                                                             std::string touchpoint) {
  if (deps_.safety == nullptr) {
    throw ApiError::bad_request("The agent has shields but no safety provider is configured");
  }
  const std::string step_id = random_uuid4();
  const std::string started = now_iso();
  emit(step_start("shield_call", step_id, json::object{{"touchpoint", touchpoint}}));
  std::vector<std::string> names;  // alive while the calls run (they take references)
  for (const auto& id : ids) {
    if (!id.is_string()) throw ApiError::bad_request("Shield ids must be strings");
    names.emplace_back(id.get_string());
  }
  routing::ChildSpan span = step_span("shield_call", state, step_id);
  apis::CallContext child = span.context();
  child.settle_tokens = {};
  std::vector<async::Task<apis::RunShieldResponse>> calls;
  for (const auto& name : names) {
    calls.push_back(deps_.safety->run_shield(child, name, state.messages, json::object{}));
  }
  auto all = async::when_all(std::move(calls));
  std::vector<apis::RunShieldResponse> results;
  try {
    results = co_await std::move(all);
  } catch (...) {
    span.finish(std::current_exception());
    throw;
  }
  span.finish(nullptr);
  std::optional<json::object> violation;
  for (const auto& r : results) {
    if (r.violation && r.violation->violation_level == "error" && !violation) {
      violation = r.to_json().at("violation").as_object();
    } else if (r.violation && r.violation->violation_level != "error") {
      LS_INFO(kAgents, "agents: shield warning ({}): {}", touchpoint, r.violation->user_message);
    }
  }
  json::object details = step_details("shield_call", state.turn_id, step_id, started);
  details["violation"] = violation ? json::value(*violation) : json::value(nullptr);
  state.steps.push_back(details);
  emit(step_complete("shield_call", step_id, std::move(details)));
  co_return violation;
}

async::Task<Toolset> TurnRunner::tools(TurnState& state) {
  const json::object& cfg = config();
  Toolset toolset;
  const json::array agent_groups = array_of(cfg, "toolgroups");
  const json::array& groups =
      state.toolgroups && !state.toolgroups->empty() ? *state.toolgroups : agent_groups;
  // Args merge per group across the agent's and the turn's lists.
  std::map<std::string, json::object> args;
  const json::array* lists[] = {&agent_groups, state.toolgroups ? &*state.toolgroups : nullptr};
  for (const json::array* list : lists) {
    if (list == nullptr) continue;
    for (std::size_t i = 0; i < list->size(); ++i) {
      ToolgroupRef ref = toolgroup_ref((*list)[i], "toolgroups[" + std::to_string(i) + "]");
      for (auto& [k, v] : ref.args) args[ref.group][k] = v;
    }
  }
  apis::CallContext child = context_;
  child.settle_tokens = {};
  for (std::size_t i = 0; i < groups.size(); ++i) {
    const ToolgroupRef ref = toolgroup_ref(groups[i], "toolgroups[" + std::to_string(i) + "]");
    if (deps_.tool_runtime == nullptr) {
      throw ApiError::bad_request("Tool group '" + ref.group +
                                  "' needs a tool_runtime provider, and none is configured");
    }
    auto listed = deps_.tool_runtime->list_tools(child, ref.group);
    std::vector<std::pair<apis::ToolGroup, apis::ToolDef>> found = co_await std::move(listed);
    bool matched = false;
    for (const auto& entry : found) {
      const apis::ToolDef& def = entry.second;
      if (ref.tool && def.name != *ref.tool) continue;
      matched = true;
      // As Python: builtin::websearch's web_search is offered as brave_search.
      const std::string offered = def.name == "web_search" ? "brave_search" : def.name;
      toolset.add(def, offered, false, args[ref.group]);
    }
    if (ref.tool && !matched) {
      throw ApiError::bad_request("Tool '" + *ref.tool + "' not found in tool group '" + ref.group +
                                  "'");
    }
  }
  const json::array client = array_of(cfg, "client_tools");
  for (std::size_t i = 0; i < client.size(); ++i) {
    const apis::ToolDef def = client_tool_def(client[i], "client_tools[" + std::to_string(i) + "]");
    toolset.add(def, def.name, true, {});
  }
  co_return toolset;
}

async::Task<json::object> TurnRunner::infer(TurnState& state, const Toolset& toolset) {
  const json::object& cfg = config();
  const std::string model = json_string(cfg, "model");
  json::object native{{"model_id", model}, {"messages", state.messages}, {"stream", true}};
  if (!toolset.definitions.empty()) native["tools"] = toolset.definitions;
  json::object tool_config;
  if (const json::value* t = cfg.if_contains("tool_config"); t && t->is_object()) {
    tool_config = t->get_object();
  }
  if (state.tool_config) {
    for (const auto& [k, v] : *state.tool_config) tool_config[k] = v;  // the turn's override
  }
  if (const json::value* c = tool_config.if_contains("tool_choice"); c && c->is_string()) {
    if (!toolset.definitions.empty() || c->get_string() == "none") {
      native["tool_config"] = json::object{{"tool_choice", *c}};
    }
  }
  if (const json::value* s = cfg.if_contains("sampling_params"); s && s->is_object()) {
    native["sampling_params"] = *s;
  }
  if (const json::value* r = cfg.if_contains("response_format"); r && r->is_object()) {
    native["response_format"] = *r;
  }
  inference::NativeRequest request = inference::native_chat_request(native);
  json::object openai = std::move(request.openai);
  openai["model"] = model;

  const std::string step_id = random_uuid4();
  const std::string started = now_iso();
  emit(step_start("inference", step_id));
  std::set<std::int64_t> started_calls;
  apis::ChunkSink sink = [this, &step_id, &started_calls](json::object chunk) {
    const json::value* choices = chunk.if_contains("choices");
    if (choices == nullptr || !choices->is_array()) return;
    for (const auto& choice : choices->get_array()) {
      const json::value* delta =
          choice.is_object() ? choice.get_object().if_contains("delta") : nullptr;
      if (delta == nullptr || !delta->is_object()) continue;
      const json::object& d = delta->get_object();
      if (const json::value* text = d.if_contains("content");
          text != nullptr && text->is_string() && !text->get_string().empty()) {
        emit(step_progress("inference", step_id,
                           json::object{{"type", "text"}, {"text", text->get_string()}}));
      }
      const json::value* calls = d.if_contains("tool_calls");
      if (calls == nullptr || !calls->is_array()) continue;
      for (const auto& c : calls->get_array()) {
        if (!c.is_object()) continue;
        const json::value* index = c.get_object().if_contains("index");
        const std::int64_t i = index != nullptr && index->is_int64() ? index->get_int64() : 0;
        std::string fragment;
        if (const json::value* f = c.get_object().if_contains("function"); f && f->is_object()) {
          fragment = json_string(f->get_object(), "arguments");
        }
        const bool first = started_calls.insert(i).second;
        emit(step_progress("inference", step_id,
                           json::object{{"type", "tool_call"},
                                        {"tool_call", fragment},
                                        {"parse_status", first ? "started" : "in_progress"}}));
      }
    }
  };
  routing::ChildSpan span = step_span("inference", state, step_id);
  apis::CallContext child = span.context();
  child.settle_tokens = {};
  auto call = deps_.inference->chat_completion(child, std::move(openai), sink);
  json::object completion;
  try {
    completion = co_await std::move(call);
  } catch (...) {
    span.finish(std::current_exception());
    throw;
  }
  span.finish(nullptr);
  utils::Usage usage;
  utils::add_usage(completion, usage);
  tokens_ += usage.total();
  std::string finish;
  json::object message = utils::first_message(completion, &finish);
  json::array tool_calls;
  for (const utils::FunctionCall& f : utils::function_calls(message)) {
    json::object tool_call{{"call_id", f.id}, {"tool_name", f.name}};
    bool parsed = false;
    try {
      json::value arguments = parse_json(f.arguments.empty() ? "{}" : f.arguments);
      if (arguments.is_object()) {
        tool_call["arguments"] = std::move(arguments);
        parsed = true;
      }
    } catch (const std::exception&) {
    }
    if (!parsed) tool_call["arguments"] = f.arguments;  // the model gets a tool error for it
    tool_call["arguments_json"] = f.arguments;
    emit(step_progress(
        "inference", step_id,
        json::object{{"type", "tool_call"},
                     {"tool_call", parsed ? json::value(tool_call) : json::value(f.arguments)},
                     {"parse_status", parsed ? "succeeded" : "failed"}}));
    tool_calls.push_back(std::move(tool_call));
  }
  std::string content = json_string(message, "content");
  if (!tool_calls.empty()) content.clear();  // as Python
  json::object response = assistant_message(std::move(content), inference::stop_reason_of(finish),
                                            std::move(tool_calls));
  json::object details = step_details("inference", state.turn_id, step_id, started);
  details["model_response"] = response;
  state.steps.push_back(details);
  emit(step_complete("inference", step_id, std::move(details)));
  state.messages.push_back(response);
  ++state.inference_calls;
  co_return response;
}

async::Task<void> TurnRunner::execute(TurnState& state, const Toolset& toolset, json::object call) {
  const std::string step_id = random_uuid4();
  const std::string started = now_iso();
  const std::string name = json_string(call, "tool_name");
  emit(step_start("tool_execution", step_id));
  emit(step_progress(
      "tool_execution", step_id,
      json::object{{"type", "tool_call"}, {"tool_call", call}, {"parse_status", "in_progress"}}));
  json::value content;
  json::value metadata = nullptr;
  const json::value* arguments = call.if_contains("arguments");
  auto runtime = toolset.runtime_name.find(name);
  if (runtime == toolset.runtime_name.end()) {
    content = tool_error("the model called tool '" + name + "', which this agent does not have");
  } else if (arguments == nullptr || !arguments->is_object()) {
    content = tool_error("the arguments of the call to '" + name +
                         "' are not a JSON object: " + json_string(call, "arguments_json"));
  } else {
    json::object kwargs = arguments->get_object();
    kwargs["session_id"] = state.session_id;
    if (auto args = toolset.group_args.find(name); args != toolset.group_args.end()) {
      for (const auto& [k, v] : args->second) kwargs[k] = v;  // the toolgroup's args win
    }
    routing::ChildSpan span = step_span("tool_execution", state, step_id);
    span.attributes()["tool_name"] = name;
    apis::CallContext child = span.context();
    child.settle_tokens = {};
    try {
      auto invoked = deps_.tool_runtime->invoke_tool(child, runtime->second, std::move(kwargs));
      apis::ToolInvocationResult result = co_await std::move(invoked);
      content = result.content.is_null() ? json::value("") : result.content;
      if (result.error_message) content = tool_error(*result.error_message);
      metadata = result.metadata;
      span.finish(nullptr);
    } catch (const ApiError& e) {
      span.finish(std::current_exception());
      if (e.status() == 499) throw;  // the caller went away: the turn ends
      content = tool_error(e.what());
    }
  }
  json::object response{{"call_id", json_string(call, "call_id")},
                        {"tool_name", name},
                        {"content", content},
                        {"metadata", metadata}};
  json::object details = step_details("tool_execution", state.turn_id, step_id, started);
  details["tool_calls"] = json::array{call};
  details["tool_responses"] = json::array{response};
  state.steps.push_back(details);
  emit(step_complete("tool_execution", step_id, std::move(details)));
  state.messages.push_back(json::object{
      {"role", "tool"}, {"call_id", json_string(call, "call_id")}, {"content", content}});
}

json::object TurnRunner::finish(TurnState& state, json::object output, bool awaiting) {
  json::object turn{{"turn_id", state.turn_id},
                    {"session_id", state.session_id},
                    {"input_messages", state.input_messages},
                    {"steps", state.steps},
                    {"output_message", output},
                    {"output_attachments", json::array{}},
                    {"started_at", state.started_at},
                    {"completed_at", now_iso()}};
  deps_.store->put_turn(state.agent_id, turn);
  if (awaiting) {
    deps_.store->put_turn_state(state.agent_id, state.session_id, state.turn_id, state.to_json());
  } else {
    deps_.store->remove_turn_state(state.agent_id, state.session_id, state.turn_id);
  }
  if (context_.settle_tokens) context_.settle_tokens(tokens_);
  emit(json::object{{"event_type", awaiting ? "turn_awaiting_input" : "turn_complete"},
                    {"turn", turn}});
  return turn;
}

}  // namespace llama_stack::providers::inline_::agents
