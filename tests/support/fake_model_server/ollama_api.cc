// Ollama native endpoints: /api/chat, /api/generate, /api/embed (and the
// legacy /api/embeddings), /api/tags, /api/ps, /api/version, and "/".
// Shapes follow notes/inference-wire-formats.md §5.
#include <cstdio>

#include "apis.h"
#include "fake_model.h"

namespace llama_stack::fake {
namespace {

using server::HttpRequest;
using server::HttpResponse;

// Fake durations, in nanoseconds: 1 ms per token, 1 ms to "load".
constexpr std::int64_t kNanosPerToken = 1'000'000;
constexpr std::int64_t kLoadNanos = 1'000'000;
constexpr std::int64_t kModelSize = 2019393189;

std::string require_model(const json::object& body) {
  const std::optional<std::string> model = string_field(body, "model");
  if (!model || model->empty()) throw FakeError(400, "model is required");
  if (!is_known_model(*model)) {
    throw FakeError(404, "model \"" + *model + "\" not found, try pulling it first");
  }
  return *model;
}

std::optional<std::int64_t> num_predict_of(const json::object& body) {
  const json::value* options = body.if_contains("options");
  if (options == nullptr || options->is_null()) return std::nullopt;
  if (!options->is_object()) throw FakeError(400, "options must be an object");
  return int_field(options->get_object(), "num_predict");
}

// `{"model":..,"created_at":..,`
std::string line_prefix(std::string_view model) {
  std::string out = R"({"model":)";
  append_json_string(out, model);
  out += R"(,"created_at":)";
  append_json_string(out, rfc3339_now());
  out += ",";
  return out;
}

// `"done_reason":..,"done":true,<metrics>}`
std::string done_suffix(const Completion& c) {
  const std::int64_t prompt_ns = static_cast<std::int64_t>(c.prompt_tokens) * kNanosPerToken;
  const std::int64_t eval_ns = static_cast<std::int64_t>(c.completion_tokens) * kNanosPerToken;
  std::string out = R"("done_reason":")";
  out += c.truncated ? "length" : "stop";
  out += R"(","done":true,"total_duration":)" + std::to_string(kLoadNanos + prompt_ns + eval_ns);
  out += R"(,"load_duration":)" + std::to_string(kLoadNanos);
  out += R"(,"prompt_eval_count":)" + std::to_string(c.prompt_tokens);
  out += R"(,"prompt_eval_duration":)" + std::to_string(prompt_ns);
  out += R"(,"eval_count":)" + std::to_string(c.completion_tokens);
  out += R"(,"eval_duration":)" + std::to_string(eval_ns);
  out += "}";
  return out;
}

HttpResponse json_ok(std::string body) {
  HttpResponse response;
  response.body = std::move(body);
  return response;
}

// The answer to an empty chat/generate request: Ollama just loads the model.
Reply load_reply(const std::string& model, bool chat) {
  Reply reply;
  reply.response =
      json_ok(line_prefix(model) +
              (chat ? R"("message":{"role":"assistant","content":""},)" : R"("response":"",)") +
              R"("done_reason":"load","done":true})");
  return reply;
}

// `{"role":"assistant","content":<text>[,"tool_calls":[...]]}`
std::string message_json(std::string_view content, const std::optional<ToolCallPlan>& tool) {
  std::string out = R"({"role":"assistant","content":)";
  append_json_string(out, content);
  if (tool) {
    out += R"(,"tool_calls":[{"function":{"name":)";
    append_json_string(out, tool->name);
    out += R"(,"arguments":)";
    try {
      parse_json(tool->arguments);
      out += tool->arguments;  // an object in Ollama, not a string
    } catch (const std::exception&) {
      append_json_string(out, tool->arguments);  // "broken arguments": as a string
    }
    out += "}}]";
  }
  out += "}";
  return out;
}

Reply chat(const HttpRequest& request, State&) {
  const json::object body = parse_body(request.body);
  const std::string model = require_model(body);
  const json::value* messages = body.if_contains("messages");
  if (messages != nullptr && !messages->is_null() && !messages->is_array()) {
    throw FakeError(400, "messages must be an array");
  }
  if (messages == nullptr || messages->is_null() || messages->get_array().empty()) {
    return load_reply(model, true);
  }
  const ChatInput input = read_messages(messages->get_array());
  const bool stream = bool_field(body, "stream").value_or(true);
  const Completion c = generate(model, input.answered(), input.prompt_tokens, num_predict_of(body),
                                tool_to_call(body, input), input.lead());
  const std::string prefix = line_prefix(model);
  Reply reply;
  if (!stream) {
    reply.response =
        json_ok(prefix + R"("message":)" + message_json(c.content, c.tool) + "," + done_suffix(c));
    return reply;
  }
  StreamReply s;
  s.content_type = "application/x-ndjson";
  if (c.tool) {
    s.tokens.push_back(prefix + R"("message":)" + message_json("", c.tool) + ",\"done\":false}\n");
  } else {
    s.tokens.reserve(c.tokens.size());
    for (const auto& token : c.tokens) {
      s.tokens.push_back(prefix + R"("message":)" + message_json(token, std::nullopt) +
                         ",\"done\":false}\n");
    }
  }
  s.tail = prefix + R"("message":{"role":"assistant","content":""},)" + done_suffix(c) + "\n";
  reply.stream = std::move(s);
  return reply;
}

Reply generate_endpoint(const HttpRequest& request, State&) {
  const json::object body = parse_body(request.body);
  const std::string model = require_model(body);
  const std::string prompt = string_field(body, "prompt").value_or("");
  if (prompt.empty()) return load_reply(model, false);
  const bool stream = bool_field(body, "stream").value_or(true);
  const Completion c = generate(model, prompt, count_words(prompt), num_predict_of(body));
  const std::string prefix = line_prefix(model);
  auto response_field = [](std::string_view text) {
    std::string out = R"("response":)";
    append_json_string(out, text);
    return out;
  };
  Reply reply;
  if (!stream) {
    reply.response = json_ok(prefix + response_field(c.content) + "," + done_suffix(c));
    return reply;
  }
  StreamReply s;
  s.content_type = "application/x-ndjson";
  s.tokens.reserve(c.tokens.size());
  for (const auto& token : c.tokens) {
    s.tokens.push_back(prefix + response_field(token) + ",\"done\":false}\n");
  }
  s.tail = prefix + R"("response":"",)" + done_suffix(c) + "\n";
  reply.stream = std::move(s);
  return reply;
}

Reply embed_endpoint(const HttpRequest& request, State&) {
  const json::object body = parse_body(request.body);
  const std::string model = require_model(body);
  const std::vector<std::string> texts = embedding_inputs(body, true);
  const std::size_t dimensions = embedding_dimensions(body, model);
  std::size_t words = 0;
  std::string out = R"({"model":)";
  append_json_string(out, model);
  out += R"(,"embeddings":[)";
  for (std::size_t i = 0; i < texts.size(); ++i) {
    words += count_words(texts[i]);
    if (i != 0) out += ",";
    append_vector(out, embed(model, texts[i], dimensions));
  }
  const auto prompt_ns = static_cast<std::int64_t>(words) * kNanosPerToken;
  out += R"(],"total_duration":)" + std::to_string(kLoadNanos + prompt_ns);
  out += R"(,"load_duration":)" + std::to_string(kLoadNanos);
  out += R"(,"prompt_eval_count":)" + std::to_string(words) + "}";
  Reply reply;
  reply.response = json_ok(std::move(out));
  return reply;
}

// Legacy: {model, prompt} → {"embedding": [...]}.
Reply embeddings_legacy(const HttpRequest& request, State&) {
  const json::object body = parse_body(request.body);
  const std::string model = require_model(body);
  std::string out = R"({"embedding":)";
  append_vector(out, embed(model, string_field(body, "prompt").value_or(""),
                           embedding_dimensions(body, model)));
  out += "}";
  Reply reply;
  reply.response = json_ok(std::move(out));
  return reply;
}

std::string digest_of(std::string_view model) {
  char hex[9];
  std::snprintf(hex, sizeof hex, "%08x", fnv1a32(model));
  std::string digest;
  for (int i = 0; i < 8; ++i) digest += hex;
  return digest;
}

// `"name":..,"model":..,"size":..,"digest":..,"details":{...}`
std::string model_fields(std::string_view model) {
  std::string out = R"("name":)";
  append_json_string(out, model);
  out += R"(,"model":)";
  append_json_string(out, model);
  out += R"(,"size":)" + std::to_string(kModelSize) + R"(,"digest":")" + digest_of(model) + "\"";
  out += R"(,"details":{"parent_model":"","format":"gguf","family":"llama","families":["llama"],)"
         R"("parameter_size":"3B","quantization_level":"Q4_K_M"})";
  return out;
}

Reply tags(const HttpRequest&, State&) {
  std::string out = R"({"models":[)";
  for (std::size_t i = 0; i < kModels.size(); ++i) {
    if (i != 0) out += ",";
    out += "{" + model_fields(kModels[i]) + R"(,"modified_at":"2025-01-01T00:00:00Z"})";
  }
  out += "]}";
  Reply reply;
  reply.response = json_ok(std::move(out));
  return reply;
}

Reply ps(const HttpRequest&, State&) {
  std::string out = R"({"models":[)";
  for (std::size_t i = 0; i < kModels.size(); ++i) {
    if (i != 0) out += ",";
    out += "{" + model_fields(kModels[i]) + R"(,"expires_at":"2099-01-01T00:00:00Z","size_vram":)" +
           std::to_string(kModelSize) + "}";
  }
  out += "]}";
  Reply reply;
  reply.response = json_ok(std::move(out));
  return reply;
}

Reply version(const HttpRequest&, State&) {
  Reply reply;
  reply.response = json_ok(R"({"version":"0.9.0"})");
  return reply;
}

Reply root(const HttpRequest&, State&) {
  Reply reply;
  reply.response.emplace();
  reply.response->content_type = "text/plain; charset=utf-8";
  reply.response->body = "Ollama is running";
  return reply;
}

}  // namespace

void add_ollama_routes(server::RouteTable& routes, const std::shared_ptr<State>& state) {
  auto route = [&](std::string method, std::string path, Builder build) {
    routes.add(server::Route{std::move(method), std::move(path),
                             model_handler(state, Protocol::kOllama, std::move(build)), "ollama"});
  };
  route("POST", "/api/chat", chat);
  route("POST", "/api/generate", generate_endpoint);
  route("POST", "/api/embed", embed_endpoint);
  route("POST", "/api/embeddings", embeddings_legacy);
  route("GET", "/api/tags", tags);
  route("GET", "/api/ps", ps);
  route("GET", "/api/version", version);
  route("GET", "/", root);
  route("HEAD", "/", root);
}

}  // namespace llama_stack::fake
