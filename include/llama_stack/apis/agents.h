// The Agents API of Llama Stack 0.2.x (/v1/agents…): agents (an AgentConfig),
// their sessions, and turns — one run of the agent loop (input shields,
// inference with the agent's tools, tool execution, output shields) over
// the session's history. Callers use AgentsApi — the agents router
// (src/core/routing/agents_router.h), which applies the access policy
// (agents and sessions belong to whoever created them; others get 404) and
// calls the agents provider (inline::meta-reference).
//
// The objects (AgentConfig, Session, Turn, Step, …) are Llama Stack's JSON
// shapes, passed as JSON: the provider validates and renders them.
#pragma once

#include <boost/json.hpp>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "llama_stack/apis/call_context.h"
#include "llama_stack/apis/resources.h"
#include "llama_stack/async/task.h"

namespace llama_stack::apis {

// Receives each event payload of a streamed turn
// ({"event_type": "step_start", …}); the route wraps it as
// {"event": {"payload": …}}. Called in order, from the turn's coroutine.
using TurnEventSink = std::function<void(json::object payload)>;

struct IndexPage {
  std::int64_t start_index = 0;
  std::optional<std::int64_t> limit;  // unset: everything
};

struct PaginatedJson {
  json::array data;
  bool has_more = false;
  json::object to_json() const { return {{"data", data}, {"has_more", has_more}}; }
};

struct CreateTurnRequest {
  json::array messages;  // UserMessage | ToolResponseMessage
  json::array documents;
  std::optional<json::array> toolgroups;    // replaces the agent's for this turn
  std::optional<json::object> tool_config;  // overrides the agent's for this turn
};

class AgentsApi {
 public:
  virtual ~AgentsApi() = default;

  // → the agent id. 400 naming the field for a bad AgentConfig.
  virtual async::Task<std::string> create_agent(const CallContext& context,
                                                json::object agent_config) = 0;
  // Agent: {agent_id, agent_config, created_at}. 404 for an unknown id.
  virtual async::Task<json::object> get_agent(const CallContext& context, std::string agent_id) = 0;
  virtual async::Task<PaginatedJson> list_agents(const CallContext& context, IndexPage page) = 0;
  virtual async::Task<void> delete_agent(const CallContext& context, std::string agent_id) = 0;

  virtual async::Task<std::string> create_session(const CallContext& context, std::string agent_id,
                                                  std::string session_name) = 0;
  // Session: {session_id, session_name, turns, started_at}; `turn_ids`
  // filters the turns.
  virtual async::Task<json::object> get_session(
      const CallContext& context, std::string agent_id, std::string session_id,
      std::optional<std::vector<std::string>> turn_ids) = 0;
  virtual async::Task<PaginatedJson> list_sessions(const CallContext& context, std::string agent_id,
                                                   IndexPage page) = 0;
  virtual async::Task<void> delete_session(const CallContext& context, std::string agent_id,
                                           std::string session_id) = 0;

  // Runs a turn; events go to `on_event` (may be empty: not streamed).
  // Returns the Turn as stored (awaiting input when it ended on client tool
  // calls). Failures before the turn starts throw; later ones end the turn
  // and are thrown after its events.
  virtual async::Task<json::object> create_turn(const CallContext& context, std::string agent_id,
                                                std::string session_id, CreateTurnRequest request,
                                                TurnEventSink on_event) = 0;
  // Continues a turn that awaits client tool responses.
  virtual async::Task<json::object> resume_turn(const CallContext& context, std::string agent_id,
                                                std::string session_id, std::string turn_id,
                                                json::array tool_responses,
                                                TurnEventSink on_event) = 0;
  virtual async::Task<json::object> get_turn(const CallContext& context, std::string agent_id,
                                             std::string session_id, std::string turn_id) = 0;
  virtual async::Task<json::object> get_step(const CallContext& context, std::string agent_id,
                                             std::string session_id, std::string turn_id,
                                             std::string step_id) = 0;
};

}  // namespace llama_stack::apis
