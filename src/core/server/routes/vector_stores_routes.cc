// The OpenAI vector stores API at /v1/vector_stores and
// /v1/openai/v1/vector_stores: parse → VectorStoresRouter → render (OpenAI
// shapes, as Llama Stack serves them).
#include "core/server/exchange.h"
#include "core/server/routes/cursor_params.h"
#include "core/server/routes/routes.h"
#include "core/services/services.h"

namespace llama_stack::server::routes {
namespace {

using Ex = std::shared_ptr<Exchange>;

std::vector<std::string> string_list(const json::object& body, std::string_view key) {
  std::vector<std::string> out;
  const json::value* v = json_field(body, key);
  if (v == nullptr || v->is_null()) return out;
  if (!v->is_array()) {
    throw JsonFieldError(std::string(key),
                         "Field '" + std::string(key) + "' must be a list of strings");
  }
  for (const auto& item : v->get_array()) {
    if (!item.is_string()) {
      throw JsonFieldError(std::string(key),
                           "Field '" + std::string(key) + "' must be a list of strings");
    }
    out.emplace_back(item.get_string());
  }
  return out;
}

json::object object_field(const json::object& body, std::string_view key) {
  const json::value* v = json_field(body, key);
  if (v == nullptr || v->is_null()) return {};
  if (!v->is_object()) {
    throw JsonFieldError(std::string(key), "Field '" + std::string(key) + "' must be an object");
  }
  return v->get_object();
}

std::optional<apis::ChunkingStrategy> chunking_field(const json::object& body) {
  const json::value* v = json_field(body, "chunking_strategy");
  if (v == nullptr || v->is_null()) return std::nullopt;
  return apis::ChunkingStrategy::parse(v, "chunking_strategy");
}

apis::PageQuery page_query(const HttpRequest& request) {
  const CursorParams c = cursor_params(request);
  apis::PageQuery q;
  q.limit = c.limit;
  q.descending = c.descending;
  q.after = c.after;
  q.before = c.before;
  q.filter = c.filter;
  return q;
}

bool query_flag(const HttpRequest& request, std::string_view name) {
  auto v = request.query_param(name);
  return v && (*v == "true" || *v == "1");
}

async::Task<void> create(const Services& services, Ex ex) {
  json::value value = ex->context().json_body();
  JsonReader body(value);
  const json::object& o = body.object();
  apis::CreateVectorStoreRequest request;
  request.name = body.optional_string("name");
  request.file_ids = string_list(o, "file_ids");
  if (const auto* e = json_field(o, "expires_after")) request.expires_after = *e;
  request.chunking = chunking_field(o);
  request.metadata = object_field(o, "metadata");
  // Llama Stack's extensions, at the top level (extra_body) or in metadata.
  request.embedding_model = body.optional_string("embedding_model");
  if (!request.embedding_model) {
    if (const auto* m = json_field(request.metadata, "embedding_model"); m && m->is_string()) {
      request.embedding_model = std::string(m->get_string());
    }
  }
  request.embedding_dimension = body.optional_int("embedding_dimension");
  if (request.embedding_dimension &&
      (*request.embedding_dimension < 1 || *request.embedding_dimension > 1 << 16)) {
    throw JsonFieldError("embedding_dimension",
                         "Field 'embedding_dimension' must be from 1 to 65536");
  }
  request.provider_id = body.optional_string("provider_id");
  apis::CallContext call = ex->call_context();
  auto created = services.vector_stores().create(call, std::move(request));
  apis::VectorStore store = co_await std::move(created);
  ex->send_json(200, store.to_json());
}

async::Task<void> list(const Services& services, Ex ex) {
  apis::PageQuery query = page_query(ex->request());
  apis::CallContext call = ex->call_context();
  auto listed = services.vector_stores().list(call, std::move(query));
  apis::Page<apis::VectorStore> page = co_await std::move(listed);
  ex->send_json(200, page.to_json());
}

async::Task<void> retrieve(const Services& services, Ex ex) {
  apis::CallContext call = ex->call_context();
  auto found = services.vector_stores().retrieve(call, ex->context().param("vector_store_id"));
  apis::VectorStore store = co_await std::move(found);
  ex->send_json(200, store.to_json());
}

async::Task<void> update(const Services& services, Ex ex) {
  json::value value = ex->context().json_body();
  JsonReader body(value);
  const json::object& o = body.object();
  apis::UpdateVectorStoreRequest request;
  request.name = body.optional_string("name");
  if (const auto* e = json_field(o, "expires_after"); e != nullptr && !e->is_null()) {
    request.expires_after = *e;
  }
  if (const auto* m = json_field(o, "metadata"); m != nullptr && !m->is_null()) {
    request.metadata = object_field(o, "metadata");
  }
  apis::CallContext call = ex->call_context();
  auto updated = services.vector_stores().update(call, ex->context().param("vector_store_id"),
                                                 std::move(request));
  apis::VectorStore store = co_await std::move(updated);
  ex->send_json(200, store.to_json());
}

async::Task<void> remove(const Services& services, Ex ex) {
  const std::string id = ex->context().param("vector_store_id");
  apis::CallContext call = ex->call_context();
  auto deleted = services.vector_stores().remove(call, id);
  co_await std::move(deleted);
  ex->send_json(200,
                json::object{{"id", id}, {"object", "vector_store.deleted"}, {"deleted", true}});
}

async::Task<void> search(const Services& services, Ex ex) {
  json::value value = ex->context().json_body();
  JsonReader body(value);
  const json::object& o = body.object();
  apis::VectorStoreSearchRequest request;
  const json::value* q = json_field(o, "query");
  if (q == nullptr || q->is_null()) throw JsonFieldError("query", "Field 'query' is required");
  if (q->is_string()) {
    request.queries.emplace_back(q->get_string());
  } else {
    request.queries = string_list(o, "query");
  }
  if (const auto* f = json_field(o, "filters"); f != nullptr && !f->is_null()) request.filters = *f;
  request.max_num_results = body.optional_int("max_num_results").value_or(10);
  if (auto ranking = body.find_object("ranking_options")) {
    request.ranker = ranking->optional_string("ranker");
    request.score_threshold = ranking->optional_number("score_threshold").value_or(0.0);
    request.alpha = ranking->optional_number("alpha");
    request.impact_factor = ranking->optional_number("impact_factor");
  }
  request.rewrite_query = body.optional_bool("rewrite_query").value_or(false);
  request.search_mode = body.optional_string("search_mode").value_or("vector");
  apis::CallContext call = ex->call_context();
  auto found = services.vector_stores().search(call, ex->context().param("vector_store_id"),
                                               std::move(request));
  apis::VectorStoreSearchPage page = co_await std::move(found);
  ex->send_json(200, page.to_json());
}

async::Task<void> attach_file(const Services& services, Ex ex) {
  json::value value = ex->context().json_body();
  JsonReader body(value);
  apis::AttachFileRequest request;
  request.file_id = body.required_string("file_id");
  request.attributes = object_field(body.object(), "attributes");
  request.chunking = chunking_field(body.object());
  apis::CallContext call = ex->call_context();
  auto attached = services.vector_stores().attach_file(call, ex->context().param("vector_store_id"),
                                                       std::move(request));
  apis::VectorStoreFile file = co_await std::move(attached);
  ex->send_json(200, file.to_json());
}

async::Task<void> list_files(const Services& services, Ex ex) {
  apis::PageQuery query = page_query(ex->request());
  apis::CallContext call = ex->call_context();
  auto listed = services.vector_stores().list_files(call, ex->context().param("vector_store_id"),
                                                    std::move(query));
  apis::Page<apis::VectorStoreFile> page = co_await std::move(listed);
  ex->send_json(200, page.to_json());
}

async::Task<void> retrieve_file(const Services& services, Ex ex) {
  apis::CallContext call = ex->call_context();
  auto found = services.vector_stores().retrieve_file(call, ex->context().param("vector_store_id"),
                                                      ex->context().param("file_id"));
  apis::VectorStoreFile file = co_await std::move(found);
  ex->send_json(200, file.to_json());
}

async::Task<void> update_file(const Services& services, Ex ex) {
  json::value value = ex->context().json_body();
  JsonReader body(value);
  const json::value* a = json_field(body.object(), "attributes");
  if (a == nullptr || !a->is_object()) {
    throw JsonFieldError("attributes", "Field 'attributes' is required (an object)");
  }
  apis::CallContext call = ex->call_context();
  auto updated =
      services.vector_stores().update_file(call, ex->context().param("vector_store_id"),
                                           ex->context().param("file_id"), a->get_object());
  apis::VectorStoreFile file = co_await std::move(updated);
  ex->send_json(200, file.to_json());
}

async::Task<void> file_content(const Services& services, Ex ex) {
  const bool embeddings = query_flag(ex->request(), "include_embeddings");
  const bool metadata = query_flag(ex->request(), "include_metadata");
  apis::CallContext call = ex->call_context();
  auto read = services.vector_stores().file_content(call, ex->context().param("vector_store_id"),
                                                    ex->context().param("file_id"));
  apis::VectorStoreFileContent content = co_await std::move(read);
  ex->send_json(200, content.to_json(embeddings, metadata));
}

async::Task<void> remove_file(const Services& services, Ex ex) {
  const std::string file_id = ex->context().param("file_id");
  apis::CallContext call = ex->call_context();
  auto deleted =
      services.vector_stores().remove_file(call, ex->context().param("vector_store_id"), file_id);
  co_await std::move(deleted);
  ex->send_json(
      200,
      json::object{{"id", file_id}, {"object", "vector_store.file.deleted"}, {"deleted", true}});
}

async::Task<void> create_batch(const Services& services, Ex ex) {
  json::value value = ex->context().json_body();
  JsonReader body(value);
  apis::CreateFileBatchRequest request;
  request.file_ids = string_list(body.object(), "file_ids");
  if (!json_field(body.object(), "file_ids")) {
    throw JsonFieldError("file_ids", "Field 'file_ids' is required");
  }
  request.attributes = object_field(body.object(), "attributes");
  request.chunking = chunking_field(body.object());
  apis::CallContext call = ex->call_context();
  auto created = services.vector_stores().create_file_batch(
      call, ex->context().param("vector_store_id"), std::move(request));
  apis::VectorStoreFileBatch batch = co_await std::move(created);
  ex->send_json(200, batch.to_json());
}

async::Task<void> retrieve_batch(const Services& services, Ex ex) {
  apis::CallContext call = ex->call_context();
  auto found = services.vector_stores().retrieve_file_batch(
      call, ex->context().param("vector_store_id"), ex->context().param("batch_id"));
  apis::VectorStoreFileBatch batch = co_await std::move(found);
  ex->send_json(200, batch.to_json());
}

async::Task<void> cancel_batch(const Services& services, Ex ex) {
  apis::CallContext call = ex->call_context();
  auto cancelled = services.vector_stores().cancel_file_batch(
      call, ex->context().param("vector_store_id"), ex->context().param("batch_id"));
  apis::VectorStoreFileBatch batch = co_await std::move(cancelled);
  ex->send_json(200, batch.to_json());
}

async::Task<void> list_batch_files(const Services& services, Ex ex) {
  apis::PageQuery query = page_query(ex->request());
  apis::CallContext call = ex->call_context();
  auto listed = services.vector_stores().list_file_batch_files(
      call, ex->context().param("vector_store_id"), ex->context().param("batch_id"),
      std::move(query));
  apis::Page<apis::VectorStoreFile> page = co_await std::move(listed);
  ex->send_json(200, page.to_json());
}

using Handler = async::Task<void> (*)(const Services&, Ex);

}  // namespace

void add_vector_stores_routes(RouteTable& table, const Services& services) {
  const std::pair<const char*, std::pair<const char*, Handler>> kRoutes[] = {
      {"POST", {"", &create}},
      {"GET", {"", &list}},
      {"GET", {"/{vector_store_id}", &retrieve}},
      {"POST", {"/{vector_store_id}", &update}},
      {"DELETE", {"/{vector_store_id}", &remove}},
      {"POST", {"/{vector_store_id}/search", &search}},
      {"POST", {"/{vector_store_id}/files", &attach_file}},
      {"GET", {"/{vector_store_id}/files", &list_files}},
      {"GET", {"/{vector_store_id}/files/{file_id}", &retrieve_file}},
      {"POST", {"/{vector_store_id}/files/{file_id}", &update_file}},
      {"DELETE", {"/{vector_store_id}/files/{file_id}", &remove_file}},
      {"GET", {"/{vector_store_id}/files/{file_id}/content", &file_content}},
      {"POST", {"/{vector_store_id}/file_batches", &create_batch}},
      {"GET", {"/{vector_store_id}/file_batches/{batch_id}", &retrieve_batch}},
      {"POST", {"/{vector_store_id}/file_batches/{batch_id}/cancel", &cancel_batch}},
      {"GET", {"/{vector_store_id}/file_batches/{batch_id}/files", &list_batch_files}},
  };
  for (const std::string prefix : {"/v1/openai/v1/vector_stores", "/v1/vector_stores"}) {
    for (const auto& [method, route] : kRoutes) {
      const Handler handler = route.second;
      table.add({method, prefix + route.first,
                 [&services, handler](const Ex& ex) { ex->serve(handler(services, ex)); },
                 "vector_io"});
    }
  }
}

}  // namespace llama_stack::server::routes
