// Inference routes, native (/v1/inference/*) and OpenAI-compatible
// (/v1/openai/v1/* and /v1/*), all through InferenceRouter. Handlers are
// parse → call → render coroutines (Exchange::serve): access and scope checks,
// audit, token settlement and the inference store are the router's, so an
// internal call gets them too.
//
// Streaming: the SSE response starts with the first upstream chunk, so a
// failure before any output (unknown model upstream, unreachable provider)
// is a proper HTTP error; a failure after that is one error event, then the
// stream closes cleanly.
#include <mutex>

#include "core/inference/native.h"
#include "core/log/log.h"
#include "core/server/exchange.h"
#include "core/server/routes/routes.h"
#include "core/server/routes/sse.h"
#include "core/services/services.h"
#include "core/storage/inference_store.h"
#include "core/util/api_error.h"

namespace llama_stack::server::routes {
namespace {

using Ex = std::shared_ptr<Exchange>;
using routing::InferenceKind;

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

// Light type checks of an OpenAI request, naming the field.
void check_openai_fields(const json::object& body, InferenceKind kind) {
  auto expect = [&](std::string_view key, std::initializer_list<json::kind> kinds,
                    std::string_view what) {
    const auto* v = json_field(body, key);
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
    const auto* messages = json_field(body, "messages");
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
    const auto* prompt = json_field(body, "prompt");
    if (prompt == nullptr || !(prompt->is_string() || prompt->is_array())) {
      throw JsonFieldError("prompt", "Field 'prompt' must be a string or a list");
    }
  } else {
    const auto* input = json_field(body, "input");
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
    if (const auto* f = json_field(body, "encoding_format");
        f != nullptr &&
        (!f->is_string() || (f->get_string() != "float" && f->get_string() != "base64"))) {
      throw JsonFieldError("encoding_format",
                           "Field 'encoding_format' must be 'float' or 'base64'");
    }
  }
}

// Runs a streaming call into an SSE response. The response starts with the
// first chunk, so a failure before any output is a proper HTTP error (thrown
// on); a failure after that is one error event, then the stream ends.
// `on_chunk` renders each OpenAI chunk as events; `finish` sends the closing
// events; `done_marker` ends the stream with "data: [DONE]".
using ChunkRenderer = std::function<void(json::object chunk, SseWriter& sse)>;
async::Task<void> stream_call(const Services& services, Ex ex, InferenceKind kind,
                              apis::CallContext call, json::object request, ChunkRenderer on_chunk,
                              std::function<void(SseWriter&)> finish, bool done_marker,
                              bool store) {
  auto sse = std::make_shared<SseWriter>(ex);
  std::exception_ptr failure;
  try {
    apis::ChunkSink sink = [sse, on_chunk = std::move(on_chunk)](json::object chunk) {
      on_chunk(std::move(chunk), *sse);
    };
    auto streamed =
        services.inference().call(kind, call, std::move(request), std::move(sink), store);
    co_await std::move(streamed);
  } catch (...) {
    failure = std::current_exception();
  }
  if (failure) {
    ApiError error = to_api_error(failure, "inference stream");
    if (!sse->started()) throw error;
    LS_WARN(kInference, "stream for {} {} failed mid-way: {}", ex->request().method,
            ex->request().path, error.what());
    sse->event(error_event(error));
  } else {
    finish(*sse);
  }
  if (done_marker) sse->raw("data: [DONE]\n\n");
  sse->end();
}

// POST chat/completions, completions (OpenAI shapes).
async::Task<void> openai_generate(const Services& services, Ex ex, InferenceKind kind) {
  json::value value = ex->context().json_body();
  JsonReader reader(value);
  reader.required_string("model");
  json::object body = reader.object();
  check_openai_fields(body, kind);
  apis::CallContext call = ex->call_context();
  if (!json_flag(body, "stream")) {
    auto answered = services.inference().call(kind, call, std::move(body));
    json::object response = co_await std::move(answered);
    ex->send_json(200, response);
    co_return;
  }
  auto streamed = stream_call(
      services, ex, kind, std::move(call), std::move(body),
      [](json::object chunk, SseWriter& sse) { sse.event(chunk); }, [](SseWriter&) {},
      wants_done_marker(ex->context()), /*store=*/true);
  co_await std::move(streamed);
}

async::Task<void> openai_embeddings(const Services& services, Ex ex) {
  json::value value = ex->context().json_body();
  JsonReader reader(value);
  reader.required_string("model");
  json::object body = reader.object();
  check_openai_fields(body, InferenceKind::kEmbeddings);
  const bool base64 = reader.optional_string("encoding_format").value_or("float") == "base64";
  body.erase("encoding_format");
  apis::CallContext call = ex->call_context();
  auto answered = services.inference().embeddings(call, std::move(body));
  json::object response = co_await std::move(answered);
  if (base64) {
    // Providers answer float arrays (apis::InferenceApi); anything else is a
    // malformed upstream answer, not a server fault.
    json::array* data = response["data"].if_array();
    if (data == nullptr) throw ApiError(502, "Malformed upstream response: 'data' is not a list");
    for (auto& item : *data) {
      json::object* entry = item.if_object();
      json::array* floats = nullptr;
      if (entry != nullptr) floats = (*entry)["embedding"].if_array();
      if (floats == nullptr) {
        throw ApiError(502, "Malformed upstream response: an embedding is not a list of numbers");
      }
      (*entry)["embedding"] = inference::embedding_base64(*floats);
    }
  }
  ex->send_json(200, response);
}

// POST /v1/inference/chat-completion and /completion (native shapes).
async::Task<void> native_generate(const Services& services, Ex ex, InferenceKind kind) {
  json::value value = ex->context().json_body();
  inference::NativeRequest native = kind == InferenceKind::kChat
                                        ? inference::native_chat_request(value)
                                        : inference::native_completion_request(value);
  native.openai["model"] = native.model_id;
  apis::CallContext call = ex->call_context();
  if (!native.stream) {
    auto answered = services.inference().call(kind, call, std::move(native.openai), {},
                                              /*store=*/false);
    json::object response = co_await std::move(answered);
    ex->send_json(200, kind == InferenceKind::kChat
                           ? inference::native_chat_response(response)
                           : inference::native_completion_response(response));
    co_return;
  }
  if (kind == InferenceKind::kChat) {
    auto chat = std::make_shared<inference::NativeChatStream>();
    auto streamed = stream_call(
        services, ex, kind, std::move(call), std::move(native.openai),
        [chat](json::object chunk, SseWriter& sse) {
          for (const auto& event : chat->on_chunk(chunk)) sse.event(event);
        },
        [chat](SseWriter& sse) {
          for (const auto& event : chat->finish()) sse.event(event);
        },
        /*done_marker=*/false, /*store=*/false);
    co_await std::move(streamed);
  } else {
    auto completion = std::make_shared<inference::NativeCompletionStream>();
    auto streamed = stream_call(
        services, ex, kind, std::move(call), std::move(native.openai),
        [completion](json::object chunk, SseWriter& sse) {
          for (const auto& event : completion->on_chunk(chunk)) sse.event(event);
        },
        [completion](SseWriter& sse) {
          for (const auto& event : completion->finish()) sse.event(event);
        },
        /*done_marker=*/false, /*store=*/false);
    co_await std::move(streamed);
  }
}

async::Task<void> native_embeddings(const Services& services, Ex ex) {
  json::value value = ex->context().json_body();
  inference::NativeRequest native = inference::native_embeddings_request(value);
  native.openai["model"] = native.model_id;
  apis::CallContext call = ex->call_context();
  auto answered = services.inference().embeddings(call, std::move(native.openai));
  json::object response = co_await std::move(answered);
  ex->send_json(200, inference::native_embeddings_response(response));
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
             [&services](const Ex& ex) {
               ex->serve(native_generate(services, ex, InferenceKind::kChat));
             },
             "inference"});
  table.add({"POST", "/v1/inference/completion",
             [&services](const Ex& ex) {
               ex->serve(native_generate(services, ex, InferenceKind::kCompletion));
             },
             "inference"});
  table.add({"POST", "/v1/inference/embeddings",
             [&services](const Ex& ex) { ex->serve(native_embeddings(services, ex)); },
             "inference"});
  for (const std::string prefix : {"/v1/openai/v1", "/v1"}) {
    table.add({"POST", prefix + "/chat/completions",
               [&services](const Ex& ex) {
                 ex->serve(openai_generate(services, ex, InferenceKind::kChat));
               },
               "inference"});
    table.add({"POST", prefix + "/completions",
               [&services](const Ex& ex) {
                 ex->serve(openai_generate(services, ex, InferenceKind::kCompletion));
               },
               "inference"});
    table.add({"POST", prefix + "/embeddings",
               [&services](const Ex& ex) { ex->serve(openai_embeddings(services, ex)); },
               "inference"});
    table.add(blocking({"GET", prefix + "/chat/completions",
                        [&services](const Ex& ex) { list_chat_completions(services, ex); },
                        "inference"}));
    table.add(
        blocking({"GET", prefix + "/chat/completions/{completion_id}",
                  [&services](const Ex& ex) { get_chat_completion(services, ex); }, "inference"}));
  }
}

}  // namespace llama_stack::server::routes
