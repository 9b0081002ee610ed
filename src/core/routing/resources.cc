#include "llama_stack/apis/resources.h"

#include <stdexcept>

#include "core/util/json.h"

namespace llama_stack::apis {
namespace {

json::value owner_json(const std::optional<Owner>& owner) {
  return owner ? owner->to_json() : json::value(nullptr);
}

std::string str(const json::object& o, std::string_view key) {
  auto it = o.find(key);
  if (it == o.end() || !it->value().is_string()) {
    throw std::runtime_error("stored resource lacks string field '" + std::string(key) + "'");
  }
  return std::string(it->value().get_string());
}

std::string str_or(const json::object& o, std::string_view key, const std::string& fallback) {
  auto it = o.find(key);
  if (it == o.end() || !it->value().is_string()) return fallback;
  return std::string(it->value().get_string());
}

json::object obj_or_empty(const json::object& o, std::string_view key) {
  auto it = o.find(key);
  if (it == o.end() || !it->value().is_object()) return {};
  return it->value().get_object();
}

std::optional<Owner> owner_of(const json::object& o) {
  auto it = o.find("owner");
  return it == o.end() ? std::nullopt : Owner::from_json(it->value());
}

}  // namespace

json::value Owner::to_json() const {
  return json::object{{"principal", principal}, {"attributes", attributes}};
}

std::optional<Owner> Owner::from_json(const json::value& value) {
  if (!value.is_object()) return std::nullopt;
  const auto& o = value.get_object();
  Owner owner;
  owner.principal = str_or(o, "principal", "");
  owner.attributes = obj_or_empty(o, "attributes");
  return owner;
}

std::string_view to_string(ModelType type) {
  return type == ModelType::kEmbedding ? "embedding" : "llm";
}

std::optional<ModelType> parse_model_type(std::string_view text) {
  if (text == "llm") return ModelType::kLlm;
  if (text == "embedding") return ModelType::kEmbedding;
  return std::nullopt;
}

json::object Model::to_json() const {
  json::object custom = metadata;
  custom["model_type"] = to_string(model_type);
  custom["provider_id"] = provider_id;
  custom["provider_resource_id"] = provider_resource_id;
  return json::object{
      {"identifier", identifier},
      {"provider_resource_id", provider_resource_id},
      {"provider_id", provider_id},
      {"type", "model"},
      {"owner", owner_json(owner)},
      {"metadata", metadata},
      {"model_type", to_string(model_type)},
      {"id", identifier},
      {"object", "model"},
      {"created", created},
      {"owned_by", "llama_stack"},
      {"custom_metadata", std::move(custom)},
  };
}

json::object Model::to_openai_json() const {
  return json::object{
      {"id", identifier}, {"object", "model"}, {"created", created}, {"owned_by", "llama_stack"}};
}

Model Model::from_json(const json::value& value) {
  const auto& o = value.as_object();
  Model m;
  m.identifier = str(o, "identifier");
  m.provider_id = str(o, "provider_id");
  m.provider_resource_id = str_or(o, "provider_resource_id", m.identifier);
  m.model_type = parse_model_type(str_or(o, "model_type", "llm")).value_or(ModelType::kLlm);
  m.metadata = obj_or_empty(o, "metadata");
  if (auto it = o.find("created"); it != o.end() && it->value().is_int64()) {
    m.created = it->value().get_int64();
  }
  m.owner = owner_of(o);
  return m;
}

json::object Shield::to_json() const {
  return json::object{
      {"identifier", identifier},   {"provider_resource_id", provider_resource_id},
      {"provider_id", provider_id}, {"type", "shield"},
      {"owner", owner_json(owner)}, {"params", params},
  };
}

Shield Shield::from_json(const json::value& value) {
  const auto& o = value.as_object();
  Shield s;
  s.identifier = str(o, "identifier");
  s.provider_id = str(o, "provider_id");
  s.provider_resource_id = str_or(o, "provider_resource_id", s.identifier);
  s.params = obj_or_empty(o, "params");
  s.owner = owner_of(o);
  return s;
}

json::object VectorDB::to_json() const {
  json::object out{
      {"identifier", identifier},
      {"provider_resource_id", provider_resource_id},
      {"provider_id", provider_id},
      {"type", "vector_db"},
      {"owner", owner_json(owner)},
      {"embedding_model", embedding_model},
      {"embedding_dimension", embedding_dimension},
  };
  out["vector_db_name"] = vector_db_name ? json::value(*vector_db_name) : json::value(nullptr);
  return out;
}

VectorDB VectorDB::from_json(const json::value& value) {
  const auto& o = value.as_object();
  VectorDB v;
  v.identifier = str(o, "identifier");
  v.provider_id = str(o, "provider_id");
  v.provider_resource_id = str_or(o, "provider_resource_id", v.identifier);
  v.embedding_model = str(o, "embedding_model");
  if (auto it = o.find("embedding_dimension"); it != o.end() && it->value().is_int64()) {
    v.embedding_dimension = it->value().get_int64();
  }
  if (auto it = o.find("vector_db_name"); it != o.end() && it->value().is_string()) {
    v.vector_db_name = std::string(it->value().get_string());
  }
  v.owner = owner_of(o);
  return v;
}

}  // namespace llama_stack::apis
