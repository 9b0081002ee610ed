// ResponsesRouter: the OpenAI Responses API over the agents provider, with
// the access policy: a stored response belongs to whoever created it; one
// the caller may not read does not exist for them (404) — also as a
// `previous_response_id` (policy type "response").
#pragma once

#include "core/routing/agents_router.h"
#include "core/routing/resource_access.h"
#include "llama_stack/apis/responses.h"

namespace llama_stack::routing {

class ResponsesRouter final : public apis::ResponsesApi {
 public:
  ResponsesRouter(const ResourceAccess& access, const AgentsRouter& agents)
      : access_(access), agents_(agents) {}

  async::Task<json::object> create_response(const apis::CallContext& context, json::object request,
                                            apis::ResponseEventSink on_event) override;
  async::Task<json::object> get_response(const apis::CallContext& context,
                                         std::string response_id) override;
  async::Task<json::object> list_responses(const apis::CallContext& context,
                                           apis::CursorQuery query) override;
  async::Task<json::object> list_input_items(const apis::CallContext& context,
                                             std::string response_id,
                                             apis::CursorQuery query) override;
  async::Task<void> delete_response(const apis::CallContext& context,
                                    std::string response_id) override;

 private:
  void readable(const apis::CallContext& context, const std::string& response_id) const;

  const ResourceAccess& access_;
  const AgentsRouter& agents_;
};

}  // namespace llama_stack::routing
