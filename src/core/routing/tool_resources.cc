// JSON shapes of the tool API types (Llama Stack 0.2.x).
#include <boost/json.hpp>

#include "core/util/json.h"
#include "llama_stack/apis/tools.h"
#include "llama_stack/common/errors.h"

namespace llama_stack::apis {
namespace {

json::value owner_json(const std::optional<Owner>& owner) {
  return owner ? owner->to_json() : json::value(nullptr);
}

std::string str_or(const json::object& o, std::string_view key, std::string fallback) {
  const auto* v = json_field(o, key);
  return v != nullptr && v->is_string() ? std::string(v->get_string()) : fallback;
}

}  // namespace

json::object ToolGroup::to_json() const {
  json::object out{{"identifier", identifier},   {"provider_resource_id", provider_resource_id},
                   {"provider_id", provider_id}, {"type", "tool_group"},
                   {"owner", owner_json(owner)}, {"args", args}};
  out["mcp_endpoint"] =
      mcp_endpoint ? json::value(json::object{{"uri", *mcp_endpoint}}) : json::value(nullptr);
  return out;
}

ToolGroup ToolGroup::from_json(const json::value& value) {
  const auto& o = value.as_object();
  ToolGroup g;
  g.identifier = str_or(o, "identifier", "");
  g.provider_id = str_or(o, "provider_id", "");
  g.provider_resource_id = str_or(o, "provider_resource_id", g.identifier);
  if (const auto* m = json_field(o, "mcp_endpoint"); m != nullptr && m->is_object()) {
    if (const auto* uri = json_field(m->get_object(), "uri"); uri != nullptr && uri->is_string()) {
      g.mcp_endpoint = std::string(uri->get_string());
    }
  }
  if (const auto* a = json_field(o, "args")) g.args = *a;
  if (const auto* owner = json_field(o, "owner")) g.owner = Owner::from_json(*owner);
  return g;
}

json::object ToolDef::to_json() const {
  return json::object{{"name", name},
                      {"description", description ? json::value(*description) : nullptr},
                      {"parameters", parameters},
                      {"metadata", metadata}};
}

json::object ToolDef::to_tool_json(const ToolGroup& group) const {
  return json::object{{"identifier", name},
                      {"provider_resource_id", name},
                      {"provider_id", group.provider_id},
                      {"type", "tool"},
                      {"owner", owner_json(group.owner)},
                      {"toolgroup_id", group.identifier},
                      {"description", description.value_or("")},
                      {"parameters", parameters},
                      {"metadata", metadata}};
}

json::object ToolInvocationResult::to_json() const {
  return json::object{{"content", content},
                      {"error_message", error_message ? json::value(*error_message) : nullptr},
                      {"error_code", error_code ? json::value(*error_code) : nullptr},
                      {"metadata", metadata}};
}

RagQueryConfig RagQueryConfig::parse(const json::value& value) {
  RagQueryConfig c;
  if (value.is_null()) return c;
  const json::object* o = value.if_object();
  if (o == nullptr) throw JsonFieldError("query_config", "Field 'query_config' must be an object");
  auto integer = [&](std::string_view key, std::int64_t& out, std::int64_t min) {
    const auto* v = json_field(*o, key);
    if (v == nullptr || v->is_null()) return;
    if (!(v->is_int64() || v->is_uint64()) || v->to_number<std::int64_t>() < min) {
      const std::string path = "query_config." + std::string(key);
      throw JsonFieldError(path,
                           "Field '" + path + "' must be an integer >= " + std::to_string(min));
    }
    out = v->to_number<std::int64_t>();
  };
  integer("max_chunks", c.max_chunks, 1);
  integer("max_tokens_in_context", c.max_tokens_in_context, 1);
  if (const auto* t = json_field(*o, "chunk_template"); t != nullptr && !t->is_null()) {
    if (!t->is_string()) {
      throw JsonFieldError("query_config.chunk_template",
                           "Field 'query_config.chunk_template' must be a string");
    }
    c.chunk_template = std::string(t->get_string());
    for (const char* needed : {"{chunk.content}", "{index}"}) {
      if (c.chunk_template.find(needed) == std::string::npos) {
        throw JsonFieldError(
            "query_config.chunk_template",
            std::string("Field 'query_config.chunk_template' must contain ") + needed);
      }
    }
  }
  if (const auto* m = json_field(*o, "mode"); m != nullptr && !m->is_null()) {
    if (!m->is_string())
      throw JsonFieldError("query_config.mode", "Field 'query_config.mode' must be a string");
    c.mode = std::string(m->get_string());
  }
  if (const auto* r = json_field(*o, "ranker")) c.ranker = *r;
  if (const auto* g = json_field(*o, "query_generator_config"); g != nullptr && !g->is_null()) {
    if (!g->is_object()) {
      throw JsonFieldError("query_config.query_generator_config",
                           "Field 'query_config.query_generator_config' must be an object");
    }
    const auto& gen = g->get_object();
    c.generator = str_or(gen, "type", "default");
    if (c.generator == "default") {
      c.separator = str_or(gen, "separator", " ");
    } else if (c.generator == "llm") {
      c.generator_model = str_or(gen, "model", "");
      c.generator_template = str_or(gen, "template", "");
      if (c.generator_model.empty()) {
        throw JsonFieldError("query_config.query_generator_config.model",
                             "Field 'query_config.query_generator_config.model' is required for "
                             "the llm query generator");
      }
    } else {
      throw JsonFieldError("query_config.query_generator_config.type",
                           "Field 'query_config.query_generator_config.type' must be 'default' or "
                           "'llm'");
    }
  }
  return c;
}

}  // namespace llama_stack::apis
