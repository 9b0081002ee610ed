#include "providers/inline/agents/agent_messages.h"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>

#include "core/util/api_error.h"
#include "core/util/ids.h"
#include "core/util/json.h"

namespace llama_stack::providers::inline_::agents {
namespace {

json::object payload(std::string_view event_type, std::string_view step_type,
                     const std::string& step_id) {
  return json::object{{"event_type", event_type}, {"step_type", step_type}, {"step_id", step_id}};
}

}  // namespace

std::string now_iso() {
  static std::atomic<std::int64_t> last{0};
  std::int64_t us = std::chrono::duration_cast<std::chrono::microseconds>(
                        std::chrono::system_clock::now().time_since_epoch())
                        .count();
  std::int64_t prev = last.load();
  while (true) {
    const std::int64_t next = us > prev ? us : prev + 1;
    if (last.compare_exchange_weak(prev, next)) {
      us = next;
      break;
    }
  }
  return iso8601_micros(us);
}

json::object step_start(std::string_view step_type, const std::string& step_id,
                        json::object metadata) {
  json::object p = payload("step_start", step_type, step_id);
  p["metadata"] = std::move(metadata);
  return p;
}

json::object step_progress(std::string_view step_type, const std::string& step_id,
                           json::object delta) {
  json::object p = payload("step_progress", step_type, step_id);
  p["delta"] = std::move(delta);
  return p;
}

json::object step_complete(std::string_view step_type, const std::string& step_id,
                           json::object details) {
  json::object p = payload("step_complete", step_type, step_id);
  p["step_details"] = std::move(details);
  return p;
}

json::object step_details(std::string_view step_type, const std::string& turn_id,
                          const std::string& step_id, const std::string& started_at) {
  return json::object{{"turn_id", turn_id},
                      {"step_id", step_id},
                      {"started_at", started_at},
                      {"completed_at", now_iso()},
                      {"step_type", step_type}};
}

void append_turn_messages(const json::object& turn, json::array& messages) {
  std::set<std::string> answered;  // call ids a tool_execution step holds
  const json::value* steps = turn.if_contains("steps");
  if (steps != nullptr && steps->is_array()) {
    for (const auto& s : steps->get_array()) {
      if (!s.is_object() || json_string(s.get_object(), "step_type") != "tool_execution") continue;
      const json::value* responses = s.get_object().if_contains("tool_responses");
      if (responses == nullptr || !responses->is_array()) continue;
      for (const auto& r : responses->get_array()) {
        if (r.is_object()) answered.insert(json_string(r.get_object(), "call_id"));
      }
    }
  }
  if (const json::value* input = turn.if_contains("input_messages");
      input != nullptr && input->is_array()) {
    for (const auto& m : input->get_array()) {
      if (!m.is_object()) continue;
      const json::object& message = m.get_object();
      if (json_string(message, "role") == "tool" &&
          answered.count(json_string(message, "call_id"))) {
        continue;
      }
      json::object copy = message;
      copy.erase("context");
      messages.push_back(std::move(copy));
    }
  }
  if (steps == nullptr || !steps->is_array()) return;
  for (const auto& s : steps->get_array()) {
    if (!s.is_object()) continue;
    const json::object& step = s.get_object();
    const std::string type = json_string(step, "step_type");
    if (type == "inference") {
      if (const json::value* m = step.if_contains("model_response"); m && m->is_object()) {
        messages.push_back(*m);
      }
    } else if (type == "tool_execution") {
      const json::value* responses = step.if_contains("tool_responses");
      if (responses == nullptr || !responses->is_array()) continue;
      for (const auto& r : responses->get_array()) {
        if (!r.is_object()) continue;
        const json::object& response = r.get_object();
        const json::value* content = response.if_contains("content");
        messages.push_back(json::object{{"role", "tool"},
                                        {"call_id", json_string(response, "call_id")},
                                        {"content", content ? *content : json::value("")}});
      }
    } else if (type == "shield_call") {
      const json::value* v = step.if_contains("violation");
      if (v != nullptr && v->is_object()) {
        messages.push_back(json::object{{"role", "assistant"},
                                        {"content", json_string(v->get_object(), "user_message")},
                                        {"stop_reason", "end_of_turn"},
                                        {"tool_calls", json::array{}}});
      }
    }
  }
}

json::object tool_definition(const apis::ToolDef& tool, const std::string& offered_name) {
  json::object parameters;
  for (const auto& p : tool.parameters) {
    if (!p.is_object()) continue;
    const json::object& param = p.get_object();
    const std::string name = json_string(param, "name");
    if (name.empty()) continue;
    json::object def{{"param_type", param.contains("parameter_type")
                                        ? json::value(json_string(param, "parameter_type"))
                                        : json::value("string")}};
    if (const json::value* d = param.if_contains("description"); d && d->is_string()) {
      def["description"] = *d;
    }
    const json::value* required = param.if_contains("required");
    def["required"] = required == nullptr || !required->is_bool() || required->get_bool();
    if (const json::value* d = param.if_contains("default"); d && !d->is_null()) {
      def["default"] = *d;
    }
    parameters[name] = std::move(def);
  }
  json::object out{{"tool_name", offered_name}, {"parameters", std::move(parameters)}};
  if (tool.description) out["description"] = *tool.description;
  return out;
}

apis::ToolDef client_tool_def(const json::value& value, const std::string& field) {
  JsonReader r(value, field);
  apis::ToolDef def;
  def.name = r.required_string("name");
  def.description = r.optional_string("description");
  if (const json::value* p = r.find("parameters"); p != nullptr && !p->is_null()) {
    if (!p->is_array()) {
      throw JsonFieldError(field + ".parameters",
                           "Field '" + field + ".parameters' must be a list");
    }
    for (std::size_t i = 0; i < p->get_array().size(); ++i) {
      JsonReader param(p->get_array()[i], field + ".parameters[" + std::to_string(i) + "]");
      param.required_string("name");
      def.parameters.push_back(p->get_array()[i]);
    }
  }
  if (const json::value* m = r.find("metadata")) def.metadata = *m;
  return def;
}

void Toolset::add(const apis::ToolDef& tool, const std::string& offered_name, bool client,
                  json::object args) {
  if (runtime_name.count(offered_name) > 0) {
    throw ApiError::bad_request("Tool " + offered_name + " already exists");
  }
  definitions.push_back(tool_definition(tool, offered_name));
  runtime_name[offered_name] = tool.name;
  if (client) {
    client_tools.insert(offered_name);
  } else {
    group_args[offered_name] = std::move(args);
  }
}

ToolgroupRef toolgroup_ref(const json::value& value, const std::string& field) {
  ToolgroupRef ref;
  std::string name;
  if (value.is_string()) {
    name = std::string(value.get_string());
  } else if (value.is_object()) {
    JsonReader r(value, field);
    name = r.required_string("name");
    ref.args = r.optional_object("args");
  } else {
    throw JsonFieldError(field, "Field '" + field + "' must be a string or {name, args}");
  }
  if (name.empty()) throw JsonFieldError(field, "Field '" + field + "' must not be empty");
  // "builtin::rag/knowledge_search": the group and one of its tools.
  const std::size_t slash = name.find('/');
  ref.group = name.substr(0, slash);
  if (slash != std::string::npos) ref.tool = name.substr(slash + 1);
  return ref;
}

}  // namespace llama_stack::providers::inline_::agents
