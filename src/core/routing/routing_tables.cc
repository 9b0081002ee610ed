#include "core/routing/routing_tables.h"

#include <chrono>

#include "core/log/log.h"
#include "core/routing/registration.h"
#include "llama_stack/common/errors.h"

namespace llama_stack::routing {
namespace {

using detail::choose_provider;
using detail::require_id;

constexpr const char* kModel = "model";
constexpr const char* kShield = "shield";
constexpr const char* kVectorDB = "vector_db";

std::int64_t now_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

// ---------------------------------------------------------------- models

ModelsRoutingTable::ModelsRoutingTable(
    registry::ResourceRegistry& registry,
    std::map<std::string, providers::InferenceProvider*> providers)
    : registry_(registry), providers_(std::move(providers)) {}

std::vector<apis::Model> ModelsRoutingTable::list() const {
  std::vector<apis::Model> out;
  for (const auto& object : registry_.list(kModel)) out.push_back(apis::Model::from_json(object));
  return out;
}

std::optional<apis::Model> ModelsRoutingTable::find(const std::string& model_id) const {
  auto model = lookup(model_id);
  if (!model) return std::nullopt;
  return *model;
}

std::shared_ptr<const apis::Model> ModelsRoutingTable::lookup(const std::string& model_id) const {
  // Read the generation first: data read after it is at least that new.
  const std::uint64_t generation = registry_.generation();
  {
    std::shared_lock lock(parsed_mutex_);
    if (parsed_generation_ == generation) {
      if (auto it = parsed_.find(model_id); it != parsed_.end()) return it->second;
    }
  }
  auto object = registry_.get(kModel, model_id);
  if (!object) return nullptr;
  auto model = std::make_shared<const apis::Model>(apis::Model::from_json(*object));
  std::unique_lock lock(parsed_mutex_);
  if (generation > parsed_generation_) {
    parsed_.clear();
    parsed_generation_ = generation;
  }
  if (generation == parsed_generation_) parsed_[model_id] = model;
  return model;
}

ApiError ModelsRoutingTable::not_found(const std::string& model_id) {
  return ApiError::not_found("Model '" + model_id +
                             "' not found. Register it with POST /v1/models "
                             "(or list it under `models` in run.yaml)");
}

apis::Model ModelsRoutingTable::get(const std::string& model_id) const {
  auto model = lookup(model_id);
  if (!model) throw not_found(model_id);
  return *model;
}

apis::Model ModelsRoutingTable::register_model(const RegisterModelRequest& request,
                                               OnExisting on_existing) {
  require_id(request.model_id, "model_id");
  if (request.provider_model_id) require_id(*request.provider_model_id, "provider_model_id");
  std::lock_guard lock(write_mutex_);
  auto [provider_id, provider] = choose_provider(providers_, request.provider_id, "inference",
                                                 "model '" + request.model_id + "'");
  if (on_existing == OnExisting::kConflict && registry_.get(kModel, request.model_id)) {
    throw ApiError::conflict("Model '" + request.model_id +
                             "' is already registered; unregister it first "
                             "(DELETE /v1/models/" +
                             request.model_id + ")");
  }
  apis::Model model;
  model.identifier = request.model_id;
  model.provider_id = provider_id;
  model.provider_resource_id = request.provider_model_id.value_or(request.model_id);
  model.model_type = request.model_type;
  model.metadata = request.metadata;
  model.created = now_seconds();
  model.owner = request.owner;
  if (model.model_type == apis::ModelType::kEmbedding) {
    auto it = model.metadata.find("embedding_dimension");
    if (it == model.metadata.end() || !it->value().is_int64() || it->value().get_int64() <= 0) {
      throw ApiError::bad_request("Embedding model '" + model.identifier +
                                  "' needs metadata.embedding_dimension (a positive integer)");
    }
  }
  model = provider->register_model(std::move(model));
  registry_.put(kModel, model.identifier, model.to_json());
  LS_INFO(kCore, "registered model '{}' → {} ({})", model.identifier, model.provider_id,
          model.provider_resource_id);
  return model;
}

void ModelsRoutingTable::unregister_model(const std::string& model_id) {
  std::lock_guard lock(write_mutex_);
  apis::Model model = get(model_id);
  if (auto it = providers_.find(model.provider_id); it != providers_.end()) {
    it->second->unregister_model(model_id);
  }
  registry_.remove(kModel, model_id);
  LS_INFO(kCore, "unregistered model '{}'", model_id);
}

providers::InferenceProvider& ModelsRoutingTable::provider_for(const apis::Model& model) const {
  auto it = providers_.find(model.provider_id);
  if (it == providers_.end()) {
    throw ApiError::unavailable("Provider '" + model.provider_id + "' of model '" +
                                model.identifier + "' is not configured");
  }
  return *it->second;
}

// ---------------------------------------------------------------- shields

ShieldsRoutingTable::ShieldsRoutingTable(
    registry::ResourceRegistry& registry,
    std::map<std::string, providers::SafetyProvider*> providers)
    : registry_(registry), providers_(std::move(providers)) {}

std::vector<apis::Shield> ShieldsRoutingTable::list() const {
  std::vector<apis::Shield> out;
  for (const auto& object : registry_.list(kShield)) out.push_back(apis::Shield::from_json(object));
  return out;
}

apis::Shield ShieldsRoutingTable::get(const std::string& shield_id) const {
  auto object = registry_.get(kShield, shield_id);
  if (!object) {
    throw ApiError::not_found("Shield '" + shield_id +
                              "' not found. Register it with POST /v1/shields");
  }
  return apis::Shield::from_json(*object);
}

apis::Shield ShieldsRoutingTable::register_shield(const RegisterShieldRequest& request,
                                                  OnExisting on_existing) {
  require_id(request.shield_id, "shield_id");
  if (request.provider_shield_id) require_id(*request.provider_shield_id, "provider_shield_id");
  std::lock_guard lock(write_mutex_);
  auto [provider_id, provider] = choose_provider(providers_, request.provider_id, "safety",
                                                 "shield '" + request.shield_id + "'");
  if (on_existing == OnExisting::kConflict && registry_.get(kShield, request.shield_id)) {
    throw ApiError::conflict("Shield '" + request.shield_id + "' is already registered");
  }
  apis::Shield shield;
  shield.identifier = request.shield_id;
  shield.provider_id = provider_id;
  shield.provider_resource_id = request.provider_shield_id.value_or(request.shield_id);
  shield.params = request.params;
  shield.owner = request.owner;
  shield = provider->register_shield(std::move(shield));
  registry_.put(kShield, shield.identifier, shield.to_json());
  LS_INFO(kCore, "registered shield '{}' → {}", shield.identifier, shield.provider_id);
  return shield;
}

providers::SafetyProvider& ShieldsRoutingTable::provider_for(const apis::Shield& shield) const {
  auto it = providers_.find(shield.provider_id);
  if (it == providers_.end()) {
    throw ApiError::unavailable("Provider '" + shield.provider_id + "' of shield '" +
                                shield.identifier + "' is not configured");
  }
  return *it->second;
}

void ShieldsRoutingTable::unregister_shield(const std::string& shield_id) {
  std::lock_guard lock(write_mutex_);
  get(shield_id);
  registry_.remove(kShield, shield_id);
}

// ---------------------------------------------------------------- vector dbs

VectorDBsRoutingTable::VectorDBsRoutingTable(
    registry::ResourceRegistry& registry, const ModelsRoutingTable& models,
    std::map<std::string, providers::VectorIOProvider*> providers)
    : registry_(registry), models_(models), providers_(std::move(providers)) {}

std::vector<apis::VectorDB> VectorDBsRoutingTable::list() const {
  std::vector<apis::VectorDB> out;
  for (const auto& object : registry_.list(kVectorDB)) {
    out.push_back(apis::VectorDB::from_json(object));
  }
  return out;
}

apis::VectorDB VectorDBsRoutingTable::get(const std::string& vector_db_id) const {
  auto object = registry_.get(kVectorDB, vector_db_id);
  if (!object) {
    throw ApiError::not_found("Vector DB '" + vector_db_id +
                              "' not found. Register it with POST /v1/vector-dbs");
  }
  return apis::VectorDB::from_json(*object);
}

apis::VectorDB VectorDBsRoutingTable::register_vector_db(const RegisterVectorDBRequest& request,
                                                         OnExisting on_existing) {
  require_id(request.vector_db_id, "vector_db_id");
  require_id(request.embedding_model, "embedding_model");
  if (request.provider_vector_db_id) {
    require_id(*request.provider_vector_db_id, "provider_vector_db_id");
  }
  std::lock_guard lock(write_mutex_);
  auto [provider_id, provider] = choose_provider(providers_, request.provider_id, "vector_io",
                                                 "vector DB '" + request.vector_db_id + "'");
  if (on_existing == OnExisting::kConflict && registry_.get(kVectorDB, request.vector_db_id)) {
    throw ApiError::conflict("Vector DB '" + request.vector_db_id + "' is already registered");
  }
  auto model = models_.find(request.embedding_model);
  if (!model) {
    throw ApiError::not_found("Embedding model '" + request.embedding_model +
                              "' not found; register it (model_type: embedding) first");
  }
  if (model->model_type != apis::ModelType::kEmbedding) {
    throw ApiError::bad_request("Model '" + request.embedding_model +
                                "' is not an embedding model (model_type is llm)");
  }
  apis::VectorDB vector_db;
  vector_db.identifier = request.vector_db_id;
  vector_db.provider_id = provider_id;
  vector_db.provider_resource_id = request.provider_vector_db_id.value_or(request.vector_db_id);
  vector_db.embedding_model = request.embedding_model;
  vector_db.vector_db_name = request.vector_db_name;
  vector_db.owner = request.owner;
  // The model's own dimension wins, as in Llama Stack; a conflicting request is an error.
  std::int64_t dimension = request.embedding_dimension.value_or(384);
  if (auto it = model->metadata.find("embedding_dimension");
      it != model->metadata.end() && it->value().is_int64()) {
    if (request.embedding_dimension && *request.embedding_dimension != it->value().get_int64()) {
      throw ApiError::bad_request("embedding_dimension " +
                                  std::to_string(*request.embedding_dimension) +
                                  " does not match model '" + request.embedding_model + "' (" +
                                  std::to_string(it->value().get_int64()) + ")");
    }
    dimension = it->value().get_int64();
  }
  vector_db.embedding_dimension = dimension;
  provider->register_vector_db(vector_db);
  registry_.put(kVectorDB, vector_db.identifier, vector_db.to_json());
  LS_INFO(kCore, "registered vector DB '{}' → {}", vector_db.identifier, vector_db.provider_id);
  return vector_db;
}

providers::VectorIOProvider& VectorDBsRoutingTable::provider_for(
    const apis::VectorDB& vector_db) const {
  auto it = providers_.find(vector_db.provider_id);
  if (it == providers_.end()) {
    throw ApiError::unavailable("Provider '" + vector_db.provider_id + "' of vector DB '" +
                                vector_db.identifier + "' is not configured");
  }
  return *it->second;
}

void VectorDBsRoutingTable::unregister_vector_db(const std::string& vector_db_id) {
  std::lock_guard lock(write_mutex_);
  apis::VectorDB vector_db = get(vector_db_id);
  if (auto it = providers_.find(vector_db.provider_id); it != providers_.end()) {
    it->second->unregister_vector_db(vector_db_id);
  }
  registry_.remove(kVectorDB, vector_db_id);
}

}  // namespace llama_stack::routing
