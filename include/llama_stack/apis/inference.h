// The inference API as providers implement it. One internal format: OpenAI's
// chat/completions/embeddings JSON. The native Llama Stack routes
// (/v1/inference/*) are converted to and from it by the router, so every
// route runs through the same provider code.
//
// Calls are asynchronous: a provider reports through InferenceCallbacks from
// any thread and returns a cancel function (the client went away).
#pragma once

#include <boost/json.hpp>

#include <functional>
#include <optional>
#include <string>

#include "llama_stack/apis/resources.h"
#include "llama_stack/common/errors.h"

namespace llama_stack::apis {

namespace json = boost::json;

struct InferenceCallbacks {
  // Streaming only: one OpenAI chunk object (chat.completion.chunk or
  // text_completion), in order. With stream_options.include_usage the last
  // chunk carries `usage` and empty `choices`.
  std::function<void(json::object chunk)> on_chunk;
  // Non-streaming only: the whole response (chat.completion,
  // text_completion, or an embeddings list with float arrays).
  std::function<void(json::object response)> on_response;
  // Always called exactly once, last: nullopt on success.
  std::function<void(std::optional<ApiError> error)> on_done;
};

// Per-request context a provider may use.
struct InferenceContext {
  const Model* model = nullptr;  // the registered model (provider_resource_id etc.)
  // X-LlamaStack-Provider-Data, parsed (e.g. {"openai_api_key": "..."}); never logged.
  json::object provider_data;
};

using CancelFn = std::function<void()>;

// Implemented by inference providers (see providers::InferenceProvider).
// `request` is an OpenAI request body whose "model" is already the
// provider's model id; "stream" says whether to stream.
class InferenceApi {
 public:
  virtual ~InferenceApi() = default;
  virtual CancelFn openai_chat_completion(const InferenceContext& context, json::object request,
                                          InferenceCallbacks callbacks) = 0;
  virtual CancelFn openai_completion(const InferenceContext& context, json::object request,
                                     InferenceCallbacks callbacks) = 0;
  // `request.input` is a string or an array of strings; responses carry float arrays.
  virtual CancelFn openai_embeddings(const InferenceContext& context, json::object request,
                                     InferenceCallbacks callbacks) = 0;
};

}  // namespace llama_stack::apis
