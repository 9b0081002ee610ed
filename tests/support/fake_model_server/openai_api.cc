// OpenAI-compatible endpoints: /v1/chat/completions, /v1/completions,
// /v1/embeddings, /v1/models. Shapes follow what the openai npm SDK expects
// (notes/inference-wire-formats.md §3 and §6).
#include <cmath>

#include "apis.h"
#include "fake_model.h"

namespace llama_stack::fake {
namespace {

using server::HttpRequest;
using server::HttpResponse;

constexpr std::int64_t kModelCreated = 1700000000;

std::string require_model(const json::object& body) {
  const std::optional<std::string> model = string_field(body, "model");
  if (!model || model->empty()) {
    throw FakeError(400, "you must provide a model parameter", "model",
                    "missing_required_parameter");
  }
  if (!is_known_model(*model)) {
    throw FakeError(404, "The model `" + *model + "` does not exist.", "model", "model_not_found");
  }
  return *model;
}

std::optional<std::int64_t> max_tokens_of(const json::object& body) {
  if (auto max = int_field(body, "max_completion_tokens")) return max;
  return int_field(body, "max_tokens");
}

bool include_usage_of(const json::object& body) {
  const json::value* options = body.if_contains("stream_options");
  if (options == nullptr || !options->is_object()) return false;
  return bool_field(options->get_object(), "include_usage").value_or(false);
}

std::string usage_json(const Completion& c) {
  return R"({"prompt_tokens":)" + std::to_string(c.prompt_tokens) + R"(,"completion_tokens":)" +
         std::to_string(c.completion_tokens) + R"(,"total_tokens":)" +
         std::to_string(c.total_tokens()) + "}";
}

const char* finish_reason(const Completion& c) {
  return c.tool ? "tool_calls" : c.truncated ? "length" : "stop";
}

// `{"id":..,"object":..,"created":..,"model":..,"choices":[`
std::string object_prefix(std::string_view id, std::string_view object, std::int64_t created,
                          std::string_view model) {
  std::string out = R"({"id":)";
  append_json_string(out, id);
  out += R"(,"object":)";
  append_json_string(out, object);
  out += R"(,"created":)";
  out += std::to_string(created);
  out += R"(,"model":)";
  append_json_string(out, model);
  out += R"(,"choices":[)";
  return out;
}

void append_tool_call(std::string& out, const ToolCallPlan& call, bool with_index) {
  out += with_index ? R"({"index":0,"id":)" : R"({"id":)";
  append_json_string(out, kToolCallId);
  out += R"(,"type":"function","function":{"name":)";
  append_json_string(out, call.name);
  out += R"(,"arguments":)";
  append_json_string(out, call.arguments);
  out += "}}";
}

HttpResponse json_ok(std::string body) {
  HttpResponse response;
  response.body = std::move(body);
  return response;
}

Reply chat_completions(const HttpRequest& request, State& state) {
  const json::object body = parse_body(request.body);
  const std::string model = require_model(body);
  const json::value* messages = body.if_contains("messages");
  if (messages == nullptr || !messages->is_array() || messages->get_array().empty()) {
    throw FakeError(400, "'messages' must be a non-empty array", "messages");
  }
  const ChatInput input = read_messages(messages->get_array());
  const bool stream = bool_field(body, "stream").value_or(false);
  const bool include_usage = include_usage_of(body);
  const Completion c = generate(model, input.answered(), input.prompt_tokens, max_tokens_of(body),
                                tool_to_call(body, input), input.lead());
  const std::string id = "chatcmpl-fake-" + std::to_string(state.next_id());
  const std::int64_t created = unix_seconds();
  const std::string prefix =
      object_prefix(id, stream ? "chat.completion.chunk" : "chat.completion", created, model);
  Reply reply;
  if (!stream) {
    std::string out = prefix;
    out += R"({"index":0,"message":{"role":"assistant","content":)";
    if (c.tool) {
      out += R"(null,"tool_calls":[)";
      append_tool_call(out, *c.tool, false);
      out += "]";
    } else {
      append_json_string(out, c.content);
    }
    out += R"(},"finish_reason":")";
    out += finish_reason(c);
    out += R"(","logprobs":)";
    if (c.unsafe_probability && bool_field(body, "logprobs").value_or(false)) {
      // The verdict's first token, with "safe" and "unsafe" as alternatives.
      const double p_unsafe = *c.unsafe_probability;
      const bool unsafe = c.content.starts_with("unsafe");
      auto entry = [](std::string& o, const char* token, double p) {
        o += R"({"token":")";
        o += token;
        o += R"(","logprob":)";
        append_json_number(o, std::log(p));
        o += R"(,"bytes":null})";
      };
      std::string top;
      entry(top, "unsafe", p_unsafe);
      top += ",";
      entry(top, "safe", 1.0 - p_unsafe);
      std::string first;
      entry(first, unsafe ? "unsafe" : "safe", unsafe ? p_unsafe : 1.0 - p_unsafe);
      first.pop_back();  // reopen the entry's object for its top_logprobs
      out += R"({"content":[)" + first + R"(,"top_logprobs":[)" + top + "]}]}";
    } else {
      out += "null";
    }
    out += R"(}],"usage":)";
    out += usage_json(c);
    out += "}";
    reply.response = json_ok(std::move(out));
    return reply;
  }

  const std::string suffix = include_usage ? "],\"usage\":null}\n\n" : "]}\n\n";
  auto chunk = [&](std::string_view delta, std::string_view finish) {
    std::string out;
    out.reserve(prefix.size() + delta.size() + 80);
    out += "data: ";
    out += prefix;
    out += R"({"index":0,"delta":)";
    out += delta;
    out += R"(,"logprobs":null,"finish_reason":)";
    out += finish;
    out += '}';
    out += suffix;
    return out;
  };
  StreamReply s;
  s.content_type = "text/event-stream";
  s.head = chunk(R"({"role":"assistant","content":""})", "null");
  if (c.tool) {
    std::string delta = R"({"tool_calls":[)";
    append_tool_call(delta, *c.tool, true);
    delta += "]}";
    s.tokens.push_back(chunk(delta, "null"));
  } else {
    s.tokens.reserve(c.tokens.size());
    for (const auto& token : c.tokens) {
      std::string delta = R"({"content":)";
      append_json_string(delta, token);
      delta += "}";
      s.tokens.push_back(chunk(delta, "null"));
    }
  }
  s.tail = chunk("{}", std::string("\"") + finish_reason(c) + "\"");
  if (include_usage) {
    s.tail += "data: " + object_prefix(id, "chat.completion.chunk", created, model) +
              R"(],"usage":)" + usage_json(c) + "}\n\n";
  }
  s.tail += "data: [DONE]\n\n";
  reply.stream = std::move(s);
  return reply;
}

Reply completions(const HttpRequest& request, State& state) {
  const json::object body = parse_body(request.body);
  const std::string model = require_model(body);
  const json::value* prompt_value = body.if_contains("prompt");
  std::string prompt;
  if (prompt_value != nullptr && prompt_value->is_string()) {
    prompt = prompt_value->get_string();
  } else if (prompt_value != nullptr && prompt_value->is_array() &&
             prompt_value->get_array().size() == 1 &&
             prompt_value->get_array().front().is_string()) {
    prompt = prompt_value->get_array().front().get_string();
  } else {
    throw FakeError(400, "'prompt' must be a string (or an array of one string)", "prompt");
  }
  const bool stream = bool_field(body, "stream").value_or(false);
  const bool include_usage = include_usage_of(body);
  const Completion c = generate(model, prompt, count_words(prompt), int_field(body, "max_tokens"));
  const std::string id = "cmpl-fake-" + std::to_string(state.next_id());
  const std::string prefix = object_prefix(id, "text_completion", unix_seconds(), model);
  auto choice = [&](std::string_view text, std::string_view finish) {
    std::string out = R"({"text":)";
    append_json_string(out, text);
    out += R"(,"index":0,"logprobs":null,"finish_reason":)";
    out += finish;
    out += "}";
    return out;
  };
  const std::string finish = std::string("\"") + finish_reason(c) + "\"";
  Reply reply;
  if (!stream) {
    reply.response =
        json_ok(prefix + choice(c.content, finish) + R"(],"usage":)" + usage_json(c) + "}");
    return reply;
  }
  StreamReply s;
  s.content_type = "text/event-stream";
  s.tokens.reserve(c.tokens.size());
  for (const auto& token : c.tokens) {
    s.tokens.push_back("data: " + prefix + choice(token, "null") + "]}\n\n");
  }
  s.tail = "data: " + prefix + choice("", finish) + "]}\n\n";
  if (include_usage) s.tail += "data: " + prefix + R"(],"usage":)" + usage_json(c) + "}\n\n";
  s.tail += "data: [DONE]\n\n";
  reply.stream = std::move(s);
  return reply;
}

Reply embeddings(const HttpRequest& request, State&) {
  const json::object body = parse_body(request.body);
  const std::string model = require_model(body);
  const std::vector<std::string> texts = embedding_inputs(body, false);
  const std::size_t dimensions = embedding_dimensions(body, model);
  const std::string format = string_field(body, "encoding_format").value_or("float");
  if (format != "float" && format != "base64") {
    throw FakeError(400, "'encoding_format' must be \"float\" or \"base64\"", "encoding_format");
  }
  std::size_t words = 0;
  std::string out = R"({"object":"list","data":[)";
  for (std::size_t i = 0; i < texts.size(); ++i) {
    words += count_words(texts[i]);
    if (i != 0) out += ",";
    out += R"({"object":"embedding","index":)";
    out += std::to_string(i);
    out += R"(,"embedding":)";
    const std::vector<double> vector = embed(model, texts[i], dimensions);
    if (format == "base64") {
      append_json_string(out, base64_float32(vector));
    } else {
      append_vector(out, vector);
    }
    out += "}";
  }
  out += R"(],"model":)";
  append_json_string(out, model);
  out += R"(,"usage":{"prompt_tokens":)" + std::to_string(words) + R"(,"total_tokens":)" +
         std::to_string(words) + "}}";
  Reply reply;
  reply.response = json_ok(std::move(out));
  return reply;
}

std::string model_object(std::string_view id) {
  std::string out = R"({"id":)";
  append_json_string(out, id);
  out +=
      R"(,"object":"model","created":)" + std::to_string(kModelCreated) + R"(,"owned_by":"fake"})";
  return out;
}

Reply list_models(const HttpRequest&, State&) {
  std::string out = R"({"object":"list","data":[)";
  for (std::size_t i = 0; i < kModels.size(); ++i) {
    if (i != 0) out += ",";
    out += model_object(kModels[i]);
  }
  out += "]}";
  Reply reply;
  reply.response = json_ok(std::move(out));
  return reply;
}

}  // namespace

void add_openai_routes(server::RouteTable& routes, const std::shared_ptr<State>& state) {
  auto route = [&](std::string method, std::string path, Builder build) {
    routes.add(server::Route{std::move(method), std::move(path),
                             model_handler(state, Protocol::kOpenAI, std::move(build)), "openai"});
  };
  route("POST", "/v1/chat/completions", chat_completions);
  route("POST", "/v1/completions", completions);
  route("POST", "/v1/embeddings", embeddings);
  route("GET", "/v1/models", list_models);
  route("GET", "/v1/models/{model_id:path}", [](const HttpRequest& request, State&) {
    // The route table decodes path parameters into the exchange; the path here is raw.
    std::string id = server::percent_decode(request.path.substr(std::string("/v1/models/").size()));
    if (!is_known_model(id)) {
      throw FakeError(404, "The model `" + id + "` does not exist.", "model", "model_not_found");
    }
    Reply reply;
    reply.response = json_ok(model_object(id));
    return reply;
  });
}

}  // namespace llama_stack::fake
