#include "core/routing/agents_router.h"

#include "core/util/identifiers.h"

namespace llama_stack::routing {
namespace {

ApiError agent_not_found(const std::string& id) {
  return ApiError::not_found("Agent '" + id + "' not found");
}
ApiError session_not_found(const std::string& id) {
  return ApiError::not_found("Session '" + id + "' not found");
}

}  // namespace

providers::AgentsProvider& AgentsRouter::provider() const {
  if (provider_ == nullptr) {
    throw ApiError::not_implemented(
        "No agents provider is configured; add one (inline::meta-reference) under "
        "providers.agents");
  }
  return *provider_;
}

void AgentsRouter::readable_agent(const apis::CallContext& context,
                                  const std::string& agent_id) const {
  const std::optional<apis::Owner> owner = provider().agent_owner(agent_id);  // 404 unknown
  access_.check_read(context, "agent", agent_id, owner, agent_not_found(agent_id));
}

void AgentsRouter::readable_session(const apis::CallContext& context, const std::string& agent_id,
                                    const std::string& session_id) const {
  readable_agent(context, agent_id);
  const std::optional<apis::Owner> owner = provider().session_owner(agent_id, session_id);
  access_.check_read(context, "session", session_id, owner, session_not_found(session_id));
}

async::Task<std::string> AgentsRouter::create_agent(const apis::CallContext& context,
                                                    json::object agent_config) {
  if (const json::value* name = agent_config.if_contains("name");
      name != nullptr && name->is_string()) {
    require_clean(name->get_string(), "agent_config.name");
  }
  access_.check(context, auth::Action::kCreate, "agent", "(new agent)", context.user);
  auto created = provider().create_agent(context, std::move(agent_config));
  co_return co_await std::move(created);
}

async::Task<json::object> AgentsRouter::get_agent(const apis::CallContext& context,
                                                  std::string agent_id) {
  readable_agent(context, agent_id);
  auto found = provider().get_agent(context, std::move(agent_id));
  co_return co_await std::move(found);
}

async::Task<apis::PaginatedJson> AgentsRouter::list_agents(const apis::CallContext& context,
                                                           apis::IndexPage page) {
  auto listed = provider().list_agents_visible(
      context, page, [this, &context](const std::string& id, const std::optional<apis::Owner>& o) {
        return access_.readable_by(context, "agent", id, o);
      });
  co_return co_await std::move(listed);
}

async::Task<void> AgentsRouter::delete_agent(const apis::CallContext& context,
                                             std::string agent_id) {
  readable_agent(context, agent_id);
  access_.check(context, auth::Action::kDelete, "agent", agent_id,
                provider().agent_owner(agent_id));
  auto deleted = provider().delete_agent(context, std::move(agent_id));
  co_await std::move(deleted);
}

async::Task<std::string> AgentsRouter::create_session(const apis::CallContext& context,
                                                      std::string agent_id,
                                                      std::string session_name) {
  require_clean(session_name, "session_name");
  readable_agent(context, agent_id);
  auto created = provider().create_session(context, std::move(agent_id), std::move(session_name));
  co_return co_await std::move(created);
}

async::Task<json::object> AgentsRouter::get_session(
    const apis::CallContext& context, std::string agent_id, std::string session_id,
    std::optional<std::vector<std::string>> turn_ids) {
  readable_session(context, agent_id, session_id);
  auto found = provider().get_session(context, std::move(agent_id), std::move(session_id),
                                      std::move(turn_ids));
  co_return co_await std::move(found);
}

async::Task<apis::PaginatedJson> AgentsRouter::list_sessions(const apis::CallContext& context,
                                                             std::string agent_id,
                                                             apis::IndexPage page) {
  readable_agent(context, agent_id);
  auto listed = provider().list_sessions_visible(
      context, std::move(agent_id), page,
      [this, &context](const std::string& id, const std::optional<apis::Owner>& o) {
        return access_.readable_by(context, "session", id, o);
      });
  co_return co_await std::move(listed);
}

async::Task<void> AgentsRouter::delete_session(const apis::CallContext& context,
                                               std::string agent_id, std::string session_id) {
  readable_session(context, agent_id, session_id);
  access_.check(context, auth::Action::kDelete, "session", session_id,
                provider().session_owner(agent_id, session_id));
  auto deleted = provider().delete_session(context, std::move(agent_id), std::move(session_id));
  co_await std::move(deleted);
}

async::Task<json::object> AgentsRouter::create_turn(const apis::CallContext& context,
                                                    std::string agent_id, std::string session_id,
                                                    apis::CreateTurnRequest request,
                                                    apis::TurnEventSink on_event) {
  readable_session(context, agent_id, session_id);
  auto ran = provider().create_turn(context, std::move(agent_id), std::move(session_id),
                                    std::move(request), std::move(on_event));
  co_return co_await std::move(ran);
}

async::Task<json::object> AgentsRouter::resume_turn(const apis::CallContext& context,
                                                    std::string agent_id, std::string session_id,
                                                    std::string turn_id, json::array tool_responses,
                                                    apis::TurnEventSink on_event) {
  readable_session(context, agent_id, session_id);
  auto ran =
      provider().resume_turn(context, std::move(agent_id), std::move(session_id),
                             std::move(turn_id), std::move(tool_responses), std::move(on_event));
  co_return co_await std::move(ran);
}

async::Task<json::object> AgentsRouter::get_turn(const apis::CallContext& context,
                                                 std::string agent_id, std::string session_id,
                                                 std::string turn_id) {
  readable_session(context, agent_id, session_id);
  auto found =
      provider().get_turn(context, std::move(agent_id), std::move(session_id), std::move(turn_id));
  co_return co_await std::move(found);
}

async::Task<json::object> AgentsRouter::get_step(const apis::CallContext& context,
                                                 std::string agent_id, std::string session_id,
                                                 std::string turn_id, std::string step_id) {
  readable_session(context, agent_id, session_id);
  auto found = provider().get_step(context, std::move(agent_id), std::move(session_id),
                                   std::move(turn_id), std::move(step_id));
  co_return co_await std::move(found);
}

}  // namespace llama_stack::routing
