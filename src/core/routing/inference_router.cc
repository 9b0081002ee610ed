#include "core/routing/inference_router.h"

#include <atomic>
#include <chrono>
#include <cmath>

#include "core/inference/stream_recorder.h"
#include "core/util/api_error.h"
#include "core/util/ids.h"
#include "core/util/metrics.h"
#include "llama_stack/async/bridge.h"

namespace llama_stack::routing {
namespace {

constexpr const char* kRequestTypes[] = {"chat_completion", "completion", "embeddings"};

std::int64_t token_count(const json::value& usage, std::string_view key) {
  const auto* o = usage.if_object();
  if (o == nullptr) return 0;
  const auto* v = json_field(*o, key);
  return v != nullptr ? saturated_int64(*v) : 0;
}

// One call's audit events (inference_request, inference_response) and the
// settlement of the caller's rate-limit token reservation.
class Outcome {
 public:
  Outcome(security::AuditLog* audit, const apis::CallContext& context, std::string model_id,
          std::string request_type)
      : audit_(audit),
        context_(context),
        model_id_(std::move(model_id)),
        type_(std::move(request_type)) {}

  void start() const {
    json::array scopes;
    for (const auto& s : context_.scopes) scopes.emplace_back(s);
    security::audit_call(audit_, "inference_request", security::AuditLevel::kInfo, context_,
                         json::object{{"model", model_id_},
                                      {"request_type", type_},
                                      {"scopes", std::move(scopes)},
                                      {"issuer", context_.token_issuer}});
  }

  void finish(const std::optional<ApiError>& error, const json::value& usage) const {
    const std::int64_t prompt = token_count(usage, "prompt_tokens");
    const std::int64_t completion = token_count(usage, "completion_tokens");
    std::int64_t total = token_count(usage, "total_tokens");
    if (total == 0) total = prompt + completion;
    const double latency_ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - context_.start)
            .count();
    json::object fields{{"model", model_id_},
                        {"request_type", type_},
                        {"success", !error.has_value()},
                        {"status", error ? error->status() : 200},
                        {"prompt_tokens", prompt},
                        {"completion_tokens", completion},
                        {"total_tokens", total},
                        {"latency_ms", std::round(latency_ms * 1000) / 1000}};
    if (error) fields["error"] = error->what();
    std::optional<security::AuditEvent> event;
    if (audit_ != nullptr) {
      event =
          security::call_event("inference_response",
                               error ? security::AuditLevel::kWarning : security::AuditLevel::kInfo,
                               context_, std::move(fields));
    }
    if (!context_.settle_tokens && !event) return;  // nothing to deliver
    // Settled and audited once the caller has its answer (posted behind the
    // continuation that sends it), as the callback version did: the writer
    // threads of the rate limiter and the audit log then batch as before.
    auto deliver = [settle = context_.settle_tokens, total, audit = audit_,
                    event = std::move(event)]() mutable {
      if (settle) settle(total);
      if (audit != nullptr && event) audit->record(std::move(*event));
    };
    if (context_.executor != nullptr) {
      context_.executor->post(std::move(deliver));
    } else {
      deliver();
    }
  }

 private:
  security::AuditLog* audit_;
  const apis::CallContext& context_;
  std::string model_id_;
  std::string type_;
};

// What the provider's callbacks share with the awaiting call. The provider
// calls them in order on its own thread; the awaiting coroutine reads the
// state only after on_done.
struct ProviderCall {
  InferenceKind kind = InferenceKind::kChat;
  std::string model_id;  // the caller's name for the model
  bool stream = false;
  bool wants_usage = false;  // the caller asked for usage chunks
  apis::ChunkSink sink;
  inference::StreamRecorder recorder;
  json::object response;

  void chunk(json::object chunk) {
    chunk["model"] = model_id;
    recorder.add(chunk);
    const auto* choices = json_field(chunk, "choices");
    const bool usage_only = choices != nullptr && choices->is_array() &&
                            choices->get_array().empty() && json_field(chunk, "usage") != nullptr;
    if (usage_only && !wants_usage) return;
    if (!wants_usage) chunk.erase("usage");
    if (sink) sink(std::move(chunk));
  }

  json::object result() {
    if (!stream) {
      response["model"] = model_id;
      return std::move(response);
    }
    return kind == InferenceKind::kChat ? recorder.chat_completion(model_id)
                                        : recorder.text_completion(model_id);
  }

  json::value usage() const { return stream ? recorder.usage() : response_usage; }

  void set_response(json::object r) {
    if (const auto* u = json_field(r, "usage")) response_usage = *u;
    response = std::move(r);
  }
  json::value response_usage = nullptr;
};

// The call's metrics: duration, errors, time to first token, tokens per
// second and token counters (core/util/metrics.h).
void record_call_metrics(std::string_view kind, const std::string& provider,
                         const std::string& model, const apis::CallContext& context,
                         const std::optional<ApiError>& error, const json::value& usage,
                         std::chrono::system_clock::time_point started_at,
                         std::int64_t first_chunk_us) {
  const metrics::Catalog& c = metrics::catalog();
  const auto now = std::chrono::system_clock::now();
  const double seconds = std::chrono::duration<double>(now - started_at).count();
  c.upstream_duration.with({provider, model, kind}).observe(seconds);
  if (error) {
    const std::string status = std::to_string(error->status());
    c.upstream_errors.with({provider, model, kind, status}).inc();
    return;
  }
  double generating = seconds;
  if (first_chunk_us > 0) {
    const double ttft =
        static_cast<double>(first_chunk_us - std::chrono::duration_cast<std::chrono::microseconds>(
                                                 started_at.time_since_epoch())
                                                 .count()) /
        1e6;
    c.time_to_first_token.with({provider, model}).observe(ttft);
    generating = seconds - ttft;
  }
  const std::int64_t prompt = token_count(usage, "prompt_tokens");
  const std::int64_t completion = token_count(usage, "completion_tokens");
  const std::string_view principal =
      metrics::principal_labels() && context.user ? std::string_view(context.user->principal) : "";
  if (prompt > 0) c.prompt_tokens.with({model, principal}).inc(static_cast<std::uint64_t>(prompt));
  if (completion > 0) {
    c.completion_tokens.with({model, principal}).inc(static_cast<std::uint64_t>(completion));
    if (generating > 0) {
      c.tokens_per_second.with({provider, model})
          .observe(static_cast<double>(completion) / generating);
    }
  }
}

}  // namespace

async::Task<json::object> InferenceRouter::chat_completion(const apis::CallContext& context,
                                                           json::object request,
                                                           apis::ChunkSink on_chunk) {
  return call(InferenceKind::kChat, context, std::move(request), std::move(on_chunk));
}

async::Task<json::object> InferenceRouter::completion(const apis::CallContext& context,
                                                      json::object request,
                                                      apis::ChunkSink on_chunk) {
  return call(InferenceKind::kCompletion, context, std::move(request), std::move(on_chunk));
}

async::Task<json::object> InferenceRouter::embeddings(const apis::CallContext& context,
                                                      json::object request) {
  return call(InferenceKind::kEmbeddings, context, std::move(request));
}

std::shared_ptr<const apis::Model> InferenceRouter::resolve(InferenceKind kind,
                                                            const apis::CallContext& context,
                                                            const std::string& model_id) const {
  auto model = models_.lookup(model_id);
  if (!model) throw ModelsRoutingTable::not_found(model_id);
  // A model the caller may not read does not exist for them.
  if (!policy_.allows(auth::Action::kRead, "model", model_id, model->owner, context.user)) {
    security::audit_call(
        audit_, "access_denied", security::AuditLevel::kWarning, context,
        json::object{{"model", model_id}, {"action", "read"}, {"reason", "access_policy"}});
    throw ModelsRoutingTable::not_found(model_id);
  }
  if (auto denial = policy_.model_scope_denial(*model, context.scopes)) {
    security::audit_call(audit_, "access_denied", security::AuditLevel::kWarning, context,
                         json::object{{"model", model_id}, {"reason", "insufficient_scope"}});
    throw ApiError::forbidden(*denial);
  }
  if (kind == InferenceKind::kEmbeddings && model->model_type != apis::ModelType::kEmbedding) {
    throw ApiError::bad_request("Model '" + model_id +
                                "' is an LLM model and does not support embeddings");
  }
  if (kind != InferenceKind::kEmbeddings && model->model_type == apis::ModelType::kEmbedding) {
    throw ApiError::bad_request(
        "Model '" + model_id + "' is an embedding model and does not support " +
        (kind == InferenceKind::kChat ? "chat completions" : "completions"));
  }
  return model;
}

async::Task<json::object> InferenceRouter::call(InferenceKind kind,
                                                const apis::CallContext& context,
                                                json::object request, apis::ChunkSink on_chunk,
                                                bool store) {
  const json::value* model = json_field(request, "model");
  if (model == nullptr || !model->is_string() || model->get_string().empty()) {
    throw ApiError::bad_request("Field 'model' is required and must be a non-empty string");
  }
  const std::string model_id(model->get_string());
  const Outcome outcome(audit_, context, model_id, kRequestTypes[static_cast<int>(kind)]);
  outcome.start();

  // OpenAI's `store: false` (what internal callers such as Llama Guard send)
  // keeps the completion out of the inference store; false is OpenAI's
  // default upstream, so the key is not forwarded.
  if (const auto* flag = json_field(request, "store");
      flag != nullptr && flag->is_bool() && !flag->get_bool()) {
    store = false;
    request.erase("store");
  }
  const bool record = store && kind == InferenceKind::kChat && store_ != nullptr;
  json::array input_messages;
  if (record) {
    if (const auto* messages = json_field(request, "messages"); messages != nullptr) {
      if (const auto* array = messages->if_array()) input_messages = *array;
    }
  }

  json::value usage = nullptr;
  json::object result;
  bool filtered = false;  // a stream ended by the content filter
  std::exception_ptr failure;
  // The model call is a child span of the caller's (its id goes upstream as
  // traceparent); the span is recorded when the call ends.
  // Copied only when spans are recorded: the untraced path stays copy-free.
  std::optional<apis::CallContext> traced;
  if (telemetry_ != nullptr && !context.trace_id.empty() && telemetry_->sampled(context.trace_id)) {
    traced.emplace(context);
    traced->span_id = random_hex(16);
    traced->settle_tokens = {};  // the outcome settles with the caller's context
  }
  const apis::CallContext& call_context = traced ? *traced : context;
  const auto started_at = std::chrono::system_clock::now();
  std::string provider_id;
  const bool streamed = static_cast<bool>(on_chunk);
  // Time to first token: when the caller gets its first chunk (only measured
  // calls pay for it).
  const bool measured = metrics::enabled();
  std::shared_ptr<std::atomic<std::int64_t>> first_chunk;
  if ((traced || measured) && streamed) {
    first_chunk = std::make_shared<std::atomic<std::int64_t>>(0);
    on_chunk = [inner = std::move(on_chunk), first_chunk](json::object chunk) {
      if (first_chunk->load(std::memory_order_relaxed) == 0) {
        first_chunk->store(std::chrono::duration_cast<std::chrono::microseconds>(
                               std::chrono::system_clock::now().time_since_epoch())
                               .count(),
                           std::memory_order_relaxed);
      }
      inner(std::move(chunk));
    };
  }
  try {
    // An unknown or forbidden model is refused before anything runs (a guard
    // included); the provider call uses the model resolved here.
    const std::shared_ptr<const apis::Model> resolved = resolve(kind, context, model_id);
    provider_id = resolved->provider_id;
    if (content_safety_ != nullptr && content_safety_->applies(context)) {
      ContentSafety::Generate generate = [this, kind, &model_id, &resolved, &usage](
                                             const apis::CallContext& child, json::object body,
                                             apis::ChunkSink sink) {
        return call_provider(kind, child, model_id, *resolved, std::move(body), std::move(sink),
                             usage);
      };
      auto guarded = content_safety_->run(kind, call_context, model_id, std::move(request),
                                          std::move(on_chunk), std::move(generate));
      ContentSafety::Guarded outcome_of_guard = co_await std::move(guarded);
      result = std::move(outcome_of_guard.result);
      filtered = outcome_of_guard.filtered;
    } else {
      auto provider_call = call_provider(kind, call_context, model_id, *resolved,
                                         std::move(request), std::move(on_chunk), usage);
      result = co_await std::move(provider_call);
    }
  } catch (...) {
    failure = std::current_exception();
  }
  std::optional<ApiError> error;
  if (failure) error = to_api_error(failure, "inference call for model '" + model_id + "'");
  if (measured && !provider_id.empty()) {
    record_call_metrics(kRequestTypes[static_cast<int>(kind)], provider_id, model_id, context,
                        error, usage, started_at, first_chunk ? first_chunk->load() : 0);
  }
  if (traced && !provider_id.empty()) {
    apis::SpanRecord span;
    span.trace_id = context.trace_id;
    span.span_id = traced->span_id;
    span.parent_span_id = context.span_id;
    span.name = std::string("inference.") + kRequestTypes[static_cast<int>(kind)];
    span.start_us =
        std::chrono::duration_cast<std::chrono::microseconds>(started_at.time_since_epoch())
            .count();
    span.end_us = std::chrono::duration_cast<std::chrono::microseconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count();
    span.attributes = json::object{{"model", model_id},
                                   {"provider_id", provider_id},
                                   {"status", error ? error->status() : 200},
                                   {"prompt_tokens", token_count(usage, "prompt_tokens")},
                                   {"completion_tokens", token_count(usage, "completion_tokens")},
                                   {"streamed", streamed}};
    if (context.user) span.attributes["__owner__"] = context.user->to_json();  // metric access
    if (const std::int64_t first = first_chunk ? first_chunk->load() : 0; first > 0) {
      span.attributes["time_to_first_token_ms"] =
          static_cast<double>(first - span.start_us) / 1000.0;
    }
    span.status = error ? "error" : "ok";
    telemetry_->record(std::move(span));
  }
  if (error) {
    // Whatever failed — routing, the policy, a provider that threw while
    // converting the request, the upstream — the reservation is settled and
    // the outcome audited with the status the caller gets.
    outcome.finish(error, usage);
    throw *error;
  }
  outcome.finish(std::nullopt, usage);
  if (record && !filtered) {
    store_->record(result, std::move(input_messages),
                   context.user ? context.user->to_json() : json::value(nullptr));
  }
  co_return result;
}

async::Task<json::object> InferenceRouter::call_provider(
    InferenceKind kind, const apis::CallContext& context, const std::string& model_id,
    const apis::Model& model, json::object request, apis::ChunkSink on_chunk, json::value& usage) {
  providers::InferenceProvider& provider = models_.provider_for(model);

  auto state = std::make_shared<ProviderCall>();
  state->kind = kind;
  state->model_id = model_id;
  state->stream = kind != InferenceKind::kEmbeddings && json_flag(request, "stream");
  if (state->stream) {
    // Always ask for usage: token settlement, the audit and the store need it.
    json::object options;
    if (const auto* so = json_field(request, "stream_options"); so != nullptr && so->is_object()) {
      options = so->get_object();
    }
    state->wants_usage = json_flag(options, "include_usage");
    options["include_usage"] = true;
    request["stream_options"] = std::move(options);
    state->sink = std::move(on_chunk);
  }
  request["model"] = model.provider_resource_id;
  std::string traceparent;
  if (context.trace_id.size() == 32 && context.span_id.size() == 16) {
    traceparent = "00-" + context.trace_id + "-" + context.span_id + "-01";
  }
  const apis::InferenceContext provider_context{&model, context.provider_data,
                                                std::move(traceparent)};

  auto start = [&](async::Resolver<json::object> resolve) -> async::CancelFn {
    apis::InferenceCallbacks callbacks;
    if (state->stream) {
      callbacks.on_chunk = [state](json::object chunk) { state->chunk(std::move(chunk)); };
    } else {
      callbacks.on_response = [state](json::object response) {
        state->set_response(std::move(response));
      };
    }
    callbacks.on_done = [state, resolve](std::optional<ApiError> error) {
      if (error) {
        resolve.fail(std::move(*error));
      } else {
        resolve.value(state->result());
      }
    };
    switch (kind) {
      case InferenceKind::kChat:
        return provider.openai_chat_completion(provider_context, std::move(request),
                                               std::move(callbacks));
      case InferenceKind::kCompletion:
        return provider.openai_completion(provider_context, std::move(request),
                                          std::move(callbacks));
      case InferenceKind::kEmbeddings:
        return provider.openai_embeddings(provider_context, std::move(request),
                                          std::move(callbacks));
    }
    throw ApiError::internal("unknown inference kind");
  };
  // A named awaiter: GCC 12 mishandles some awaiter temporaries.
  auto operation =
      async::from_callback<json::object>(context.executor, context.stop, std::move(start));
  json::object result;
  try {
    result = co_await operation;
  } catch (...) {
    usage = state->usage();
    throw;
  }
  usage = state->usage();
  co_return result;
}

}  // namespace llama_stack::routing
