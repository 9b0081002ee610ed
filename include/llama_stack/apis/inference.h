// The inference API. One internal format: OpenAI's chat/completions/embeddings
// JSON; the native Llama Stack routes (/v1/inference/*) are converted to and
// from it, so every route runs through the same code.
//
// Two sides:
//  - InferenceApi is what callers use — HTTP handlers, shields, agents. It is
//    the router (src/core/routing/inference_router.h): Task-based, with a
//    CallContext, and it checks, limits, audits and records every call.
//  - Providers implement the callback interface of
//    providers::InferenceProvider (llama_stack/providers/provider.h) with
//    the types below; the router bridges it to Tasks in one place.
#pragma once

#include <boost/json.hpp>

#include <functional>
#include <optional>
#include <string>

#include "llama_stack/apis/call_context.h"
#include "llama_stack/apis/resources.h"
#include "llama_stack/async/task.h"
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
  // W3C trace context of this upstream call ("00-<trace>-<span>-01"), for the
  // provider to send as `traceparent` so the trace continues upstream.
  std::string traceparent;
};

using CancelFn = std::function<void()>;

// Streaming output: one OpenAI chunk at a time, in order, on the provider's
// thread. Must not block (hand slow work to another executor). A chunk may
// use the provider's short-lived memory resource (a parse buffer): to keep
// it past the call, copy it to the heap (json::object(std::move(c), {})).
using ChunkSink = std::function<void(json::object chunk)>;

// The inference API as callers see it. `request` is an OpenAI request body
// whose "model" is a registered model id (the caller's name for it).
//
// Each call, in order: audits `inference_request`, resolves the model (404
// when unknown or not readable by the caller, 403 when the token's scopes do
// not cover it, 400 when the model type does not fit), calls the provider,
// settles the caller's token reservation with the real usage, audits
// `inference_response` (with the status the caller gets), and records chat
// completions in the inference store (unless the request says `"store":
// false`, as OpenAI's API does). Every failure arrives as an ApiError
// thrown by the co_await (status 499 when the caller went away).
class InferenceApi {
 public:
  virtual ~InferenceApi() = default;
  // Non-streaming: the chat.completion. Streaming ("stream": true): every
  // chunk goes to `on_chunk` (usage only when the request asked for it in
  // stream_options); the result is the assembled chat.completion.
  virtual async::Task<json::object> chat_completion(const CallContext& context,
                                                    json::object request,
                                                    ChunkSink on_chunk = {}) = 0;
  // Same for text completions (result: the assembled text_completion).
  virtual async::Task<json::object> completion(const CallContext& context, json::object request,
                                               ChunkSink on_chunk = {}) = 0;
  // `request.input` is a string or a list of strings; float arrays come back.
  virtual async::Task<json::object> embeddings(const CallContext& context,
                                               json::object request) = 0;
};

}  // namespace llama_stack::apis
