// The pieces of an agent turn that are plain data: timestamps, stream event
// payloads, steps, the history of earlier turns as messages, and the
// agent's tools as the inference API's ToolDefinitions (Llama Stack 0.2.x
// shapes).
#pragma once

#include <boost/json.hpp>

#include <map>
#include <set>
#include <string>
#include <vector>

#include "llama_stack/apis/tools.h"

namespace llama_stack::providers::inline_::agents {

namespace json = boost::json;

// RFC 3339 UTC with microseconds ("2025-06-05T22:55:45.123456Z"), strictly
// increasing across calls in this process.
std::string now_iso();

json::object step_start(std::string_view step_type, const std::string& step_id,
                        json::object metadata = {});
json::object step_progress(std::string_view step_type, const std::string& step_id,
                           json::object delta);
json::object step_complete(std::string_view step_type, const std::string& step_id,
                           json::object step_details);

// A step's common fields: {turn_id, step_id, started_at, completed_at, step_type}.
json::object step_details(std::string_view step_type, const std::string& turn_id,
                          const std::string& step_id, const std::string& started_at);

// The messages a stored turn contributes to the next turns' history (as
// Llama Stack's turn_to_messages): its input messages (without tool
// responses that a tool_execution step holds), then per step the model's
// message, the tool responses, and a violation's message.
void append_turn_messages(const json::object& turn, json::array& messages);

// The tools a turn offers the model: ToolDefinitions for native_chat_request,
// which names are client tools, the toolgroup args merged into each server
// tool's arguments, and the runtime name of each offered name
// (builtin::websearch's web_search is offered as brave_search, as Python).
struct Toolset {
  json::array definitions;
  std::set<std::string> client_tools;
  std::map<std::string, json::object> group_args;
  std::map<std::string, std::string> runtime_name;

  // 400 for a name offered twice.
  void add(const apis::ToolDef& tool, const std::string& offered_name, bool client,
           json::object args);
};

// ToolDef (a tool runtime's or a client's) → the inference ToolDefinition
// {tool_name, description, parameters: {name: {param_type, description,
// required, default}}}.
json::object tool_definition(const apis::ToolDef& tool, const std::string& offered_name);
// A client tool of AgentConfig.client_tools (400 naming `field`).
apis::ToolDef client_tool_def(const json::value& value, const std::string& field);

// A toolgroup entry: "group", "group/tool", or {name, args}.
struct ToolgroupRef {
  std::string group;
  std::optional<std::string> tool;
  json::object args;
};
ToolgroupRef toolgroup_ref(const json::value& value, const std::string& field);

}  // namespace llama_stack::providers::inline_::agents
