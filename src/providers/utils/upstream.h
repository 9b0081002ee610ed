// Shared plumbing for remote providers: turning transport failures and
// upstream HTTP errors into our errors, streaming JSON records to callbacks,
// and one-shot completion bookkeeping.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <string_view>

#include "core/http/http_client.h"
#include "core/util/json.h"
#include "llama_stack/apis/inference.h"

namespace llama_stack::providers::utils {

// Connect failure → 503, timeout → 504, reset/protocol → 502; the message
// names the provider.
ApiError transport_error(std::string_view provider_id, const http::ClientError& error);

// An upstream non-2xx answer: 4xx keeps its status, 5xx becomes 502. The
// upstream's own message is extracted from OpenAI ({"error":{"message"}}),
// vLLM ({"message"}) and Ollama ({"error":"..."}) bodies.
ApiError http_error(std::string_view provider_id, int status, std::string_view body);

// Malformed upstream JSON → 502.
ApiError malformed(std::string_view provider_id, std::string_view what);

// Ensures on_done runs once, and nothing is delivered after it.
class Completion {
 public:
  explicit Completion(apis::InferenceCallbacks callbacks) : callbacks_(std::move(callbacks)) {}
  bool done() const { return done_.load(); }
  void chunk(json::object chunk) {
    if (!done_ && callbacks_.on_chunk) callbacks_.on_chunk(std::move(chunk));
  }
  void response(json::object response) {
    if (!done_ && callbacks_.on_response) callbacks_.on_response(std::move(response));
  }
  void finish(std::optional<ApiError> error = std::nullopt) {
    if (done_.exchange(true)) return;
    if (callbacks_.on_done) callbacks_.on_done(std::move(error));
  }

 private:
  apis::InferenceCallbacks callbacks_;
  std::atomic<bool> done_{false};
};

// A cancel function for an HTTP request handle.
apis::CancelFn cancel_of(const std::shared_ptr<http::RequestHandle>& handle);

// "chatcmpl-" + 24 random hex digits.
std::string random_id(std::string_view prefix);
std::int64_t unix_now();

}  // namespace llama_stack::providers::utils
