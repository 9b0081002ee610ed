// Common machinery for inference adapters that speak HTTP to a model server:
// one request, JSON or streamed (SSE or NDJSON) response, errors mapped.
#pragma once

#include <memory>
#include <string>

#include "core/http/http_client.h"
#include "llama_stack/apis/inference.h"
#include "providers/utils/upstream.h"

namespace llama_stack::providers::remote {

enum class StreamFormat { kNone, kSse, kNdjson };

struct UpstreamCall {
  std::string provider_id;
  std::string url;
  std::string method = "POST";
  http::Headers headers;
  json::object body;
  StreamFormat stream = StreamFormat::kNone;
  std::size_t max_body = 64 * 1024 * 1024;
};

// Receives the parsed upstream output. For streams: every JSON record (SSE
// data or NDJSON line); return false to stop (an error was reported). For
// non-streams: the whole JSON body. `finish_stream` runs after a stream ends
// cleanly (emit final chunks there). Errors go through `completion`.
struct UpstreamHandlers {
  std::function<bool(json::value record)> on_record;
  std::function<void(json::value body)> on_body;
  std::function<void()> finish_stream;
};

// Sends `call`; the completion is finished exactly once (success or error).
apis::CancelFn call_upstream(http::HttpClient& client, UpstreamCall call,
                             std::shared_ptr<utils::Completion> completion,
                             UpstreamHandlers handlers);

}  // namespace llama_stack::providers::remote
