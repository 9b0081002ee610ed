// InferenceRouter: the inference API (apis::InferenceApi) for every caller —
// the HTTP routes (native and OpenAI-compatible), and providers and
// orchestrators that call a model internally (they get it as
// ProviderDeps::inference). One pipeline per call, whoever calls:
//
//   audit                  inference_request (a request without a "model"
//                          is refused with 400 before this)
//   resolve the model      404 unknown or not readable by the caller (the
//                          access policy; audited access_denied), 403 scopes
//                          (audited), 400 wrong model type
//   call the provider      "model" rewritten to the provider's id; streams
//                          always ask for usage (hidden again unless the
//                          caller asked); bridged from the provider's
//                          callbacks, cancelled through the CallContext
//   settle                 the caller's token reservation, with real usage
//   content safety         with server.oauth.enforce_content_safety: the
//                          input judged alongside the generation, the output
//                          before it leaves (core/routing/content_safety.h)
//   audit                  inference_response (success, status, tokens,
//                          latency) — also for every failure
//   record                 chat completions in the inference store (not for
//                          the native route)
//
// Any exception becomes an ApiError (to_api_error): nothing but a real
// internal fault is a 500.
#pragma once

#include <memory>
#include <string>

#include "core/routing/content_safety.h"
#include "core/routing/routing_tables.h"
#include "core/security/audit_log.h"
#include "core/security/policy.h"
#include "core/storage/inference_store.h"
#include "llama_stack/apis/inference.h"
#include "llama_stack/apis/telemetry.h"

namespace llama_stack::routing {

enum class InferenceKind { kChat, kCompletion, kEmbeddings };

class InferenceRouter final : public apis::InferenceApi {
 public:
  // `audit` and `store` may be null (not configured). All must outlive the router.
  InferenceRouter(ModelsRoutingTable& models, const security::Policy& policy,
                  security::AuditLog* audit, storage::InferenceStore* store)
      : models_(models), policy_(policy), audit_(audit), store_(store) {}

  async::Task<json::object> chat_completion(const apis::CallContext& context, json::object request,
                                            apis::ChunkSink on_chunk = {}) override;
  async::Task<json::object> completion(const apis::CallContext& context, json::object request,
                                       apis::ChunkSink on_chunk = {}) override;
  async::Task<json::object> embeddings(const apis::CallContext& context,
                                       json::object request) override;

  // Content-safety enforcement (may be null: off); must outlive the router.
  void set_content_safety(const ContentSafety* content_safety) { content_safety_ = content_safety; }
  // Startup only: where each model call's span goes (null: not recorded).
  void set_telemetry(apis::TelemetryApi* telemetry) { telemetry_ = telemetry; }

  // The three above by kind (what the routes dispatch on). `store`: record a
  // successful chat completion in the inference store (the OpenAI chat
  // routes and chat_completion() do; the native route does not, as in Llama
  // Stack).
  async::Task<json::object> call(InferenceKind kind, const apis::CallContext& context,
                                 json::object request, apis::ChunkSink on_chunk = {},
                                 bool store = true);

 private:
  // The model a caller may use for `kind`, or throws (see the file comment).
  std::shared_ptr<const apis::Model> resolve(InferenceKind kind, const apis::CallContext& context,
                                             const std::string& model_id) const;
  // `model`: resolve()'s answer; it must outlive the returned Task.
  async::Task<json::object> call_provider(InferenceKind kind, const apis::CallContext& context,
                                          const std::string& model_id, const apis::Model& model,
                                          json::object request, apis::ChunkSink on_chunk,
                                          json::value& usage);

  ModelsRoutingTable& models_;
  const security::Policy& policy_;
  security::AuditLog* audit_;
  storage::InferenceStore* store_;
  const ContentSafety* content_safety_ = nullptr;
  apis::TelemetryApi* telemetry_ = nullptr;
};

}  // namespace llama_stack::routing
