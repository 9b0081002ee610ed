// Models, shields and vector DBs: list / get / register / unregister.
#include "core/server/exchange.h"
#include "core/server/routes/routes.h"
#include "core/services/services.h"

namespace llama_stack::server::routes {
namespace {

using Ex = std::shared_ptr<Exchange>;
using auth::Action;

// The caller, for the access checks (ResourceAccess, in the routing layer).
apis::CallContext caller(const Ex& ex) {
  return ex->call_context(/*with_provider_data=*/false);
}

// Lists hold what the caller may read and its scopes cover.
template <typename T>
std::vector<T> visible(const Services& services, const Ex& ex, std::vector<T> items) {
  return services.access().visible(caller(ex), std::move(items));
}

// A resource the caller may not read does not exist for them (404).
template <typename T>
T readable_one(const Services& services, const Ex& ex, std::string_view type, T item,
               const std::function<ApiError()>& not_found) {
  services.access().check_read(caller(ex), type, item.identifier, item.owner, not_found());
  return item;
}

template <typename T>
void require_scope(const Services& services, const Ex& ex, const T& item) {
  services.access().check_scope(caller(ex), item);
}

// A denied create or delete is 403 (audited).
void require(const Services& services, const Ex& ex, Action action, std::string_view type,
             const std::string& id, const std::optional<apis::Owner>& owner) {
  services.access().check(caller(ex), action, type, id, owner);
}

json::object metadata_field(const JsonReader& body, std::string_view key) {
  return body.optional_object(key);
}

template <typename T>
json::object list_body(const std::vector<T>& items) {
  json::array data;
  for (const auto& item : items) data.push_back(item.to_json());
  return json::object{{"data", std::move(data)}};
}

}  // namespace

void add_model_routes(RouteTable& table, const Services& services) {
  table.add({"GET", "/v1/models",
             [&services](const Ex& ex) {
               json::object body = list_body(visible(services, ex, services.models().list()));
               body["object"] = "list";
               ex->send_json(200, body);
             },
             "models"});
  table.add({"GET", "/v1/openai/v1/models",
             [&services](const Ex& ex) {
               json::array data;
               for (const auto& m : visible(services, ex, services.models().list())) {
                 data.push_back(m.to_openai_json());
               }
               ex->send_json(200, json::object{{"object", "list"}, {"data", std::move(data)}});
             },
             "models"});
  table.add({"GET", "/v1/models/{model_id:path}",
             [&services](const Ex& ex) {
               const std::string& id = ex->context().param("model_id");
               ex->send_json(200,
                             readable_one(services, ex, "model", services.models().get(id), [&] {
                               return routing::ModelsRoutingTable::not_found(id);
                             }).to_json());
             },
             "models"});
  table.add(blocking(
      {"POST", "/v1/models",
       [&services](const Ex& ex) {
         json::value value = ex->context().json_body();
         JsonReader body(value);
         routing::RegisterModelRequest request;
         request.model_id = body.required_string("model_id");
         request.provider_model_id = body.optional_string("provider_model_id");
         request.provider_id = body.optional_string("provider_id");
         request.metadata = metadata_field(body, "metadata");
         if (auto type = body.optional_string("model_type")) {
           auto parsed = apis::parse_model_type(*type);
           if (!parsed) {
             throw ApiError::bad_request("Field 'model_type' must be 'llm' or 'embedding', got '" +
                                         *type + "'");
           }
           request.model_type = *parsed;
         }
         request.owner = ex->context().user;
         require(services, ex, Action::kCreate, "model", request.model_id, request.owner);
         auto model = services.models().register_model(request, routing::OnExisting::kConflict);
         ex->send_json(200, model.to_json());
       },
       "models"}));
  table.add(blocking({"DELETE", "/v1/models/{model_id:path}",
                      [&services](const Ex& ex) {
                        const std::string& id = ex->context().param("model_id");
                        auto model = readable_one(
                            services, ex, "model", services.models().get(id),
                            [&] { return routing::ModelsRoutingTable::not_found(id); });
                        require(services, ex, Action::kDelete, "model", id, model.owner);
                        services.models().unregister_model(id);
                        ex->send_json(200, nullptr);
                      },
                      "models"}));
}

void add_shield_routes(RouteTable& table, const Services& services) {
  table.add({"GET", "/v1/shields",
             [&services](const Ex& ex) {
               ex->send_json(200, list_body(visible(services, ex, services.shields().list())));
             },
             "shields"});
  table.add({"GET", "/v1/shields/{identifier:path}",
             [&services](const Ex& ex) {
               const std::string& id = ex->context().param("identifier");
               auto shield = readable_one(services, ex, "shield", services.shields().get(id), [&] {
                 return ApiError::not_found("Shield '" + id +
                                            "' not found. Register it with POST /v1/shields");
               });
               require_scope(services, ex, shield);
               ex->send_json(200, shield.to_json());
             },
             "shields"});
  table.add(blocking(
      {"POST", "/v1/shields",
       [&services](const Ex& ex) {
         json::value value = ex->context().json_body();
         JsonReader body(value);
         routing::RegisterShieldRequest request;
         request.shield_id = body.required_string("shield_id");
         request.provider_shield_id = body.optional_string("provider_shield_id");
         request.provider_id = body.optional_string("provider_id");
         request.params = body.optional_object("params");
         request.owner = ex->context().user;
         require(services, ex, Action::kCreate, "shield", request.shield_id, request.owner);
         auto shield = services.shields().register_shield(request, routing::OnExisting::kConflict);
         ex->send_json(200, shield.to_json());
       },
       "shields"}));
  table.add(blocking(
      {"DELETE", "/v1/shields/{identifier:path}",
       [&services](const Ex& ex) {
         const std::string& id = ex->context().param("identifier");
         auto shield = readable_one(services, ex, "shield", services.shields().get(id), [&] {
           return ApiError::not_found("Shield '" + id +
                                      "' not found. Register it with POST /v1/shields");
         });
         require(services, ex, Action::kDelete, "shield", id, shield.owner);
         services.shields().unregister_shield(id);
         ex->send_json(200, nullptr);
       },
       "shields"}));
}

void add_vector_db_routes(RouteTable& table, const Services& services) {
  table.add({"GET", "/v1/vector-dbs",
             [&services](const Ex& ex) {
               ex->send_json(200, list_body(visible(services, ex, services.vector_dbs().list())));
             },
             "vector_dbs"});
  table.add({"GET", "/v1/vector-dbs/{vector_db_id:path}",
             [&services](const Ex& ex) {
               const std::string& id = ex->context().param("vector_db_id");
               auto vector_db =
                   readable_one(services, ex, "vector_db", services.vector_dbs().get(id), [&] {
                     return ApiError::not_found(
                         "Vector DB '" + id + "' not found. Register it with POST /v1/vector-dbs");
                   });
               require_scope(services, ex, vector_db);
               ex->send_json(200, vector_db.to_json());
             },
             "vector_dbs"});
  table.add(
      {"POST", "/v1/vector-dbs",
       [&services](const Ex& ex) {
         json::value value = ex->context().json_body();
         JsonReader body(value);
         routing::RegisterVectorDBRequest request;
         request.vector_db_id = body.required_string("vector_db_id");
         request.embedding_model = body.required_string("embedding_model");
         request.embedding_dimension = body.optional_int("embedding_dimension");
         if (request.embedding_dimension && *request.embedding_dimension <= 0) {
           throw ApiError::bad_request("Field 'embedding_dimension' must be positive");
         }
         request.provider_id = body.optional_string("provider_id");
         request.provider_vector_db_id = body.optional_string("provider_vector_db_id");
         request.vector_db_name = body.optional_string("vector_db_name");
         request.owner = ex->context().user;
         require(services, ex, Action::kCreate, "vector_db", request.vector_db_id, request.owner);
         auto vector_db =
             services.vector_dbs().register_vector_db(request, routing::OnExisting::kConflict);
         ex->send_json(200, vector_db.to_json());
       },
       "vector_dbs"});
  table.add(blocking({"DELETE", "/v1/vector-dbs/{vector_db_id:path}",
                      [&services](const Ex& ex) {
                        const std::string& id = ex->context().param("vector_db_id");
                        auto vector_db = readable_one(
                            services, ex, "vector_db", services.vector_dbs().get(id), [&] {
                              return ApiError::not_found(
                                  "Vector DB '" + id +
                                  "' not found. Register it with POST /v1/vector-dbs");
                            });
                        require(services, ex, Action::kDelete, "vector_db", id, vector_db.owner);
                        services.vector_dbs().unregister_vector_db(id);
                        ex->send_json(200, nullptr);
                      },
                      "vector_dbs"}));
}

}  // namespace llama_stack::server::routes
