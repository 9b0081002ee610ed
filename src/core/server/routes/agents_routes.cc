// The Agents API of Llama Stack 0.2.x (/v1/agents…): parse → AgentsRouter →
// render. Turns stream as SSE (`data: {"event": {"payload": …}}`), or answer
// the Turn as JSON when `stream` is false (Python answers 501 there).
#include "core/log/log.h"
#include "core/server/exchange.h"
#include "core/server/routes/routes.h"
#include "core/server/routes/sse.h"
#include "core/services/services.h"
#include "core/util/api_error.h"

namespace llama_stack::server::routes {
namespace {

using Ex = std::shared_ptr<Exchange>;

apis::IndexPage page_of(const HttpRequest& request) {
  apis::IndexPage page;
  auto integer = [&](std::string_view name) -> std::optional<std::int64_t> {
    auto v = request.query_param(name);
    if (!v || v->empty()) return std::nullopt;
    try {
      return std::stoll(std::string(*v));
    } catch (const std::exception&) {
      throw ApiError::bad_request("Query parameter '" + std::string(name) + "' must be an integer");
    }
  };
  page.start_index = integer("start_index").value_or(0);
  if (page.start_index < 0) {
    throw ApiError::bad_request("Query parameter 'start_index' must be at least 0");
  }
  page.limit = integer("limit");
  if (page.limit && *page.limit == -1) page.limit.reset();
  if (page.limit && *page.limit < 0) {
    throw ApiError::bad_request("Query parameter 'limit' must be at least 0 (or -1: all)");
  }
  return page;
}

std::string param(const Ex& ex, const char* name) {
  return ex->context().param(name);
}

// Runs a turn (create or resume) as SSE or as one JSON answer. Before the
// first event a failure is an HTTP error; after it, one error event (the
// Python server's `{"error": {"message": "<status>: <detail>"}}`) ends the
// stream.
using TurnCall = std::function<async::Task<json::object>(apis::TurnEventSink)>;
async::Task<void> serve_turn(Ex ex, bool stream, TurnCall call) {
  if (!stream) {
    auto ran = call({});
    json::object turn = co_await std::move(ran);
    ex->send_json(200, turn);
    co_return;
  }
  auto sse = std::make_shared<SseWriter>(ex);
  apis::TurnEventSink sink = [sse](json::object payload) {
    sse->event(json::object{{"event", json::object{{"payload", std::move(payload)}}}});
  };
  std::exception_ptr failure;
  try {
    auto ran = call(std::move(sink));
    co_await std::move(ran);
  } catch (...) {
    failure = std::current_exception();
  }
  if (failure) {
    ApiError error = to_api_error(failure, "agent turn");
    if (!sse->started()) throw error;
    LS_WARN(kAgents, "agent turn {} failed mid-way: {}", ex->request().path, error.what());
    sse->event(json::object{{"error", json::object{{"message", std::to_string(error.status()) +
                                                                   ": " + error.what()}}}});
  }
  sse->end();
}

async::Task<void> create_agent(const Services& services, Ex ex) {
  json::value value = ex->context().json_body();
  JsonReader body(value);
  json::object config = body.required_object("agent_config").object();
  apis::CallContext call = ex->call_context();
  auto created = services.agents().create_agent(call, std::move(config));
  std::string id = co_await std::move(created);
  ex->send_json(200, json::object{{"agent_id", id}});
}

async::Task<void> list_agents(const Services& services, Ex ex) {
  apis::IndexPage page = page_of(ex->request());
  apis::CallContext call = ex->call_context();
  auto listed = services.agents().list_agents(call, page);
  apis::PaginatedJson out = co_await std::move(listed);
  ex->send_json(200, out.to_json());
}

async::Task<void> get_agent(const Services& services, Ex ex) {
  apis::CallContext call = ex->call_context();
  auto found = services.agents().get_agent(call, param(ex, "agent_id"));
  json::object agent = co_await std::move(found);
  ex->send_json(200, agent);
}

async::Task<void> delete_agent(const Services& services, Ex ex) {
  apis::CallContext call = ex->call_context();
  auto deleted = services.agents().delete_agent(call, param(ex, "agent_id"));
  co_await std::move(deleted);
  ex->send_json(200, nullptr);
}

async::Task<void> create_session(const Services& services, Ex ex) {
  json::value value = ex->context().json_body();
  JsonReader body(value);
  std::string name = body.required_string("session_name");
  apis::CallContext call = ex->call_context();
  auto created = services.agents().create_session(call, param(ex, "agent_id"), std::move(name));
  std::string id = co_await std::move(created);
  ex->send_json(200, json::object{{"session_id", id}});
}

async::Task<void> list_sessions(const Services& services, Ex ex) {
  apis::IndexPage page = page_of(ex->request());
  apis::CallContext call = ex->call_context();
  auto listed = services.agents().list_sessions(call, param(ex, "agent_id"), page);
  apis::PaginatedJson out = co_await std::move(listed);
  ex->send_json(200, out.to_json());
}

async::Task<void> get_session(const Services& services, Ex ex) {
  std::optional<std::vector<std::string>> turn_ids;
  if (auto ids = ex->request().query_param("turn_ids"); ids && !ids->empty()) {
    turn_ids.emplace();
    std::string_view rest = *ids;
    while (!rest.empty()) {  // comma-separated (the 0.2.x client sends one string)
      const std::size_t comma = rest.find(',');
      if (comma != 0) turn_ids->emplace_back(rest.substr(0, comma));
      rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    }
  }
  apis::CallContext call = ex->call_context();
  auto found = services.agents().get_session(call, param(ex, "agent_id"), param(ex, "session_id"),
                                             std::move(turn_ids));
  json::object session = co_await std::move(found);
  ex->send_json(200, session);
}

async::Task<void> delete_session(const Services& services, Ex ex) {
  apis::CallContext call = ex->call_context();
  auto deleted =
      services.agents().delete_session(call, param(ex, "agent_id"), param(ex, "session_id"));
  co_await std::move(deleted);
  ex->send_json(200, nullptr);
}

async::Task<void> create_turn(const Services& services, Ex ex) {
  json::value value = ex->context().json_body();
  JsonReader body(value);
  apis::CreateTurnRequest request;
  request.messages = body.required_array("messages");
  if (const json::array* d = body.find_array("documents")) request.documents = *d;
  if (const json::array* t = body.find_array("toolgroups")) request.toolgroups = *t;
  if (auto c = body.find_object("tool_config")) request.tool_config = c->object();
  const bool stream = body.optional_bool("stream").value_or(false);
  auto call = std::make_shared<apis::CallContext>(ex->call_context());
  const std::string agent_id = param(ex, "agent_id");
  const std::string session_id = param(ex, "session_id");
  auto run = serve_turn(ex, stream,
                        [&services, call, agent_id, session_id,
                         request = std::move(request)](apis::TurnEventSink sink) mutable {
                          return services.agents().create_turn(*call, agent_id, session_id,
                                                               std::move(request), std::move(sink));
                        });
  co_await std::move(run);
}

async::Task<void> resume_turn(const Services& services, Ex ex) {
  json::value value = ex->context().json_body();
  JsonReader body(value);
  json::array responses = body.required_array("tool_responses");
  const bool stream = body.optional_bool("stream").value_or(false);
  auto call = std::make_shared<apis::CallContext>(ex->call_context());
  const std::string agent_id = param(ex, "agent_id");
  const std::string session_id = param(ex, "session_id");
  const std::string turn_id = param(ex, "turn_id");
  auto run =
      serve_turn(ex, stream,
                 [&services, call, agent_id, session_id, turn_id,
                  responses = std::move(responses)](apis::TurnEventSink sink) mutable {
                   return services.agents().resume_turn(*call, agent_id, session_id, turn_id,
                                                        std::move(responses), std::move(sink));
                 });
  co_await std::move(run);
}

async::Task<void> get_turn(const Services& services, Ex ex) {
  apis::CallContext call = ex->call_context();
  auto found = services.agents().get_turn(call, param(ex, "agent_id"), param(ex, "session_id"),
                                          param(ex, "turn_id"));
  json::object turn = co_await std::move(found);
  ex->send_json(200, turn);
}

async::Task<void> get_step(const Services& services, Ex ex) {
  apis::CallContext call = ex->call_context();
  auto found = services.agents().get_step(call, param(ex, "agent_id"), param(ex, "session_id"),
                                          param(ex, "turn_id"), param(ex, "step_id"));
  json::object step = co_await std::move(found);
  ex->send_json(200, step);
}

using Handler = async::Task<void> (*)(const Services&, Ex);

}  // namespace

void add_agents_routes(RouteTable& table, const Services& services) {
  const std::string a = "/v1/agents/{agent_id}";
  const std::string s = a + "/session/{session_id}";
  const std::pair<const char*, std::pair<std::string, Handler>> kRoutes[] = {
      {"POST", {"/v1/agents", &create_agent}},
      {"GET", {"/v1/agents", &list_agents}},
      {"GET", {a, &get_agent}},
      {"DELETE", {a, &delete_agent}},
      {"POST", {a + "/session", &create_session}},
      {"GET", {a + "/sessions", &list_sessions}},
      {"GET", {s, &get_session}},
      {"DELETE", {s, &delete_session}},
      {"POST", {s + "/turn", &create_turn}},
      {"GET", {s + "/turn/{turn_id}", &get_turn}},
      {"POST", {s + "/turn/{turn_id}/resume", &resume_turn}},
      {"GET", {s + "/turn/{turn_id}/step/{step_id}", &get_step}},
  };
  for (const auto& route : kRoutes) {
    const Handler handler = route.second.second;
    table.add({route.first, route.second.first,
               [&services, handler](const Ex& ex) { ex->serve(handler(services, ex)); }, "agents"});
  }
}

}  // namespace llama_stack::server::routes
