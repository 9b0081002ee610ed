#include "providers/inline/agents/agent_store.h"

#include <algorithm>

#include "core/log/log.h"
#include "core/util/json.h"

namespace llama_stack::providers::inline_ {
namespace {

std::string agent_key(const std::string& agent) {
  return "agent:" + agent;
}
std::string session_key(const std::string& agent, const std::string& session) {
  return "session:" + agent + ":" + session;
}
std::string turn_key(const std::string& agent, const std::string& session,
                     const std::string& turn) {
  return "turn:" + agent + ":" + session + ":" + turn;
}
std::string state_key(const std::string& agent, const std::string& session,
                      const std::string& turn) {
  return "turn_state:" + agent + ":" + session + ":" + turn;
}

// Records sorted by their creation time field (ISO 8601 UTC sorts as text).
std::vector<json::object> sorted_by(std::vector<json::object> records, std::string_view field) {
  std::stable_sort(records.begin(), records.end(), [&](const auto& a, const auto& b) {
    return json_string(a, field) < json_string(b, field);
  });
  return records;
}

}  // namespace

std::optional<json::object> AgentStore::read(const std::string& key) const {
  std::optional<std::string> value = kv_->get(key);
  if (!value) return std::nullopt;
  try {
    json::value parsed = parse_json(*value);
    if (parsed.is_object()) return std::move(parsed.get_object());
  } catch (const std::exception& e) {
    LS_WARN(kAgents, "agents: unreadable record '{}': {}", key, e.what());
  }
  return std::nullopt;
}

void AgentStore::write(const std::string& key, const json::object& value) {
  kv_->set(key, to_json(value));
}

void AgentStore::put_agent(const json::object& agent) {
  write(agent_key(json_string(agent, "agent_id")), agent);
}

std::optional<json::object> AgentStore::agent(const std::string& agent_id) const {
  return read(agent_key(agent_id));
}

std::vector<json::object> AgentStore::agents() const {
  std::vector<json::object> out;
  for (const auto& [key, value] : kv_->scan_prefix("agent:")) {
    try {
      json::value parsed = parse_json(value);
      if (parsed.is_object()) out.push_back(std::move(parsed.get_object()));
    } catch (const std::exception&) {
    }
  }
  return sorted_by(std::move(out), "created_at");
}

void AgentStore::remove_agent(const std::string& agent_id) {
  std::vector<std::string> keys{agent_key(agent_id)};
  for (const char* prefix : {"session:", "turn:", "turn_state:"}) {
    for (const auto& [key, value] : kv_->scan_prefix(prefix + agent_id + ":")) keys.push_back(key);
  }
  kv_->transaction([&] {
    for (const auto& key : keys) kv_->remove(key);
  });
}

void AgentStore::put_session(const std::string& agent_id, const json::object& session) {
  write(session_key(agent_id, json_string(session, "session_id")), session);
}

std::optional<json::object> AgentStore::session(const std::string& agent_id,
                                                const std::string& session_id) const {
  return read(session_key(agent_id, session_id));
}

std::vector<json::object> AgentStore::sessions(const std::string& agent_id) const {
  std::vector<json::object> out;
  for (const auto& [key, value] : kv_->scan_prefix("session:" + agent_id + ":")) {
    try {
      json::value parsed = parse_json(value);
      if (parsed.is_object()) out.push_back(std::move(parsed.get_object()));
    } catch (const std::exception&) {
    }
  }
  return sorted_by(std::move(out), "started_at");
}

void AgentStore::remove_session(const std::string& agent_id, const std::string& session_id) {
  std::vector<std::string> keys{session_key(agent_id, session_id)};
  for (const char* prefix : {"turn:", "turn_state:"}) {
    for (const auto& [key, value] : kv_->scan_prefix(prefix + agent_id + ":" + session_id + ":")) {
      keys.push_back(key);
    }
  }
  kv_->transaction([&] {
    for (const auto& key : keys) kv_->remove(key);
  });
}

void AgentStore::put_turn(const std::string& agent_id, const json::object& turn) {
  const std::string session_id = json_string(turn, "session_id");
  const std::string turn_id = json_string(turn, "turn_id");
  std::lock_guard lock(session_mutex_);
  std::optional<json::object> session = read(session_key(agent_id, session_id));
  kv_->transaction([&] {
    write(turn_key(agent_id, session_id, turn_id), turn);
    if (!session) return;  // deleted meanwhile: the turn is an orphan, harmless
    json::array& ids = (*session)["turn_ids"].is_array() ? (*session)["turn_ids"].get_array()
                                                         : (*session)["turn_ids"].emplace_array();
    if (std::find(ids.begin(), ids.end(), json::value(turn_id)) == ids.end()) {
      ids.emplace_back(turn_id);
      write(session_key(agent_id, session_id), *session);
    }
  });
}

std::optional<json::object> AgentStore::turn(const std::string& agent_id,
                                             const std::string& session_id,
                                             const std::string& turn_id) const {
  return read(turn_key(agent_id, session_id, turn_id));
}

std::vector<json::object> AgentStore::turns(const std::string& agent_id,
                                            const std::string& session_id) const {
  std::vector<json::object> out;
  std::optional<json::object> session = read(session_key(agent_id, session_id));
  if (!session) return out;
  const json::value* ids = session->if_contains("turn_ids");
  if (ids == nullptr || !ids->is_array()) return out;
  for (const auto& id : ids->get_array()) {
    if (!id.is_string()) continue;
    if (auto t = turn(agent_id, session_id, std::string(id.get_string()))) {
      out.push_back(std::move(*t));
    }
  }
  return out;
}

void AgentStore::put_turn_state(const std::string& agent_id, const std::string& session_id,
                                const std::string& turn_id, const json::object& state) {
  write(state_key(agent_id, session_id, turn_id), state);
}

std::optional<json::object> AgentStore::turn_state(const std::string& agent_id,
                                                   const std::string& session_id,
                                                   const std::string& turn_id) const {
  return read(state_key(agent_id, session_id, turn_id));
}

void AgentStore::remove_turn_state(const std::string& agent_id, const std::string& session_id,
                                   const std::string& turn_id) {
  kv_->remove(state_key(agent_id, session_id, turn_id));
}

}  // namespace llama_stack::providers::inline_
