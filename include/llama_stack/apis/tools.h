// Tool groups, the tool runtime and the RAG tool (Llama Stack 0.2.x).
//
// A tool group (a resource, like a model) is served by a tool_runtime
// provider, which lists its tools and runs them. Callers — the
// /v1/tool-runtime routes, later agents — use ToolRuntimeApi, the tool
// runtime router (src/core/routing/tool_runtime_router.h), which finds the
// group a tool belongs to and calls its provider. The RAG tool
// (`builtin::rag`: knowledge_search, insert_into_memory) also has its own
// routes: RagToolApi.
#pragma once

#include <boost/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "llama_stack/apis/call_context.h"
#include "llama_stack/apis/resources.h"
#include "llama_stack/async/task.h"

namespace llama_stack::apis {

struct ToolGroup {
  std::string identifier;
  std::string provider_id;
  std::string provider_resource_id;
  std::optional<std::string> mcp_endpoint;  // its uri
  json::value args = nullptr;
  std::optional<Owner> owner;

  json::object to_json() const;
  static ToolGroup from_json(const json::value& value);
};

// A tool as a provider describes it (ToolDef); `parameters` are
// [{name, parameter_type, description, required, default}].
struct ToolDef {
  std::string name;
  std::optional<std::string> description;
  json::array parameters;
  json::value metadata = nullptr;

  json::object to_json() const;
  // The Tool resource shape of /v1/tools (identifier, provider_id,
  // toolgroup_id, type "tool", description, parameters, metadata).
  json::object to_tool_json(const ToolGroup& group) const;
};

struct ToolInvocationResult {
  json::value content = nullptr;  // interleaved content
  std::optional<std::string> error_message;
  std::optional<std::int64_t> error_code;
  json::value metadata = nullptr;

  json::object to_json() const;
};

class ToolRuntimeApi {
 public:
  virtual ~ToolRuntimeApi() = default;
  // The tools of one group (or of every group the caller may read).
  virtual async::Task<std::vector<std::pair<ToolGroup, ToolDef>>> list_tools(
      const CallContext& context, std::optional<std::string> toolgroup_id) = 0;
  // Runs `tool_name` with `kwargs`. 404 for a tool no registered group has.
  virtual async::Task<ToolInvocationResult> invoke_tool(const CallContext& context,
                                                        const std::string& tool_name,
                                                        json::object kwargs) = 0;
};

// RAGQueryConfig (Llama Stack names and defaults).
struct RagQueryConfig {
  std::int64_t max_chunks = 5;
  std::int64_t max_tokens_in_context = 4096;
  std::string chunk_template = "Result {index}\nContent: {chunk.content}\nMetadata: {metadata}\n";
  std::optional<std::string> mode;  // vector | keyword | hybrid
  json::value ranker = nullptr;
  // query_generator_config: {type: default, separator} or {type: llm, model, template}
  std::string generator = "default";
  std::string separator = " ";
  std::string generator_model;
  std::string generator_template;

  // 400 naming query_config.<field> (a template without {index} or {chunk.content}).
  static RagQueryConfig parse(const json::value& value);
};

struct RagQueryResult {
  json::value content = nullptr;  // a list of text items, or null when nothing was found
  json::object metadata;          // {"document_ids": [...]}

  json::object to_json() const {
    return json::object{{"content", content}, {"metadata", metadata}};
  }
};

class RagToolApi {
 public:
  virtual ~RagToolApi() = default;
  // documents: [{document_id, content (string | items | {uri} | URL string), mime_type?,
  // metadata?}]
  virtual async::Task<void> insert(const CallContext& context, json::array documents,
                                   std::string vector_db_id, std::int64_t chunk_size_in_tokens) = 0;
  virtual async::Task<RagQueryResult> query(const CallContext& context, json::value content,
                                            std::vector<std::string> vector_db_ids,
                                            RagQueryConfig config) = 0;
};

}  // namespace llama_stack::apis
