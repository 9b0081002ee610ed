// What a provider is: an object created from run.yaml `providers.<api>[i]`
// that implements one API. The provider registry (src/core/registry) maps
// (api, provider_type) to a ProviderSpec; the resolver creates providers in
// dependency order, initializes them, and shuts them down in reverse order.
//
// Thread-safety: after initialize() returns, every method may be called
// concurrently from any I/O thread; providers synchronize their own state.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "llama_stack/apis/agents.h"
#include "llama_stack/apis/files.h"
#include "llama_stack/apis/inference.h"
#include "llama_stack/apis/resources.h"
#include "llama_stack/apis/responses.h"
#include "llama_stack/apis/safety.h"
#include "llama_stack/apis/telemetry.h"
#include "llama_stack/apis/tools.h"
#include "llama_stack/apis/vector_io.h"
#include "llama_stack/apis/vector_stores.h"

namespace llama_stack::config {
class ConfigNode;
class Diagnostics;
}  // namespace llama_stack::config

namespace llama_stack {
class IoRuntime;
}

namespace llama_stack::providers {

struct HealthResponse {
  std::string status = "Not Implemented";  // "OK" | "Error" | "Not Implemented"
  std::string message = "Provider does not implement health check";
};

class Provider {
 public:
  virtual ~Provider() = default;
  // Opens stores, checks reachability. Throws to abort startup; providers
  // whose remote is merely unreachable should warn and start anyway.
  virtual void initialize() {}
  // Releases resources; must not throw.
  virtual void shutdown() noexcept {}
  // Reports health through `done` (from any thread, exactly once). Must not
  // block: remote checks are asynchronous.
  virtual void health(std::function<void(HealthResponse)> done) { done(HealthResponse{}); }
};

// Inference providers: serve models. Called by the inference router only.
// `request` is an OpenAI request body whose "model" is already the
// provider's model id; "stream" says whether to stream. A provider reports
// through `callbacks` from any thread and returns a cancel function (the
// caller went away: end soon with on_done(499)).
class InferenceProvider : public Provider {
 public:
  virtual apis::CancelFn openai_chat_completion(const apis::InferenceContext& context,
                                                boost::json::object request,
                                                apis::InferenceCallbacks callbacks) = 0;
  virtual apis::CancelFn openai_completion(const apis::InferenceContext& context,
                                           boost::json::object request,
                                           apis::InferenceCallbacks callbacks) = 0;
  // `request.input` is a string or an array of strings; responses carry float arrays.
  virtual apis::CancelFn openai_embeddings(const apis::InferenceContext& context,
                                           boost::json::object request,
                                           apis::InferenceCallbacks callbacks) = 0;

  // Models the upstream currently serves (for /v1/models discovery); empty
  // when unknown. Called at startup and on refresh; may block briefly.
  virtual std::vector<std::string> list_upstream_models() { return {}; }
  // Whether the models the upstream serves should appear in /v1/models
  // (provider config `refresh_models: true`).
  virtual bool discovers_models() const { return false; }

  // Called when a model is registered against this provider. Returns the model
  // to store (a provider may fill in metadata); throws ApiError to refuse.
  virtual apis::Model register_model(apis::Model model) { return model; }
  virtual void unregister_model(const std::string& /*model_id*/) {}
};

// Safety providers: serve shields.
class SafetyProvider : public Provider {
 public:
  virtual apis::Shield register_shield(apis::Shield shield) { return shield; }
  // Runs `shield` over `messages` (see apis::SafetyApi). Called by the safety
  // router only, with the shield already resolved and the caller checked.
  virtual async::Task<apis::RunShieldResponse> run_shield(const apis::CallContext& context,
                                                          const apis::Shield& shield,
                                                          boost::json::array messages,
                                                          boost::json::object params) = 0;
  // One result per input (see apis::SafetyApi::moderate). Shields that only
  // judge conversations answer 501.
  virtual async::Task<std::vector<apis::ModerationResult>> moderate(
      const apis::CallContext& /*context*/, const apis::Shield& shield,
      std::vector<std::string> /*inputs*/) {
    throw ApiError::not_implemented("Shield '" + shield.identifier +
                                    "' does not support moderations");
  }
  // The verdict with scores (see apis::ShieldAssessment). By default: the
  // run_shield verdict, each code of its metadata.violation_type scored 1.0.
  virtual async::Task<apis::ShieldAssessment> assess(const apis::CallContext& context,
                                                     const apis::Shield& shield,
                                                     boost::json::array messages) {
    auto run = run_shield(context, shield, std::move(messages), {});
    apis::RunShieldResponse verdict = co_await std::move(run);
    co_return apis::assessment_of(std::move(verdict));
  }
};

// Vector IO providers: serve vector databases. Called by the vector IO
// router only, with the vector DB resolved, the caller checked and every
// chunk validated and embedded (embedding.size() == embedding_dimension).
class VectorIOProvider : public Provider {
 public:
  virtual void register_vector_db(const apis::VectorDB& vector_db) = 0;
  virtual void unregister_vector_db(const std::string& vector_db_id) = 0;
  // Stores `chunks`, replacing stored chunks with the same id.
  virtual async::Task<void> insert_chunks(const apis::CallContext& context,
                                          const apis::VectorDB& vector_db,
                                          std::vector<apis::Chunk> chunks) = 0;
  // The best chunks for `query`, best first (see apis::VectorQuery), only
  // chunks `query.filter` keeps when it is set.
  virtual async::Task<apis::QueryChunksResponse> query_chunks(const apis::CallContext& context,
                                                              const apis::VectorDB& vector_db,
                                                              apis::VectorQuery query) = 0;
  // Removes the chunks with these ids (ids not stored are ignored).
  virtual async::Task<void> delete_chunks(const apis::CallContext& context,
                                          const apis::VectorDB& vector_db,
                                          std::vector<std::string> chunk_ids) = 0;
  // The stored chunks `keep` accepts, in insertion order.
  virtual async::Task<std::vector<apis::Chunk>> list_chunks(const apis::CallContext& context,
                                                            const apis::VectorDB& vector_db,
                                                            apis::ChunkFilter keep) = 0;
};

// Tool runtime providers: serve tool groups (list their tools, run them).
// Called by the tool runtime router only, with the group resolved.
class ToolRuntimeProvider : public Provider {
 public:
  // Checks a registration (400 for bad args); the default accepts it.
  virtual void register_toolgroup(const apis::ToolGroup& /*group*/) {}
  virtual void unregister_toolgroup(const std::string& /*toolgroup_id*/) {}
  virtual async::Task<std::vector<apis::ToolDef>> list_runtime_tools(
      const apis::CallContext& context, const apis::ToolGroup& group) = 0;
  virtual async::Task<apis::ToolInvocationResult> invoke_tool(const apis::CallContext& context,
                                                              const apis::ToolGroup& group,
                                                              const std::string& tool_name,
                                                              boost::json::object kwargs) = 0;
  // The RAG tool's own API (/v1/tool-runtime/rag-tool/*) when this provider
  // serves it (inline::rag-runtime); null otherwise.
  virtual apis::RagToolApi* rag() { return nullptr; }
};

// Files providers: store uploaded files and their metadata. Called by the
// files router only, which applies the access policy.
class FilesProvider : public Provider {
 public:
  virtual async::Task<apis::FileObject> store_file(const apis::CallContext& context,
                                                   apis::FileUpload upload,
                                                   std::optional<apis::Owner> owner) = 0;
  // Files `visible` accepts, in created_at order, after `query.after`.
  virtual async::Task<apis::FilesPage> list_files(
      const apis::CallContext& context, apis::FilesQuery query,
      std::function<bool(const apis::FileObject&)> visible) = 0;
  // nullopt: no such file (or it expired).
  virtual async::Task<std::optional<apis::FileObject>> find_file(const apis::CallContext& context,
                                                                 std::string file_id) = 0;
  virtual async::Task<std::string> file_content(const apis::CallContext& context,
                                                apis::FileObject file) = 0;
  virtual async::Task<void> delete_file(const apis::CallContext& context,
                                        apis::FileObject file) = 0;
};

// The APIs a provider may call (declared in its spec's api_dependencies or
// optional_dependencies): the routers, as in Llama Stack's resolver, so a
// provider's calls are routed, checked, limited, audited and recorded like
// any other. The Stack creates every router before any provider; a router
// whose API has no provider answers 404 for every resource. A provider may
// call them once the stack serves.
// Agents providers (inline::meta-reference): the whole Agents API, called by
// the agents router only, which applies the access policy first — so the
// provider also tells who owns an agent or a session (404 when unknown).
class AgentsProvider : public Provider, public apis::AgentsApi {
 public:
  virtual std::optional<apis::Owner> agent_owner(const std::string& agent_id) = 0;
  virtual std::optional<apis::Owner> session_owner(const std::string& agent_id,
                                                   const std::string& session_id) = 0;
  // Which listed agents and sessions the caller may see (set by the router
  // before list_agents / list_sessions; unset: all).
  using Visible = std::function<bool(const std::string& id, const std::optional<apis::Owner>&)>;
  virtual async::Task<apis::PaginatedJson> list_agents_visible(const apis::CallContext& context,
                                                               apis::IndexPage page,
                                                               Visible visible) = 0;
  virtual async::Task<apis::PaginatedJson> list_sessions_visible(const apis::CallContext& context,
                                                                 std::string agent_id,
                                                                 apis::IndexPage page,
                                                                 Visible visible) = 0;
  // The OpenAI Responses API of this provider, and who owns a stored
  // response (404 when unknown).
  virtual apis::ResponsesApi& responses() = 0;
  virtual std::optional<apis::Owner> response_owner(const std::string& response_id) = 0;
};

// Telemetry providers: receive the spans the server records and answer the
// telemetry query API.
class TelemetryProvider : public Provider, public apis::TelemetryApi {};

// The text of a document file, for indexing (vector store files): its type
// guessed from `filename` and its first bytes; text/*, HTML and PDF. The
// providers layer implements it (providers/utils/document_text.h) and the
// provider registry hands it to the Stack, so core code never links a
// document parser. CPU work: call it on a worker thread. Throws ApiError
// 415 (not a document type) or 400 (a broken document) naming `field`.
using DocumentTextFn = std::function<std::string(std::string bytes, const std::string& filename,
                                                 const std::string& field)>;

struct ProviderDeps {
  apis::InferenceApi* inference = nullptr;
  apis::SafetyApi* safety = nullptr;
  apis::VectorIOApi* vector_io = nullptr;
  apis::ToolRuntimeApi* tool_runtime = nullptr;
  apis::FilesApi* files = nullptr;
  apis::VectorStoresApi* vector_stores = nullptr;
  apis::ConversationsApi* conversations = nullptr;
  apis::TelemetryApi* telemetry = nullptr;  // spans of provider steps (agent steps)
};

struct ProviderContext {
  std::string api;
  std::string provider_id;
  std::string provider_type;
  const ProviderDeps* deps = nullptr;
  IoRuntime* runtime = nullptr;  // for upstream I/O (HttpClient)
  // Worker threads for CPU-heavy or blocking work (async::offload), never an
  // I/O thread.
  async::Executor* workers = nullptr;
};

// How the registry knows a provider type.
struct ProviderSpec {
  std::string api;
  std::string provider_type;
  std::string description;
  std::vector<std::string> api_dependencies;       // must be configured
  std::vector<std::string> optional_dependencies;  // used when configured
  // Validates `config`, reporting problems (with paths) to diagnostics.
  std::function<void(const config::ConfigNode& config, config::Diagnostics& diagnostics)>
      validate_config;
  // Creates the provider. Called only after validate_config found no error.
  std::function<std::unique_ptr<Provider>(const ProviderContext& context,
                                          const config::ConfigNode& config)>
      create;
};

}  // namespace llama_stack::providers
