#include "core/routing/responses_router.h"

namespace llama_stack::routing {

void ResponsesRouter::readable(const apis::CallContext& context,
                               const std::string& response_id) const {
  const std::optional<apis::Owner> owner = agents_.provider().response_owner(response_id);
  access_.check_read(context, "response", response_id, owner,
                     ApiError::not_found("Response '" + response_id + "' not found"));
}

async::Task<json::object> ResponsesRouter::create_response(const apis::CallContext& context,
                                                           json::object request,
                                                           apis::ResponseEventSink on_event) {
  if (const auto* previous = json_field(request, "previous_response_id");
      previous != nullptr && previous->is_string()) {
    readable(context, std::string(previous->get_string()));
  }
  auto created = agents_.provider().responses().create_response(context, std::move(request),
                                                                std::move(on_event));
  co_return co_await std::move(created);
}

async::Task<json::object> ResponsesRouter::get_response(const apis::CallContext& context,
                                                        std::string response_id) {
  readable(context, response_id);
  auto found = agents_.provider().responses().get_response(context, std::move(response_id));
  co_return co_await std::move(found);
}

async::Task<json::object> ResponsesRouter::list_responses(const apis::CallContext& context,
                                                          apis::CursorQuery query) {
  query.visible = [this, &context](const std::string& id, const std::optional<apis::Owner>& o) {
    return access_.readable_by(context, "response", id, o);
  };
  auto listed = agents_.provider().responses().list_responses(context, std::move(query));
  co_return co_await std::move(listed);
}

async::Task<json::object> ResponsesRouter::list_input_items(const apis::CallContext& context,
                                                            std::string response_id,
                                                            apis::CursorQuery query) {
  readable(context, response_id);
  auto listed = agents_.provider().responses().list_input_items(context, std::move(response_id),
                                                                std::move(query));
  co_return co_await std::move(listed);
}

async::Task<void> ResponsesRouter::delete_response(const apis::CallContext& context,
                                                   std::string response_id) {
  readable(context, response_id);
  access_.check(context, auth::Action::kDelete, "response", response_id,
                agents_.provider().response_owner(response_id));
  auto deleted = agents_.provider().responses().delete_response(context, std::move(response_id));
  co_await std::move(deleted);
}

}  // namespace llama_stack::routing
