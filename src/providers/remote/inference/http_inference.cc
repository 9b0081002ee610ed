#include "providers/remote/inference/http_inference.h"

#include "core/inference/stream_parser.h"
#include "core/log/log.h"

namespace llama_stack::providers::remote {
namespace {

struct CallState {
  UpstreamCall call;
  std::shared_ptr<utils::Completion> completion;
  UpstreamHandlers handlers;
  int status = 0;
  std::string body;  // non-stream body, or an error body
  inference::SseParser sse;
  inference::LineSplitter lines;
  std::weak_ptr<http::RequestHandle> handle;
  bool stopped = false;

  bool ok() const { return status >= 200 && status < 300; }

  void fail(ApiError error) {
    if (stopped) return;
    stopped = true;
    completion->finish(std::move(error));
    if (auto h = handle.lock()) h->cancel();
  }

  void record(std::string_view text) {
    if (stopped || completion->done()) return;
    if (text.empty()) return;
    if (call.stream == StreamFormat::kSse && text == "[DONE]") return;
    // The record lives only while it is handed on (handlers convert or
    // serialize it before returning), so it is parsed into a stack buffer.
    alignas(std::max_align_t) unsigned char scratch[4096];
    json::monotonic_resource arena(scratch, sizeof scratch);
    json::value value(&arena);  // same storage: the assignment below moves
    try {
      value = parse_json(text, &arena);
    } catch (const std::exception& e) {
      fail(utils::malformed(call.provider_id,
                            std::string("stream record is not JSON (") + e.what() + ")"));
      return;
    }
    if (value.is_object()) {
      const auto& o = value.get_object();
      if (auto it = o.find("error"); it != o.end() && !it->value().is_null()) {
        // An error inside a 200 stream: the upstream failed mid-way.
        ApiError error = utils::http_error(call.provider_id, 502, to_json(value));
        fail(ApiError::bad_gateway(error.what()));
        return;
      }
    }
    bool more = false;
    try {
      more = handlers.on_record(std::move(value));
    } catch (const ApiError& e) {
      fail(e);
      return;
    } catch (const std::exception& e) {
      fail(utils::malformed(call.provider_id, e.what()));
      return;
    }
    if (!more) {
      stopped = true;
      if (auto h = handle.lock()) h->cancel();
    }
  }
};

}  // namespace

apis::CancelFn call_upstream(http::HttpClient& client, UpstreamCall call,
                             std::shared_ptr<utils::Completion> completion,
                             UpstreamHandlers handlers) {
  auto state = std::make_shared<CallState>();
  state->completion = std::move(completion);
  state->handlers = std::move(handlers);
  http::ClientRequest request;
  request.method = call.method;
  request.url = call.url;
  request.headers = call.headers;
  request.headers.set("content-type", "application/json");
  request.headers.set("accept",
                      call.stream == StreamFormat::kSse ? "text/event-stream" : "application/json");
  if (call.method != "GET") request.body = to_json(call.body);
  state->call = std::move(call);

  http::ClientCallbacks callbacks;
  callbacks.on_head = [state](const http::ClientResponseHead& head) {
    state->status = head.status;
  };
  callbacks.on_data = [state](std::string_view bytes) {
    if (state->stopped) return;
    if (!state->ok() || state->call.stream == StreamFormat::kNone) {
      if (state->body.size() + bytes.size() > state->call.max_body) {
        state->fail(utils::malformed(state->call.provider_id, "response body too large"));
        return;
      }
      state->body.append(bytes);
      return;
    }
    bool fine = true;
    if (state->call.stream == StreamFormat::kSse) {
      fine = state->sse.feed(bytes, [&](std::string_view data) { state->record(data); });
    } else {
      fine = state->lines.feed(bytes, [&](std::string_view line) { state->record(line); });
    }
    if (!fine) state->fail(utils::malformed(state->call.provider_id, "stream record too large"));
  };
  callbacks.on_complete = [state](const std::optional<http::ClientError>& error) {
    if (state->stopped || state->completion->done()) {
      state->completion->finish();  // no-op if already finished
      return;
    }
    if (error) {
      state->completion->finish(utils::transport_error(state->call.provider_id, *error));
      return;
    }
    if (!state->ok()) {
      state->completion->finish(
          utils::http_error(state->call.provider_id, state->status, state->body));
      return;
    }
    if (state->call.stream == StreamFormat::kNone) {
      json::value body;
      try {
        body = parse_json(state->body);
      } catch (const std::exception& e) {
        state->completion->finish(utils::malformed(state->call.provider_id, e.what()));
        return;
      }
      try {
        state->handlers.on_body(std::move(body));
      } catch (const ApiError& e) {
        state->completion->finish(e);
        return;
      } catch (const std::exception& e) {
        state->completion->finish(utils::malformed(state->call.provider_id, e.what()));
        return;
      }
      state->completion->finish();
      return;
    }
    if (state->call.stream == StreamFormat::kSse) {
      state->sse.finish([&](std::string_view data) { state->record(data); });
    } else if (!state->lines.rest().empty()) {
      std::string rest = state->lines.rest();
      state->record(rest);
    }
    if (state->stopped || state->completion->done()) {
      state->completion->finish();
      return;
    }
    try {
      if (state->handlers.finish_stream) state->handlers.finish_stream();
    } catch (const std::exception& e) {
      state->completion->finish(utils::malformed(state->call.provider_id, e.what()));
      return;
    }
    state->completion->finish();
  };
  auto handle = client.send(std::move(request), std::move(callbacks));
  state->handle = handle;
  return utils::cancel_of(handle);
}

}  // namespace llama_stack::providers::remote
