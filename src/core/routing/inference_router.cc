#include "core/routing/inference_router.h"

namespace llama_stack::routing {

apis::CancelFn InferenceRouter::call(InferenceKind kind, const std::string& model_id,
                                     json::object request, json::object provider_data,
                                     apis::InferenceCallbacks callbacks) {
  auto found = models_.lookup(model_id);
  if (!found) throw ModelsRoutingTable::not_found(model_id);
  const apis::Model& model = *found;
  if (kind == InferenceKind::kEmbeddings && model.model_type != apis::ModelType::kEmbedding) {
    throw ApiError::bad_request("Model '" + model_id +
                                "' is an LLM model and does not support embeddings");
  }
  if (kind != InferenceKind::kEmbeddings && model.model_type == apis::ModelType::kEmbedding) {
    throw ApiError::bad_request(
        "Model '" + model_id + "' is an embedding model and does not support " +
        (kind == InferenceKind::kChat ? "chat completions" : "completions"));
  }
  providers::InferenceProvider& provider = models_.provider_for(model);
  request["model"] = model.provider_resource_id;
  apis::InferenceContext context{&model, std::move(provider_data)};
  switch (kind) {
    case InferenceKind::kChat:
      return provider.openai_chat_completion(context, std::move(request), std::move(callbacks));
    case InferenceKind::kCompletion:
      return provider.openai_completion(context, std::move(request), std::move(callbacks));
    case InferenceKind::kEmbeddings:
      return provider.openai_embeddings(context, std::move(request), std::move(callbacks));
  }
  throw ApiError::internal("unknown inference kind");
}

}  // namespace llama_stack::routing
