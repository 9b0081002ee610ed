// The OpenAI Responses API (/v1/responses, /v1/openai/v1/responses) and
// Conversations (/v1/conversations, /v1/openai/v1/conversations): parse →
// router → render. A streamed response is SSE with OpenAI's framing
// (`event: <type>` then `data: <json>`).
#include "core/log/log.h"
#include "core/server/exchange.h"
#include "core/server/routes/cursor_params.h"
#include "core/server/routes/routes.h"
#include "core/server/routes/sse.h"
#include "core/services/services.h"
#include "core/util/api_error.h"

namespace llama_stack::server::routes {
namespace {

using Ex = std::shared_ptr<Exchange>;

apis::CursorQuery cursor_of(const HttpRequest& request) {
  const CursorParams c = cursor_params(request);
  apis::CursorQuery q;
  q.limit = c.limit;
  q.descending = c.descending;
  q.after = c.after;
  q.model = c.model;
  return q;
}

std::string param(const Ex& ex, const char* name) {
  return ex->context().param(name);
}

async::Task<void> create_response(const Services& services, Ex ex) {
  json::value value = ex->context().json_body();
  JsonReader body(value);
  body.required_string("model");
  json::object request = body.object();
  const bool stream = json_flag(request, "stream");
  apis::CallContext call = ex->call_context();
  if (!stream) {
    auto created = services.responses().create_response(call, std::move(request), {});
    json::object response = co_await std::move(created);
    ex->send_json(200, response);
    co_return;
  }
  auto sse = std::make_shared<SseWriter>(ex);
  apis::ResponseEventSink sink = [sse](json::object event) {
    const json::value* type = event.if_contains("type");
    std::string frame = "event: ";
    frame += type != nullptr && type->is_string() ? std::string(type->get_string()) : "message";
    frame += "\ndata: " + to_json(event) + "\n\n";
    sse->raw(frame);
  };
  std::exception_ptr failure;
  try {
    auto created = services.responses().create_response(call, std::move(request), std::move(sink));
    co_await std::move(created);
  } catch (...) {
    failure = std::current_exception();
  }
  if (failure) {
    ApiError error = to_api_error(failure, "response stream");
    if (!sse->started()) throw error;
    LS_WARN(kAgents, "response stream failed mid-way: {}", error.what());
    sse->raw("event: error\ndata: " +
             to_json(json::object{{"type", "error"},
                                  {"code", std::to_string(error.status())},
                                  {"message", error.what()}}) +
             "\n\n");
  }
  sse->end();
}

async::Task<void> get_response(const Services& services, Ex ex) {
  apis::CallContext call = ex->call_context();
  auto found = services.responses().get_response(call, param(ex, "response_id"));
  json::object response = co_await std::move(found);
  ex->send_json(200, response);
}

async::Task<void> list_responses(const Services& services, Ex ex) {
  apis::CursorQuery query = cursor_of(ex->request());
  apis::CallContext call = ex->call_context();
  auto listed = services.responses().list_responses(call, std::move(query));
  json::object list = co_await std::move(listed);
  ex->send_json(200, list);
}

async::Task<void> input_items(const Services& services, Ex ex) {
  apis::CursorQuery query = cursor_of(ex->request());
  apis::CallContext call = ex->call_context();
  auto listed =
      services.responses().list_input_items(call, param(ex, "response_id"), std::move(query));
  json::object list = co_await std::move(listed);
  ex->send_json(200, list);
}

async::Task<void> delete_response(const Services& services, Ex ex) {
  const std::string id = param(ex, "response_id");
  apis::CallContext call = ex->call_context();
  auto deleted = services.responses().delete_response(call, id);
  co_await std::move(deleted);
  ex->send_json(200, json::object{{"id", id}, {"object", "response"}, {"deleted", true}});
}

json::object metadata_of(const json::object& body) {
  const json::value* m = json_field(body, "metadata");
  if (m == nullptr) return {};
  if (!m->is_object()) throw JsonFieldError("metadata", "Field 'metadata' must be an object");
  return m->get_object();
}

async::Task<void> create_conversation(const Services& services, Ex ex) {
  json::value value = ex->context().json_body();
  JsonReader body(value);
  json::array items;
  if (const json::array* i = body.find_array("items")) items = *i;
  apis::CallContext call = ex->call_context();
  auto created = services.conversations().create_conversation(call, std::move(items),
                                                              metadata_of(body.object()));
  json::object conversation = co_await std::move(created);
  ex->send_json(200, conversation);
}

async::Task<void> get_conversation(const Services& services, Ex ex) {
  apis::CallContext call = ex->call_context();
  auto found = services.conversations().get_conversation(call, param(ex, "conversation_id"));
  json::object conversation = co_await std::move(found);
  ex->send_json(200, conversation);
}

async::Task<void> update_conversation(const Services& services, Ex ex) {
  json::value value = ex->context().json_body();
  JsonReader body(value);
  if (!json_field(body.object(), "metadata")) {
    throw JsonFieldError("metadata", "Field 'metadata' is required");
  }
  apis::CallContext call = ex->call_context();
  auto updated = services.conversations().update_conversation(call, param(ex, "conversation_id"),
                                                              metadata_of(body.object()));
  json::object conversation = co_await std::move(updated);
  ex->send_json(200, conversation);
}

async::Task<void> delete_conversation(const Services& services, Ex ex) {
  const std::string id = param(ex, "conversation_id");
  apis::CallContext call = ex->call_context();
  auto deleted = services.conversations().delete_conversation(call, id);
  co_await std::move(deleted);
  ex->send_json(200,
                json::object{{"id", id}, {"object", "conversation.deleted"}, {"deleted", true}});
}

async::Task<void> add_items(const Services& services, Ex ex) {
  json::value value = ex->context().json_body();
  JsonReader body(value);
  json::array items = body.required_array("items");
  apis::CallContext call = ex->call_context();
  auto added =
      services.conversations().add_items(call, param(ex, "conversation_id"), std::move(items));
  json::object list = co_await std::move(added);
  ex->send_json(200, list);
}

async::Task<void> list_items(const Services& services, Ex ex) {
  apis::CursorQuery query = cursor_of(ex->request());
  apis::CallContext call = ex->call_context();
  auto listed =
      services.conversations().list_items(call, param(ex, "conversation_id"), std::move(query));
  json::object list = co_await std::move(listed);
  ex->send_json(200, list);
}

async::Task<void> get_item(const Services& services, Ex ex) {
  apis::CallContext call = ex->call_context();
  auto found =
      services.conversations().get_item(call, param(ex, "conversation_id"), param(ex, "item_id"));
  json::object item = co_await std::move(found);
  ex->send_json(200, item);
}

async::Task<void> delete_item(const Services& services, Ex ex) {
  const std::string item_id = param(ex, "item_id");
  apis::CallContext call = ex->call_context();
  auto deleted = services.conversations().delete_item(call, param(ex, "conversation_id"), item_id);
  co_await std::move(deleted);
  ex->send_json(
      200,
      json::object{{"id", item_id}, {"object", "conversation.item.deleted"}, {"deleted", true}});
}

using Handler = async::Task<void> (*)(const Services&, Ex);

}  // namespace

void add_responses_routes(RouteTable& table, const Services& services) {
  const std::pair<const char*, std::pair<const char*, Handler>> kResponses[] = {
      {"POST", {"", &create_response}},
      {"GET", {"", &list_responses}},
      {"GET", {"/{response_id}", &get_response}},
      {"DELETE", {"/{response_id}", &delete_response}},
      {"GET", {"/{response_id}/input_items", &input_items}},
  };
  const std::pair<const char*, std::pair<const char*, Handler>> kConversations[] = {
      {"POST", {"", &create_conversation}},
      {"GET", {"/{conversation_id}", &get_conversation}},
      {"POST", {"/{conversation_id}", &update_conversation}},
      {"DELETE", {"/{conversation_id}", &delete_conversation}},
      {"POST", {"/{conversation_id}/items", &add_items}},
      {"GET", {"/{conversation_id}/items", &list_items}},
      {"GET", {"/{conversation_id}/items/{item_id}", &get_item}},
      {"DELETE", {"/{conversation_id}/items/{item_id}", &delete_item}},
  };
  for (const std::string root : {"/v1/openai/v1", "/v1"}) {
    for (const auto& route : kResponses) {
      const Handler handler = route.second.second;
      table.add({route.first, root + "/responses" + route.second.first,
                 [&services, handler](const Ex& ex) { ex->serve(handler(services, ex)); },
                 "agents"});
    }
    for (const auto& route : kConversations) {
      const Handler handler = route.second.second;
      table.add({route.first, root + "/conversations" + route.second.first,
                 [&services, handler](const Ex& ex) { ex->serve(handler(services, ex)); },
                 "agents"});
    }
  }
}

}  // namespace llama_stack::server::routes
