// AgentsRouter: the Agents API (apis::AgentsApi) over the agents provider,
// with the access policy: an agent and a session belong to whoever created
// them; one the caller may not read does not exist for them (404, on every
// route that reaches it, turns and steps included); a denied create or
// delete is 403 (ResourceAccess, types "agent" and "session").
#pragma once

#include "core/routing/resource_access.h"
#include "llama_stack/apis/agents.h"
#include "llama_stack/providers/provider.h"

namespace llama_stack::routing {

class AgentsRouter final : public apis::AgentsApi {
 public:
  explicit AgentsRouter(const ResourceAccess& access) : access_(access) {}
  // Startup only: the first agents provider serves the API.
  void add_provider(providers::AgentsProvider* provider) {
    if (provider_ == nullptr) provider_ = provider;
  }

  async::Task<std::string> create_agent(const apis::CallContext& context,
                                        json::object agent_config) override;
  async::Task<json::object> get_agent(const apis::CallContext& context,
                                      std::string agent_id) override;
  async::Task<apis::PaginatedJson> list_agents(const apis::CallContext& context,
                                               apis::IndexPage page) override;
  async::Task<void> delete_agent(const apis::CallContext& context, std::string agent_id) override;
  async::Task<std::string> create_session(const apis::CallContext& context, std::string agent_id,
                                          std::string session_name) override;
  async::Task<json::object> get_session(const apis::CallContext& context, std::string agent_id,
                                        std::string session_id,
                                        std::optional<std::vector<std::string>> turn_ids) override;
  async::Task<apis::PaginatedJson> list_sessions(const apis::CallContext& context,
                                                 std::string agent_id,
                                                 apis::IndexPage page) override;
  async::Task<void> delete_session(const apis::CallContext& context, std::string agent_id,
                                   std::string session_id) override;
  async::Task<json::object> create_turn(const apis::CallContext& context, std::string agent_id,
                                        std::string session_id, apis::CreateTurnRequest request,
                                        apis::TurnEventSink on_event) override;
  async::Task<json::object> resume_turn(const apis::CallContext& context, std::string agent_id,
                                        std::string session_id, std::string turn_id,
                                        json::array tool_responses,
                                        apis::TurnEventSink on_event) override;
  async::Task<json::object> get_turn(const apis::CallContext& context, std::string agent_id,
                                     std::string session_id, std::string turn_id) override;
  async::Task<json::object> get_step(const apis::CallContext& context, std::string agent_id,
                                     std::string session_id, std::string turn_id,
                                     std::string step_id) override;

  // The provider (501 when none is configured).
  providers::AgentsProvider& provider() const;

 private:
  void readable_agent(const apis::CallContext& context, const std::string& agent_id) const;
  void readable_session(const apis::CallContext& context, const std::string& agent_id,
                        const std::string& session_id) const;

  const ResourceAccess& access_;
  providers::AgentsProvider* provider_ = nullptr;
};

}  // namespace llama_stack::routing
