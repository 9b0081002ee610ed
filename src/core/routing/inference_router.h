// InferenceRouter: model id → registered model → its provider, for every
// inference route (native and OpenAI-compatible). Checks the model exists
// (404 naming it) and fits the call (chat/completion need an llm,
// embeddings an embedding model: 400 otherwise).
#pragma once

#include <string>

#include "core/routing/routing_tables.h"
#include "llama_stack/apis/inference.h"

namespace llama_stack::routing {

enum class InferenceKind { kChat, kCompletion, kEmbeddings };

class InferenceRouter {
 public:
  explicit InferenceRouter(ModelsRoutingTable& models) : models_(models) {}

  // Sets request["model"] to the provider's id for the model and calls the
  // provider. Throws ApiError synchronously for routing errors; everything
  // after that arrives through `callbacks`.
  apis::CancelFn call(InferenceKind kind, const std::string& model_id, json::object request,
                      json::object provider_data, apis::InferenceCallbacks callbacks);

 private:
  ModelsRoutingTable& models_;
};

}  // namespace llama_stack::routing
