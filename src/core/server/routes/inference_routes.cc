// Inference routes, native (/v1/inference/*) and OpenAI-compatible
// (/v1/openai/v1/* and /v1/*), all through InferenceRouter.
//
// Streaming: the SSE response starts with the first upstream chunk, so a
// failure before any output (unknown model upstream, unreachable provider)
// is a proper HTTP error; a failure after that is one error event, then the
// stream closes cleanly.
#include <mutex>

#include "core/inference/native.h"
#include "core/log/log.h"
#include "core/server/exchange.h"
#include "core/server/filters/rate_limit_filter.h"
#include "core/server/routes/routes.h"
#include "core/services/services.h"
#include "core/storage/inference_store.h"
#include "core/util/api_error.h"

namespace llama_stack::server::routes {
namespace {

using Ex = std::shared_ptr<Exchange>;
using routing::InferenceKind;

const json::value* field(const json::object& o, std::string_view key) {
  auto it = o.find(key);
  return it == o.end() || it->value().is_null() ? nullptr : &it->value();
}

json::object provider_data_of(const RequestContext& context) {
  auto header = context.request.headers.get("x-llamastack-provider-data");
  if (!header || header->empty()) return {};
  try {
    json::value value = parse_json(*header);
    if (value.is_object()) return value.get_object();
  } catch (const std::exception&) {
  }
  throw ApiError::bad_request("X-LlamaStack-Provider-Data must be a JSON object");
}

// A model the caller may not read does not exist for them.
void check_model_access(const Services& services, const Ex& ex, const std::string& model_id) {
  auto model = services.models().lookup(model_id);
  if (model && !services.policy().allows(auth::Action::kRead, "model", model_id, model->owner,
                                         ex->context().user)) {
    audit_event(services.audit(), "access_denied", security::AuditLevel::kWarning, ex->context(),
                json::object{{"model", model_id}, {"action", "read"}, {"reason", "access_policy"}});
    throw routing::ModelsRoutingTable::not_found(model_id);
  }
  if (model) {
    if (auto denial = services.policy().model_scope_denial(*model, ex->context().scopes)) {
      audit_event(services.audit(), "access_denied", security::AuditLevel::kWarning, ex->context(),
                  json::object{{"model", model_id}, {"reason", "insufficient_scope"}});
      throw ApiError::forbidden(*denial);
    }
  }
}

// One inference call's bookkeeping: the audit events (inference_request,
// inference_response) and the settlement of the rate-limit token reservation.
class Outcome {
 public:
  Outcome(const Services& services, Ex ex, std::string model_id, std::string request_type)
      : services_(services),
        ex_(std::move(ex)),
        model_id_(std::move(model_id)),
        type_(std::move(request_type)) {}

  void start() {
    const auto& ctx = ex_->context();
    json::array scopes;
    for (const auto& s : ctx.scopes) scopes.emplace_back(s);
    audit_event(services_.audit(), "inference_request", security::AuditLevel::kInfo, ctx,
                json::object{{"model", model_id_},
                             {"request_type", type_},
                             {"scopes", std::move(scopes)},
                             {"issuer", ctx.token_issuer}});
  }
  void usage(const json::value& usage) {
    if (usage.is_object()) usage_ = usage;
  }
  void finish(const std::optional<ApiError>& error) {
    if (finished_.exchange(true)) return;
    auto count = [&](std::string_view key) -> std::int64_t {
      if (!usage_.is_object()) return 0;
      auto it = usage_.get_object().find(key);
      return it != usage_.get_object().end() && it->value().is_number()
                 ? static_cast<std::int64_t>(it->value().to_number<double>())
                 : 0;
    };
    const std::int64_t prompt = count("prompt_tokens");
    const std::int64_t completion = count("completion_tokens");
    std::int64_t total = count("total_tokens");
    if (total == 0) total = prompt + completion;
    auto& ctx = ex_->context();
    if (ctx.settle_tokens) ctx.settle_tokens(total);
    const double latency_ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - ctx.start)
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
    audit_event(services_.audit(), "inference_response",
                error ? security::AuditLevel::kWarning : security::AuditLevel::kInfo, ctx,
                std::move(fields));
  }

 private:
  const Services& services_;
  Ex ex_;
  std::string model_id_;
  std::string type_;
  json::value usage_ = nullptr;
  std::atomic<bool> finished_{false};
};

// Calls the router with the outcome bookkeeping around it.
apis::CancelFn call_with_outcome(const Services& services, const Ex& ex,
                                 routing::InferenceKind kind, const std::string& model_id,
                                 json::object request, apis::InferenceCallbacks callbacks) {
  static constexpr const char* kTypes[] = {"chat_completion", "completion", "embeddings"};
  auto outcome = std::make_shared<Outcome>(services, ex, model_id, kTypes[static_cast<int>(kind)]);
  outcome->start();
  apis::InferenceCallbacks wrapped;
  if (callbacks.on_chunk) {
    wrapped.on_chunk = [outcome, inner = std::move(callbacks.on_chunk)](json::object chunk) {
      if (auto it = chunk.find("usage"); it != chunk.end()) outcome->usage(it->value());
      inner(std::move(chunk));
    };
  }
  if (callbacks.on_response) {
    wrapped.on_response = [outcome,
                           inner = std::move(callbacks.on_response)](json::object response) {
      if (auto it = response.find("usage"); it != response.end()) outcome->usage(it->value());
      inner(std::move(response));
    };
  }
  wrapped.on_done = [outcome, inner = std::move(callbacks.on_done)](std::optional<ApiError> error) {
    outcome->finish(error);
    inner(std::move(error));
  };
  try {
    check_model_access(services, ex, model_id);
    return services.inference().call(kind, model_id, std::move(request),
                                     provider_data_of(ex->context()), std::move(wrapped));
  } catch (...) {
    // Whatever failed (a routing error, or a provider that threw while
    // converting the request), the reservation is settled and the outcome
    // audited with the status the client gets.
    ApiError error = to_api_error(std::current_exception(), "inference call");
    outcome->finish(error);
    throw error;
  }
}

// Stainless clients of the 0.2 line JSON-parse every data line and fail on
// the OpenAI "[DONE]" terminator; every other client expects or tolerates it.
bool wants_done_marker(const RequestContext& context) {
  auto agent = context.request.headers.get("user-agent");
  if (!agent) return true;
  return !(agent->starts_with("LlamaStackClient/JS 0.0.") ||
           agent->starts_with("LlamaStackClient/JS 0.1.") ||
           agent->starts_with("LlamaStackClient/JS 0.2."));
}

json::object error_event(const ApiError& error) {
  return json::object{
      {"error", json::object{{"message", std::to_string(error.status()) + ": " + error.what()},
                             {"type", error.type()},
                             {"code", error.status()}}}};
}

// Writes SSE events; starts the response lazily. Callbacks for one request
// are serialized by the provider, but cancellation may race: a mutex keeps
// the exchange consistent.
class SseWriter {
 public:
  explicit SseWriter(Ex exchange) : exchange_(std::move(exchange)) {}

  void event(const json::value& value) {
    std::lock_guard lock(mutex_);
    start_locked();
    exchange_->write_chunk("data: " + to_json(value) + "\n\n");
  }
  void raw(std::string_view data) {
    std::lock_guard lock(mutex_);
    start_locked();
    exchange_->write_chunk(std::string(data));
  }
  bool started() {
    std::lock_guard lock(mutex_);
    return started_;
  }
  void end() {
    std::lock_guard lock(mutex_);
    start_locked();
    exchange_->end_stream();
  }
  const Ex& exchange() const { return exchange_; }

 private:
  void start_locked() {
    if (started_) return;
    started_ = true;
    Headers headers;
    headers.set("x-accel-buffering", "no");
    exchange_->start_stream(200, "text/event-stream", std::move(headers));
  }

  Ex exchange_;
  std::mutex mutex_;
  bool started_ = false;
};

// Light type checks of an OpenAI request, naming the field.
void check_openai_fields(const json::object& body, InferenceKind kind) {
  auto expect = [&](std::string_view key, std::initializer_list<json::kind> kinds,
                    std::string_view what) {
    const auto* v = field(body, key);
    if (v == nullptr) return;
    for (auto k : kinds) {
      if (v->kind() == k) return;
    }
    if ((v->is_int64() || v->is_uint64()) &&
        std::find(kinds.begin(), kinds.end(), json::kind::double_) != kinds.end()) {
      return;
    }
    throw JsonFieldError(std::string(key), "Field '" + std::string(key) + "' must be " +
                                               std::string(what) + ", got " +
                                               std::string(json_kind_name(v->kind())));
  };
  expect("stream", {json::kind::bool_}, "a boolean");
  expect("temperature", {json::kind::double_}, "a number");
  expect("top_p", {json::kind::double_}, "a number");
  expect("max_tokens", {json::kind::int64, json::kind::uint64}, "an integer");
  expect("max_completion_tokens", {json::kind::int64, json::kind::uint64}, "an integer");
  expect("n", {json::kind::int64, json::kind::uint64}, "an integer");
  expect("seed", {json::kind::int64, json::kind::uint64}, "an integer");
  expect("stop", {json::kind::string, json::kind::array}, "a string or a list of strings");
  expect("stream_options", {json::kind::object}, "an object");
  expect("response_format", {json::kind::object}, "an object");
  expect("tools", {json::kind::array}, "a list");
  expect("user", {json::kind::string}, "a string");
  if (kind == InferenceKind::kChat) {
    const auto* messages = field(body, "messages");
    if (messages == nullptr || !messages->is_array() || messages->get_array().empty()) {
      throw JsonFieldError("messages", "Field 'messages' must be a non-empty list");
    }
    std::size_t i = 0;
    for (const auto& m : messages->get_array()) {
      const std::string path = "messages[" + std::to_string(i++) + "]";
      JsonReader msg(m, path);
      msg.required_string("role");
    }
  } else if (kind == InferenceKind::kCompletion) {
    const auto* prompt = field(body, "prompt");
    if (prompt == nullptr || !(prompt->is_string() || prompt->is_array())) {
      throw JsonFieldError("prompt", "Field 'prompt' must be a string or a list");
    }
  } else {
    const auto* input = field(body, "input");
    if (input == nullptr || !(input->is_string() || input->is_array())) {
      throw JsonFieldError("input", "Field 'input' must be a string or a list of strings");
    }
    if (input->is_array()) {
      for (const auto& item : input->get_array()) {
        if (!item.is_string()) {
          throw JsonFieldError("input",
                               "Field 'input' must be a string or a list of strings (token arrays "
                               "are not supported)");
        }
      }
    }
    if (const auto* f = field(body, "encoding_format");
        f != nullptr &&
        (!f->is_string() || (f->get_string() != "float" && f->get_string() != "base64"))) {
      throw JsonFieldError("encoding_format",
                           "Field 'encoding_format' must be 'float' or 'base64'");
    }
  }
}

bool flag(const json::object& o, std::string_view key) {
  const auto* v = field(o, key);
  return v != nullptr && v->is_bool() && v->get_bool();
}

// Re-assembles a streamed chat completion for the inference store.
class StreamRecorder {
 public:
  void add(const json::object& chunk) {
    if (id_.empty()) {
      if (const auto* id = field(chunk, "id"); id != nullptr && id->is_string())
        id_ = id->get_string();
      if (const auto* c = field(chunk, "created"); c != nullptr && c->is_int64())
        created_ = c->get_int64();
    }
    const auto* choices = field(chunk, "choices");
    if (choices == nullptr || !choices->is_array()) return;
    for (const auto& c : choices->get_array()) {
      const auto& choice = c.as_object();
      const auto* index = field(choice, "index");
      Choice& acc = choices_[index != nullptr && index->is_int64() ? index->get_int64() : 0];
      if (const auto* delta = field(choice, "delta"); delta != nullptr && delta->is_object()) {
        const auto& d = delta->get_object();
        if (const auto* t = field(d, "content"); t != nullptr && t->is_string()) {
          acc.content += t->get_string();
          acc.has_content = true;
        }
        if (const auto* calls = field(d, "tool_calls"); calls != nullptr && calls->is_array()) {
          for (const auto& tc : calls->get_array()) {
            const auto& call = tc.as_object();
            const auto* i = field(call, "index");
            auto& t = acc.calls[i != nullptr && i->is_int64() ? i->get_int64() : 0];
            if (const auto* id = field(call, "id"); id != nullptr && id->is_string())
              t.id = id->get_string();
            if (const auto* fn = field(call, "function"); fn != nullptr && fn->is_object()) {
              if (const auto* n = field(fn->get_object(), "name"); n != nullptr && n->is_string())
                t.name += n->get_string();
              if (const auto* a = field(fn->get_object(), "arguments");
                  a != nullptr && a->is_string())
                t.arguments += a->get_string();
            }
          }
        }
      }
      if (const auto* f = field(choice, "finish_reason"); f != nullptr && f->is_string())
        acc.finish = f->get_string();
    }
  }

  json::object completion(const std::string& model) const {
    json::array choices;
    for (const auto& [index, c] : choices_) {
      json::object message{
          {"role", "assistant"},
          {"content", c.has_content ? json::value(c.content) : json::value(nullptr)}};
      if (!c.calls.empty()) {
        json::array calls;
        for (const auto& [i, t] : c.calls) {
          calls.push_back(json::object{
              {"id", t.id},
              {"type", "function"},
              {"function", json::object{{"name", t.name}, {"arguments", t.arguments}}}});
        }
        message["tool_calls"] = std::move(calls);
      }
      choices.push_back(json::object{
          {"index", index},
          {"message", std::move(message)},
          {"finish_reason", c.finish.empty() ? json::value(nullptr) : json::value(c.finish)},
          {"logprobs", nullptr}});
    }
    return json::object{{"id", id_},
                        {"object", "chat.completion"},
                        {"created", created_},
                        {"model", model},
                        {"choices", std::move(choices)}};
  }

 private:
  struct Call {
    std::string id, name, arguments;
  };
  struct Choice {
    std::string content;
    bool has_content = false;
    std::string finish;
    std::map<std::int64_t, Call> calls;
  };
  std::string id_;
  std::int64_t created_ = 0;
  std::map<std::int64_t, Choice> choices_;
};

// POST chat/completions, completions (OpenAI shapes).
void openai_generate(const Services& services, const Ex& ex, InferenceKind kind) {
  json::value value = ex->context().json_body();
  JsonReader reader(value);
  const std::string model_id = reader.required_string("model");
  json::object body = reader.object();
  check_openai_fields(body, kind);
  const bool stream = flag(body, "stream");
  bool client_wants_usage = false;
  if (stream) {
    if (const auto* so = field(body, "stream_options"); so != nullptr && so->is_object()) {
      client_wants_usage = flag(so->get_object(), "include_usage");
    }
    // Always ask for usage: the store and the token accounting need it.
    json::object so =
        field(body, "stream_options") != nullptr && body.at("stream_options").is_object()
            ? body.at("stream_options").get_object()
            : json::object{};
    so["include_usage"] = true;
    body["stream_options"] = std::move(so);
  }
  storage::InferenceStore* store =
      kind == InferenceKind::kChat ? services.inference_store() : nullptr;
  json::array input_messages;
  if (store != nullptr) input_messages = body.at("messages").as_array();
  const bool done_marker = wants_done_marker(ex->context());
  const json::value owner =
      ex->context().user ? ex->context().user->to_json() : json::value(nullptr);

  apis::InferenceCallbacks callbacks;
  if (stream) {
    auto sse = std::make_shared<SseWriter>(ex);
    auto recorder = store != nullptr ? std::make_shared<StreamRecorder>() : nullptr;
    callbacks.on_chunk = [sse, recorder, model_id, client_wants_usage](json::object chunk) {
      chunk["model"] = model_id;
      if (recorder) recorder->add(chunk);
      const auto* choices = field(chunk, "choices");
      const bool usage_only = choices != nullptr && choices->is_array() &&
                              choices->get_array().empty() && field(chunk, "usage") != nullptr;
      if (usage_only && !client_wants_usage) return;
      if (!client_wants_usage) chunk.erase("usage");
      sse->event(chunk);
    };
    callbacks.on_done = [sse, recorder, store, input_messages, model_id, done_marker,
                         owner](std::optional<ApiError> error) {
      if (error && !sse->started()) {
        if (error->status() != 499) sse->exchange()->send_error(*error);
        return;
      }
      if (error) {
        LS_WARN(kInference, "stream for model '{}' failed mid-way: {}", model_id, error->what());
        sse->event(error_event(*error));
      } else if (recorder && store != nullptr) {
        store->record(recorder->completion(model_id), input_messages, owner);
      }
      if (done_marker) sse->raw("data: [DONE]\n\n");
      sse->end();
    };
  } else {
    callbacks.on_response = [ex, store, input_messages, model_id, owner](json::object response) {
      response["model"] = model_id;
      if (store != nullptr) store->record(response, input_messages, owner);
      ex->send_json(200, response);
    };
    callbacks.on_done = [ex](std::optional<ApiError> error) {
      if (error && error->status() != 499) ex->send_error(*error);
    };
  }
  auto cancel =
      call_with_outcome(services, ex, kind, model_id, std::move(body), std::move(callbacks));
  ex->on_cancel(std::move(cancel));
}

void openai_embeddings(const Services& services, const Ex& ex) {
  json::value value = ex->context().json_body();
  JsonReader reader(value);
  const std::string model_id = reader.required_string("model");
  json::object body = reader.object();
  check_openai_fields(body, InferenceKind::kEmbeddings);
  const bool base64 = reader.optional_string("encoding_format").value_or("float") == "base64";
  body.erase("encoding_format");
  apis::InferenceCallbacks callbacks;
  callbacks.on_response = [ex, model_id, base64](json::object response) {
    response["model"] = model_id;
    if (base64) {
      for (auto& item : response["data"].as_array()) {
        auto& embedding = item.as_object()["embedding"];
        embedding = inference::embedding_base64(embedding.as_array());
      }
    }
    ex->send_json(200, response);
  };
  callbacks.on_done = [ex](std::optional<ApiError> error) {
    if (error && error->status() != 499) ex->send_error(*error);
  };
  auto cancel = call_with_outcome(services, ex, InferenceKind::kEmbeddings, model_id,
                                  std::move(body), std::move(callbacks));
  ex->on_cancel(std::move(cancel));
}

// POST /v1/inference/chat-completion and /completion (native shapes).
void native_generate(const Services& services, const Ex& ex, InferenceKind kind) {
  json::value value = ex->context().json_body();
  inference::NativeRequest native = kind == InferenceKind::kChat
                                        ? inference::native_chat_request(value)
                                        : inference::native_completion_request(value);
  apis::InferenceCallbacks callbacks;
  if (native.stream) {
    auto sse = std::make_shared<SseWriter>(ex);
    auto chat = std::make_shared<inference::NativeChatStream>();
    auto completion = std::make_shared<inference::NativeCompletionStream>();
    callbacks.on_chunk = [sse, chat, completion, kind](json::object chunk) {
      auto events =
          kind == InferenceKind::kChat ? chat->on_chunk(chunk) : completion->on_chunk(chunk);
      for (const auto& e : events) sse->event(e);
    };
    callbacks.on_done = [sse, chat, completion, kind](std::optional<ApiError> error) {
      if (error && !sse->started()) {
        if (error->status() != 499) sse->exchange()->send_error(*error);
        return;
      }
      if (error) {
        sse->event(error_event(*error));
      } else {
        auto events = kind == InferenceKind::kChat ? chat->finish() : completion->finish();
        for (const auto& e : events) sse->event(e);
      }
      sse->end();
    };
  } else {
    callbacks.on_response = [ex, kind](json::object response) {
      ex->send_json(200, kind == InferenceKind::kChat
                             ? inference::native_chat_response(response)
                             : inference::native_completion_response(response));
    };
    callbacks.on_done = [ex](std::optional<ApiError> error) {
      if (error && error->status() != 499) ex->send_error(*error);
    };
  }
  auto cancel = call_with_outcome(services, ex, kind, native.model_id, std::move(native.openai),
                                  std::move(callbacks));
  ex->on_cancel(std::move(cancel));
}

void native_embeddings(const Services& services, const Ex& ex) {
  json::value value = ex->context().json_body();
  inference::NativeRequest native = inference::native_embeddings_request(value);
  apis::InferenceCallbacks callbacks;
  callbacks.on_response = [ex](json::object response) {
    ex->send_json(200, inference::native_embeddings_response(response));
  };
  callbacks.on_done = [ex](std::optional<ApiError> error) {
    if (error && error->status() != 499) ex->send_error(*error);
  };
  auto cancel = call_with_outcome(services, ex, InferenceKind::kEmbeddings, native.model_id,
                                  std::move(native.openai), std::move(callbacks));
  ex->on_cancel(std::move(cancel));
}

storage::InferenceStore& require_store(const Services& services) {
  storage::InferenceStore* store = services.inference_store();
  if (store == nullptr) {
    throw ApiError::not_implemented(
        "The inference store is not configured; add `inference_store: {type: sqlite, db_path: "
        "...}` "
        "to run.yaml to record chat completions");
  }
  return *store;
}

// Stored completions are resources too: the access policy decides who reads them.
storage::InferenceStore::Visible completion_visibility(const Services& services, const Ex& ex) {
  return [&services, ex](const json::value& owner) {
    return services.policy().allows(auth::Action::kRead, "chat_completion", "",
                                    apis::Owner::from_json(owner), ex->context().user);
  };
}

void list_chat_completions(const Services& services, const Ex& ex) {
  storage::InferenceStore& store = require_store(services);
  const auto& request = ex->request();
  int limit = 20;
  if (auto l = request.query_param("limit")) {
    try {
      limit = std::stoi(std::string(*l));
    } catch (const std::exception&) {
      throw ApiError::bad_request("Query parameter 'limit' must be an integer");
    }
    if (limit < 1 || limit > 1000)
      throw ApiError::bad_request("Query parameter 'limit' must be between 1 and 1000");
  }
  bool descending = true;
  if (auto o = request.query_param("order")) {
    if (*o == "asc") {
      descending = false;
    } else if (*o != "desc") {
      throw ApiError::bad_request("Query parameter 'order' must be 'asc' or 'desc'");
    }
  }
  std::optional<std::string> after, model;
  if (auto a = request.query_param("after"); a && !a->empty()) after = std::string(*a);
  if (auto m = request.query_param("model"); m && !m->empty()) model = std::string(*m);
  auto page = store.list(after, limit, descending, model, completion_visibility(services, ex));
  if (!page)
    throw ApiError::bad_request("Query parameter 'after': no chat completion with id '" + *after +
                                "'");
  json::object body{{"object", "list"}, {"has_more", page->has_more}};
  body["first_id"] = page->data.empty() ? json::value("") : page->data.front().at("id");
  body["last_id"] = page->data.empty() ? json::value("") : page->data.back().at("id");
  body["data"] = std::move(page->data);
  ex->send_json(200, body);
}

void get_chat_completion(const Services& services, const Ex& ex) {
  storage::InferenceStore& store = require_store(services);
  const std::string& id = ex->context().param("completion_id");
  auto completion = store.get(id, completion_visibility(services, ex));
  if (!completion) throw ApiError::not_found("Chat completion '" + id + "' not found");
  ex->send_json(200, *completion);
}

}  // namespace

void add_inference_routes(RouteTable& table, const Services& services) {
  table.add({"POST", "/v1/inference/chat-completion",
             [&services](const Ex& ex) { native_generate(services, ex, InferenceKind::kChat); },
             "inference"});
  table.add(
      {"POST", "/v1/inference/completion",
       [&services](const Ex& ex) { native_generate(services, ex, InferenceKind::kCompletion); },
       "inference"});
  table.add({"POST", "/v1/inference/embeddings",
             [&services](const Ex& ex) { native_embeddings(services, ex); }, "inference"});
  for (const std::string prefix : {"/v1/openai/v1", "/v1"}) {
    table.add({"POST", prefix + "/chat/completions",
               [&services](const Ex& ex) { openai_generate(services, ex, InferenceKind::kChat); },
               "inference"});
    table.add(
        {"POST", prefix + "/completions",
         [&services](const Ex& ex) { openai_generate(services, ex, InferenceKind::kCompletion); },
         "inference"});
    table.add({"POST", prefix + "/embeddings",
               [&services](const Ex& ex) { openai_embeddings(services, ex); }, "inference"});
    table.add({"GET", prefix + "/chat/completions",
               [&services](const Ex& ex) { list_chat_completions(services, ex); }, "inference"});
    table.add({"GET", prefix + "/chat/completions/{completion_id}",
               [&services](const Ex& ex) { get_chat_completion(services, ex); }, "inference"});
  }
}

}  // namespace llama_stack::server::routes
