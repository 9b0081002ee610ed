// The telemetry API of Llama Stack 0.2.x (/v1/telemetry/…): events, trace
// and span queries, over the telemetry provider (501 when none is
// configured).
#include "core/server/exchange.h"
#include "core/server/routes/routes.h"
#include "core/services/services.h"
#include "core/util/api_error.h"

namespace llama_stack::server::routes {
namespace {

using Ex = std::shared_ptr<Exchange>;

routing::TelemetryRouter& telemetry(const Services& services) {
  routing::TelemetryRouter* t = services.telemetry_queries();
  if (t == nullptr) {
    throw ApiError::not_implemented(
        "No telemetry provider is configured; add one (inline::meta-reference) under "
        "providers.telemetry");
  }
  return *t;
}

std::vector<apis::QueryCondition> conditions(const json::object& body, const char* key) {
  std::vector<apis::QueryCondition> out;
  const json::value* v = json_field(body, key);
  if (v == nullptr) return out;
  if (!v->is_array()) throw JsonFieldError(key, std::string("Field '") + key + "' must be a list");
  for (std::size_t i = 0; i < v->get_array().size(); ++i) {
    const std::string field = std::string(key) + "[" + std::to_string(i) + "]";
    JsonReader r(v->get_array()[i], field);
    apis::QueryCondition c;
    c.key = r.required_string("key");
    c.op = r.required_string("op");
    if (c.op != "eq" && c.op != "ne" && c.op != "gt" && c.op != "lt") {
      throw JsonFieldError(field + ".op", "Field '" + field + ".op' must be eq, ne, gt or lt");
    }
    const json::value* value = r.find("value");
    if (value == nullptr)
      throw JsonFieldError(field + ".value", "Field '" + field + ".value' is required");
    c.value = *value;
    out.push_back(std::move(c));
  }
  return out;
}

std::vector<std::string> strings(const json::object& body, const char* key) {
  std::vector<std::string> out;
  const json::value* v = json_field(body, key);
  if (v == nullptr) return out;
  if (!v->is_array()) throw JsonFieldError(key, std::string("Field '") + key + "' must be a list");
  for (const auto& item : v->get_array()) {
    if (!item.is_string()) {
      throw JsonFieldError(key, std::string("Field '") + key + "' must be a list of strings");
    }
    out.emplace_back(item.get_string());
  }
  return out;
}

async::Task<void> log_event(const Services& services, Ex ex) {
  json::value value = ex->context().json_body();
  JsonReader body(value);
  json::object event = body.required_object("event").object();
  apis::CallContext call = ex->call_context(false);
  auto logged = telemetry(services).log_event(call, std::move(event));
  co_await std::move(logged);
  ex->send_json(200, nullptr);
}

async::Task<void> query_traces(const Services& services, Ex ex) {
  json::value value = ex->context().json_body();
  JsonReader body(value);
  apis::TraceQuery query;
  query.attribute_filters = conditions(body.object(), "attribute_filters");
  query.limit = body.optional_int("limit").value_or(100);
  query.offset = body.optional_int("offset").value_or(0);
  if (query.limit < 1 || query.offset < 0) {
    throw JsonFieldError("limit",
                         "Fields 'limit' (at least 1) and 'offset' (at least 0) are out of range");
  }
  query.order_by = strings(body.object(), "order_by");
  apis::CallContext call = ex->call_context(false);
  auto found = telemetry(services).query_traces(call, std::move(query));
  json::array traces = co_await std::move(found);
  ex->send_json(200, json::object{{"data", std::move(traces)}});
}

async::Task<void> get_trace(const Services& services, Ex ex) {
  apis::CallContext call = ex->call_context(false);
  auto found = telemetry(services).get_trace(call, ex->context().param("trace_id"));
  json::object trace = co_await std::move(found);
  ex->send_json(200, trace);
}

async::Task<void> get_span(const Services& services, Ex ex) {
  apis::CallContext call = ex->call_context(false);
  auto found = telemetry(services).get_span(call, ex->context().param("trace_id"),
                                            ex->context().param("span_id"));
  json::object span = co_await std::move(found);
  ex->send_json(200, span);
}

async::Task<void> span_tree(const Services& services, Ex ex) {
  json::value value = ex->context().json_body();
  JsonReader body(value);
  std::vector<std::string> attributes = strings(body.object(), "attributes_to_return");
  std::optional<std::int64_t> depth = body.optional_int("max_depth");
  apis::CallContext call = ex->call_context(false);
  auto found = telemetry(services).get_span_tree(call, ex->context().param("span_id"),
                                                 std::move(attributes), depth);
  json::object tree = co_await std::move(found);
  ex->send_json(200, json::object{{"data", std::move(tree)}});
}

async::Task<void> query_spans(const Services& services, Ex ex) {
  json::value value = ex->context().json_body();
  JsonReader body(value);
  std::vector<apis::QueryCondition> filters = conditions(body.object(), "attribute_filters");
  std::vector<std::string> attributes = strings(body.object(), "attributes_to_return");
  std::optional<std::int64_t> depth = body.optional_int("max_depth");
  apis::CallContext call = ex->call_context(false);
  auto found =
      telemetry(services).query_spans(call, std::move(filters), std::move(attributes), depth);
  json::array spans = co_await std::move(found);
  ex->send_json(200, json::object{{"data", std::move(spans)}});
}

// Range steps as Python spells them: "30s", "1m", "5m", "1h", "1d", "1w".
std::optional<std::int64_t> granularity_seconds(const std::optional<std::string>& text) {
  if (!text) return std::nullopt;
  std::size_t used = 0;
  std::int64_t n = 0;
  try {
    n = std::stoll(*text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  const std::string unit = text->substr(used);
  const std::int64_t scale = unit == "s"   ? 1
                             : unit == "m" ? 60
                             : unit == "h" ? 3600
                             : unit == "d" ? 86400
                             : unit == "w" ? 604800
                                           : 0;
  if (used == 0 || n < 1 || scale == 0) {
    throw JsonFieldError("granularity",
                         "Field 'granularity' must be a count and a unit (s, m, "
                         "h, d, w), e.g. \"1h\"; got '" +
                             *text + "'");
  }
  return n * scale;
}

async::Task<void> query_metrics(const Services& services, Ex ex) {
  json::value value = ex->context().json_body();
  JsonReader body(value);
  apis::MetricQuery query;
  query.metric = ex->context().param("metric_name");
  const std::optional<std::int64_t> start = body.optional_int("start_time");
  if (!start) throw JsonFieldError("start_time", "Field 'start_time' is required (Unix seconds)");
  query.start_time = *start;
  query.end_time = body.optional_int("end_time");
  const std::string type = body.optional_string("query_type").value_or("range");
  if (type != "range" && type != "instant") {
    throw JsonFieldError("query_type", "Field 'query_type' must be \"range\" or \"instant\"");
  }
  query.instant = type == "instant";
  query.granularity_seconds = granularity_seconds(body.optional_string("granularity"));
  if (const json::array* matchers = body.find_array("label_matchers")) {
    for (std::size_t i = 0; i < matchers->size(); ++i) {
      const std::string path = body.element_path("label_matchers", i);
      if (!(*matchers)[i].is_object()) {
        throw JsonFieldError(path, "Field '" + path + "' must be an object");
      }
      JsonReader r((*matchers)[i].get_object(), path);
      query.label_matchers.push_back({r.required_string("name"),
                                      r.optional_string("operator").value_or("="),
                                      r.required_string("value")});
    }
  }
  apis::CallContext call = ex->call_context(false);
  auto found = telemetry(services).query_metrics(call, std::move(query));
  json::object result = co_await std::move(found);
  ex->send_json(200, result);
}

using Handler = async::Task<void> (*)(const Services&, Ex);

}  // namespace

void add_telemetry_routes(RouteTable& table, const Services& services) {
  const std::pair<const char*, std::pair<const char*, Handler>> kRoutes[] = {
      {"POST", {"/v1/telemetry/events", &log_event}},
      {"POST", {"/v1/telemetry/traces", &query_traces}},
      {"GET", {"/v1/telemetry/traces/{trace_id}", &get_trace}},
      {"GET", {"/v1/telemetry/traces/{trace_id}/spans/{span_id}", &get_span}},
      {"POST", {"/v1/telemetry/spans/{span_id}/tree", &span_tree}},
      {"POST", {"/v1/telemetry/spans", &query_spans}},
      {"POST", {"/v1/telemetry/metrics/{metric_name}", &query_metrics}},
  };
  for (const auto& route : kRoutes) {
    const Handler handler = route.second.second;
    table.add({route.first, route.second.first,
               [&services, handler](const Ex& ex) { ex->serve(handler(services, ex)); },
               "telemetry"});
  }
}

}  // namespace llama_stack::server::routes
