// One agent turn: the meta-reference loop, as one coroutine that reads top
// to bottom — input shields (in parallel), then inference with the agent's
// tools (streamed, its deltas forwarded as step_progress), server-side tool
// calls through the tool runtime router, client tool calls returned as
// turn_awaiting_input, the next inference, … up to max_infer_iters, then the
// output shields. Every model, shield and tool call goes through the
// routers with the caller's context (token reservations settled once, with
// the turn's total).
//
// A tool that fails, and tool-call arguments that are not JSON, become tool
// responses the model sees ("Error: …"); the turn goes on. A model or shield
// failure ends the turn with that error (thrown, after the events so far).
#pragma once

#include <boost/json.hpp>

#include <optional>
#include <string>

#include "core/routing/child_span.h"
#include "llama_stack/apis/agents.h"
#include "llama_stack/apis/inference.h"
#include "llama_stack/apis/safety.h"
#include "llama_stack/apis/tools.h"
#include "llama_stack/async/task.h"
#include "providers/inline/agents/agent_messages.h"
#include "providers/inline/agents/agent_store.h"

namespace llama_stack::providers::inline_::agents {

struct TurnDeps {
  apis::InferenceApi* inference = nullptr;
  apis::SafetyApi* safety = nullptr;
  apis::ToolRuntimeApi* tool_runtime = nullptr;  // null: toolgroups are a 400
  AgentStore* store = nullptr;
  apis::TelemetryApi* telemetry = nullptr;  // agent steps as spans (null: not recorded)
};

// The loop's state between steps (persisted while the turn awaits client
// tool responses): the conversation so far (Llama Stack messages), the
// steps, the inference calls made, the per-turn overrides.
struct TurnState {
  std::string agent_id;
  std::string session_id;
  std::string turn_id;
  std::string started_at;
  json::array input_messages;
  json::array messages;  // system + history + this turn, as sent to the model
  json::array steps;
  std::int64_t inference_calls = 0;
  std::optional<json::array> toolgroups;
  std::optional<json::object> tool_config;
  // The client tool calls the turn waits for, in the step they will fill.
  std::string pending_step_id;
  std::string pending_started_at;
  json::array pending_calls;

  json::object to_json() const;
  static TurnState from_json(const json::object& o);
};

class TurnRunner {
 public:
  TurnRunner(TurnDeps deps, const apis::CallContext& context, json::object agent,
             apis::TurnEventSink on_event)
      : deps_(deps), context_(context), agent_(std::move(agent)), on_event_(std::move(on_event)) {}

  // A new turn: `state` holds ids, input messages and the conversation.
  async::Task<json::object> start(TurnState state);
  // A paused turn continued with the client's tool responses.
  async::Task<json::object> resume(TurnState state, json::array tool_responses);

 private:
  async::Task<json::object> run(TurnState state, bool check_input);
  // {violation or null}: the first error-level violation of `shields` over `messages`.
  async::Task<std::optional<json::object>> shields(TurnState& state, json::array shields,
                                                   std::string touchpoint);
  async::Task<Toolset> tools(TurnState& state);
  // One inference step; returns the model's CompletionMessage.
  async::Task<json::object> infer(TurnState& state, const Toolset& toolset);
  // One server-side tool call as a tool_execution step; appends its response.
  async::Task<void> execute(TurnState& state, const Toolset& toolset, json::object call);
  json::object finish(TurnState& state, json::object output, bool awaiting);
  // An agent step (inference, tool_execution, shield_call) as a child span of
  // the turn's caller; the step's router calls become its children.
  routing::ChildSpan step_span(const char* step_type, const TurnState& state,
                               const std::string& step_id);
  void emit(json::object payload);
  const json::object& config() const;

  TurnDeps deps_;
  const apis::CallContext& context_;
  json::object agent_;  // the agent record: {agent_id, agent_config, …}
  apis::TurnEventSink on_event_;
  std::int64_t tokens_ = 0;
};

}  // namespace llama_stack::providers::inline_::agents
