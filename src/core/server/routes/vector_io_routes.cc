// POST /v1/vector-io/insert and /v1/vector-io/query: parse → VectorIORouter
// → render (Llama Stack 0.2.x bodies).
#include "core/server/exchange.h"
#include "core/server/routes/routes.h"
#include "core/services/services.h"

namespace llama_stack::server::routes {
namespace {

using Ex = std::shared_ptr<Exchange>;

// {vector_db_id, chunks, ttl_seconds?} → null
async::Task<void> insert(const Services& services, Ex ex) {
  json::value value = ex->context().json_body();
  JsonReader body(value);
  const std::string vector_db_id = body.required_string("vector_db_id");
  json::array chunks = body.required_array("chunks");
  std::optional<std::int64_t> ttl;
  if (const auto* t = json_field(value.as_object(), "ttl_seconds"); t != nullptr && !t->is_null()) {
    if (!(t->is_int64() || t->is_uint64())) {
      throw JsonFieldError("ttl_seconds", "Field 'ttl_seconds' must be an integer");
    }
    ttl = t->to_number<std::int64_t>();
  }
  apis::CallContext call = ex->call_context();
  auto inserted = services.vector_io().insert(call, vector_db_id, std::move(chunks), ttl);
  co_await std::move(inserted);
  ex->send_json(200, nullptr);
}

// {vector_db_id, query, params?} → {chunks, scores}
async::Task<void> query(const Services& services, Ex ex) {
  json::value value = ex->context().json_body();
  JsonReader body(value);
  const std::string vector_db_id = body.required_string("vector_db_id");
  const json::value* q = json_field(value.as_object(), "query");
  if (q == nullptr || q->is_null()) throw JsonFieldError("query", "Field 'query' is required");
  json::object params = body.optional_object("params");
  apis::CallContext call = ex->call_context();
  auto found = services.vector_io().query(call, vector_db_id, *q, std::move(params));
  apis::QueryChunksResponse response = co_await std::move(found);
  ex->send_json(200, response.to_json());
}

}  // namespace

void add_vector_io_routes(RouteTable& table, const Services& services) {
  table.add({"POST", "/v1/vector-io/insert",
             [&services](const Ex& ex) { ex->serve(insert(services, ex)); }, "vector_io"});
  table.add({"POST", "/v1/vector-io/query",
             [&services](const Ex& ex) { ex->serve(query(services, ex)); }, "vector_io"});
}

}  // namespace llama_stack::server::routes
