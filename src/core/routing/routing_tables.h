// Routing tables: resource → provider. Each table validates registrations,
// lets the owning provider accept or refuse them, and persists them in the
// ResourceRegistry. Routers (inference, safety, vector_io) use them to find
// the provider behind a resource id.
//
// Thread-safety: safe for concurrent use.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/registry/resource_registry.h"
#include "llama_stack/apis/resources.h"
#include "llama_stack/common/errors.h"
#include "llama_stack/providers/provider.h"

namespace llama_stack::routing {

struct RegisterModelRequest {
  std::string model_id;
  std::optional<std::string> provider_model_id;
  std::optional<std::string> provider_id;
  json::object metadata;
  apis::ModelType model_type = apis::ModelType::kLlm;
  std::optional<apis::Owner> owner;
};

struct RegisterShieldRequest {
  std::string shield_id;
  std::optional<std::string> provider_shield_id;
  std::optional<std::string> provider_id;
  json::object params;
  std::optional<apis::Owner> owner;
};

struct RegisterVectorDBRequest {
  std::string vector_db_id;
  std::string embedding_model;
  std::optional<std::int64_t> embedding_dimension;
  std::optional<std::string> provider_id;
  std::optional<std::string> provider_vector_db_id;
  std::optional<std::string> vector_db_name;
  std::optional<apis::Owner> owner;
};

// Behaviour when a registration names an existing identifier.
enum class OnExisting {
  kConflict,  // 409 (API registrations)
  kReplace,   // overwrite (resources declared in run.yaml, at every start)
};

class ModelsRoutingTable {
 public:
  ModelsRoutingTable(registry::ResourceRegistry& registry,
                     std::map<std::string, providers::InferenceProvider*> providers);

  std::vector<apis::Model> list() const;
  // Throws ApiError 404 naming the model and how to register it.
  apis::Model get(const std::string& model_id) const;
  static ApiError not_found(const std::string& model_id);
  std::optional<apis::Model> find(const std::string& model_id) const;
  // Like find, without copying: the parsed model is cached until the
  // registry changes. Null when absent.
  std::shared_ptr<const apis::Model> lookup(const std::string& model_id) const;
  apis::Model register_model(const RegisterModelRequest& request, OnExisting on_existing);
  void unregister_model(const std::string& model_id);
  providers::InferenceProvider& provider_for(const apis::Model& model) const;
  // Startup only (before any call): the Stack creates the tables before the
  // providers, so that providers can depend on the routers.
  void add_provider(const std::string& provider_id, providers::InferenceProvider* provider) {
    providers_[provider_id] = provider;
  }

 private:
  registry::ResourceRegistry& registry_;
  std::map<std::string, providers::InferenceProvider*> providers_;
  std::mutex write_mutex_;  // serializes check-then-register
  // Parsed models, valid for one registry generation.
  mutable std::shared_mutex parsed_mutex_;
  mutable std::uint64_t parsed_generation_ = 0;
  mutable std::unordered_map<std::string, std::shared_ptr<const apis::Model>> parsed_;
};

class ShieldsRoutingTable {
 public:
  ShieldsRoutingTable(registry::ResourceRegistry& registry,
                      std::map<std::string, providers::SafetyProvider*> providers);

  std::vector<apis::Shield> list() const;
  apis::Shield get(const std::string& shield_id) const;
  apis::Shield register_shield(const RegisterShieldRequest& request, OnExisting on_existing);
  void unregister_shield(const std::string& shield_id);
  // 503 when the shield's provider is not configured (any more).
  providers::SafetyProvider& provider_for(const apis::Shield& shield) const;
  // Startup only (see ModelsRoutingTable::add_provider).
  void add_provider(const std::string& provider_id, providers::SafetyProvider* provider) {
    providers_[provider_id] = provider;
  }

 private:
  registry::ResourceRegistry& registry_;
  std::map<std::string, providers::SafetyProvider*> providers_;
  std::mutex write_mutex_;
};

class VectorDBsRoutingTable {
 public:
  VectorDBsRoutingTable(registry::ResourceRegistry& registry, const ModelsRoutingTable& models,
                        std::map<std::string, providers::VectorIOProvider*> providers);

  std::vector<apis::VectorDB> list() const;
  apis::VectorDB get(const std::string& vector_db_id) const;
  apis::VectorDB register_vector_db(const RegisterVectorDBRequest& request, OnExisting on_existing);
  void unregister_vector_db(const std::string& vector_db_id);
  // The provider serving `vector_db` (503 when it is not configured).
  providers::VectorIOProvider& provider_for(const apis::VectorDB& vector_db) const;
  // Startup only (see ModelsRoutingTable::add_provider).
  void add_provider(const std::string& provider_id, providers::VectorIOProvider* provider) {
    providers_[provider_id] = provider;
  }

 private:
  registry::ResourceRegistry& registry_;
  const ModelsRoutingTable& models_;
  std::map<std::string, providers::VectorIOProvider*> providers_;
  std::mutex write_mutex_;
};

}  // namespace llama_stack::routing
