// AgentStore: what inline::meta-reference persists in its kvstore — agents,
// sessions, turns, and the state of a turn that awaits client tool
// responses (so that a restart between the tool call and its resume loses
// nothing). Everything is persisted, whatever enable_session_persistence
// says (Python keeps sessions in memory when it is false).
//
// Keys: "agent:<agent>" → {agent_id, agent_config, created_at, owner};
// "session:<agent>:<session>" → {session_id, session_name, started_at,
// owner, turn_ids}; "turn:<agent>:<session>:<turn>" → Turn;
// "turn_state:<agent>:<session>:<turn>" → the paused turn's loop state.
//
// Thread-safe (the kvstore is; read-modify-writes of a session take a mutex).
#pragma once

#include <boost/json.hpp>

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "llama_stack/storage/kvstore.h"

namespace llama_stack::providers::inline_ {

class AgentStore {
 public:
  explicit AgentStore(std::shared_ptr<storage::KVStore> kv) : kv_(std::move(kv)) {}

  void put_agent(const boost::json::object& agent);
  std::optional<boost::json::object> agent(const std::string& agent_id) const;
  std::vector<boost::json::object> agents() const;  // oldest first
  // Removes the agent with its sessions, turns and turn states.
  void remove_agent(const std::string& agent_id);

  void put_session(const std::string& agent_id, const boost::json::object& session);
  std::optional<boost::json::object> session(const std::string& agent_id,
                                             const std::string& session_id) const;
  std::vector<boost::json::object> sessions(const std::string& agent_id) const;  // oldest first
  void remove_session(const std::string& agent_id, const std::string& session_id);

  // Stores the turn and, for a new one, appends its id to the session.
  void put_turn(const std::string& agent_id, const boost::json::object& turn);
  std::optional<boost::json::object> turn(const std::string& agent_id,
                                          const std::string& session_id,
                                          const std::string& turn_id) const;
  // The session's turns in the order they were started.
  std::vector<boost::json::object> turns(const std::string& agent_id,
                                         const std::string& session_id) const;

  void put_turn_state(const std::string& agent_id, const std::string& session_id,
                      const std::string& turn_id, const boost::json::object& state);
  std::optional<boost::json::object> turn_state(const std::string& agent_id,
                                                const std::string& session_id,
                                                const std::string& turn_id) const;
  void remove_turn_state(const std::string& agent_id, const std::string& session_id,
                         const std::string& turn_id);

  storage::KVStore& kv() { return *kv_; }

 private:
  std::optional<boost::json::object> read(const std::string& key) const;
  void write(const std::string& key, const boost::json::object& value);

  std::shared_ptr<storage::KVStore> kv_;
  std::mutex session_mutex_;
};

}  // namespace llama_stack::providers::inline_
