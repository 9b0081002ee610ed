// Resources: the named things providers serve (Llama Stack's `Resource`
// subclasses). Stored in the registry as JSON, exactly the shapes the
// Python server returns, so clients see the same objects.
#pragma once

#include <boost/json.hpp>

#include <cstdint>
#include <optional>
#include <string>

namespace llama_stack::apis {

namespace json = boost::json;

// Who registered a resource, for access policies (Llama Stack's `User`).
struct Owner {
  std::string principal;
  json::object attributes;  // e.g. {"roles": ["admin"], "teams": ["ml"]}
  json::value to_json() const;
  static std::optional<Owner> from_json(const json::value& value);
};

enum class ModelType { kLlm, kEmbedding };
std::string_view to_string(ModelType type);
std::optional<ModelType> parse_model_type(std::string_view text);

struct Model {
  std::string identifier;
  std::string provider_id;
  std::string provider_resource_id;
  ModelType model_type = ModelType::kLlm;
  json::object metadata;
  std::int64_t created = 0;  // unix seconds of registration (OpenAI `created`)
  std::optional<Owner> owner;

  // Both the Llama Stack shape (identifier, provider_id, ...) and the OpenAI
  // shape (id, object, created, owned_by, custom_metadata): one object that
  // every client version reads.
  json::object to_json() const;
  // The OpenAI `Model` object only.
  json::object to_openai_json() const;
  static Model from_json(const json::value& value);  // throws on a corrupt record
};

struct Shield {
  std::string identifier;
  std::string provider_id;
  std::string provider_resource_id;
  json::object params;
  std::optional<Owner> owner;

  json::object to_json() const;
  static Shield from_json(const json::value& value);
};

struct VectorDB {
  std::string identifier;
  std::string provider_id;
  std::string provider_resource_id;
  std::string embedding_model;
  std::int64_t embedding_dimension = 384;
  std::optional<std::string> vector_db_name;
  std::optional<Owner> owner;

  json::object to_json() const;
  static VectorDB from_json(const json::value& value);
};

}  // namespace llama_stack::apis
