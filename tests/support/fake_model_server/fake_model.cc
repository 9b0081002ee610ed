#include "fake_model.h"

#include <algorithm>
#include <bit>
#include <cctype>
#include <charconv>
#include <chrono>
#include <cmath>
#include <ctime>

namespace llama_stack::fake {

bool is_known_model(std::string_view model) {
  return std::find(kModels.begin(), kModels.end(), model) != kModels.end();
}

std::string json_string(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 2);
  append_json_string(out, text);
  return out;
}

void append_json_number(std::string& out, double value) {
  if (!std::isfinite(value) || value == 0.0) value = 0.0;  // also turns -0 into 0
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
  out.append(buf, static_cast<std::size_t>(end - buf));
}

json::object parse_body(std::string_view body) {
  if (body.empty()) throw FakeError(400, "missing request body");
  json::value value;
  try {
    value = parse_json(body);
  } catch (const JsonSyntaxError& e) {
    throw FakeError(400, std::string("invalid JSON in request body: ") + e.what());
  }
  if (!value.is_object()) throw FakeError(400, "request body must be a JSON object");
  return std::move(value.get_object());
}

std::optional<std::int64_t> int_field(const json::object& object, std::string_view key) {
  const json::value* v = object.if_contains(key);
  if (v == nullptr || v->is_null()) return std::nullopt;
  if (v->is_int64()) return v->get_int64();
  if (v->is_uint64() && v->get_uint64() <= static_cast<std::uint64_t>(INT64_MAX)) {
    return static_cast<std::int64_t>(v->get_uint64());
  }
  if (v->is_double() && std::trunc(v->get_double()) == v->get_double() &&
      std::abs(v->get_double()) < 9e15) {
    return static_cast<std::int64_t>(v->get_double());
  }
  throw FakeError(400, "Invalid type for '" + std::string(key) + "': expected an integer",
                  std::string(key), "invalid_type");
}

std::optional<bool> bool_field(const json::object& object, std::string_view key) {
  const json::value* v = object.if_contains(key);
  if (v == nullptr || v->is_null()) return std::nullopt;
  if (v->is_bool()) return v->get_bool();
  throw FakeError(400, "Invalid type for '" + std::string(key) + "': expected a boolean",
                  std::string(key), "invalid_type");
}

std::optional<std::string> string_field(const json::object& object, std::string_view key) {
  const json::value* v = object.if_contains(key);
  if (v == nullptr || v->is_null()) return std::nullopt;
  if (v->is_string()) return std::string(v->get_string());
  throw FakeError(400, "Invalid type for '" + std::string(key) + "': expected a string",
                  std::string(key), "invalid_type");
}

namespace {
bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}
}  // namespace

std::vector<std::string_view> split_words(std::string_view text) {
  std::vector<std::string_view> words;
  std::size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && is_space(text[i])) ++i;
    const std::size_t start = i;
    while (i < text.size() && !is_space(text[i])) ++i;
    if (i > start) words.push_back(text.substr(start, i - start));
  }
  return words;
}

std::size_t count_words(std::string_view text) {
  std::size_t count = 0;
  bool in_word = false;
  for (char c : text) {
    const bool space = is_space(c);
    if (!space && !in_word) ++count;
    in_word = !space;
  }
  return count;
}

std::string content_text(const json::value* content) {
  if (content == nullptr || content->is_null()) return {};
  if (content->is_string()) return std::string(content->get_string());
  if (!content->is_array()) throw FakeError(400, "message content must be a string or an array");
  std::string text;
  for (const auto& part : content->get_array()) {
    if (part.is_string()) {  // tolerated: a bare string part
      if (!text.empty()) text.push_back(' ');
      text += part.get_string();
      continue;
    }
    if (!part.is_object()) throw FakeError(400, "content parts must be objects");
    const auto& object = part.get_object();
    const json::value* type = object.if_contains("type");
    const json::value* part_text = object.if_contains("text");
    if (type != nullptr && type->is_string() && type->get_string() == "text" &&
        part_text != nullptr && part_text->is_string()) {
      if (!text.empty()) text.push_back(' ');
      text += part_text->get_string();
    }
  }
  return text;
}

ChatInput read_messages(const json::array& messages) {
  ChatInput input;
  for (std::size_t i = 0; i < messages.size(); ++i) {
    if (!messages[i].is_object()) {
      throw FakeError(400, "messages[" + std::to_string(i) + "] must be an object", "messages");
    }
    const auto& message = messages[i].get_object();
    const json::value* role = message.if_contains("role");
    if (role == nullptr || !role->is_string()) {
      throw FakeError(400, "messages[" + std::to_string(i) + "].role is required", "messages");
    }
    std::string text = content_text(message.if_contains("content"));
    input.prompt_tokens += count_words(text);
    const bool is_user = role->get_string() == "user";
    input.last_is_tool = role->get_string() == "tool";
    if (input.last_is_tool) input.last_tool_text = text;
    if (is_user) input.last_user_text = std::move(text);
    input.last_is_user = is_user;
  }
  return input;
}

std::optional<ToolCallPlan> tool_to_call(const json::object& request, const ChatInput& input) {
  const json::value* tools = request.if_contains("tools");
  if (tools == nullptr || !tools->is_array() || tools->get_array().empty()) return std::nullopt;
  const std::string& text = input.last_user_text;
  const std::size_t at = text.find("call tool");
  if (!input.last_is_user || at == std::string::npos) return std::nullopt;
  auto name_of = [](const json::value& tool) -> std::optional<std::string> {
    if (!tool.is_object()) return std::nullopt;
    const json::value* function = tool.get_object().if_contains("function");
    const json::object* holder = function != nullptr && function->is_object()
                                     ? &function->get_object()
                                     : &tool.get_object();  // tolerate {name: ...}
    const json::value* name = holder->if_contains("name");
    if (name == nullptr || !name->is_string()) return std::nullopt;
    return std::string(name->get_string());
  };
  ToolCallPlan plan;
  const std::vector<std::string_view> words = split_words(std::string_view(text).substr(at + 9));
  for (const auto& tool : tools->get_array()) {
    const std::optional<std::string> name = name_of(tool);
    if (name && !words.empty() && words.front() == *name) plan.name = *name;
  }
  if (plan.name.empty()) {
    const std::optional<std::string> first = name_of(tools->get_array().front());
    if (!first) throw FakeError(400, "tools[0].function.name is required", "tools");
    plan.name = *first;
  }
  plan.arguments = std::string(kToolArguments);
  const std::size_t open = text.find('{', at);
  const std::size_t close = text.rfind('}');
  if (text.find("broken arguments") != std::string::npos) {
    plan.arguments = "{\"location\": broken";
  } else if (open != std::string::npos && close != std::string::npos && close > open) {
    try {
      const json::value args = parse_json(std::string_view(text).substr(open, close - open + 1));
      if (args.is_object()) plan.arguments = to_json(args);
    } catch (const std::exception&) {
    }
  }
  return plan;
}

Completion generate(std::string_view model, std::string_view user_text, std::size_t prompt_tokens,
                    std::optional<std::int64_t> max_tokens, std::optional<ToolCallPlan> tool,
                    std::string_view lead) {
  Completion c;
  c.prompt_tokens = prompt_tokens;
  if (tool) {
    c.tool = std::move(tool);
    c.completion_tokens = 1;
    return c;
  }
  std::string text;
  if (user_text.starts_with("Task: Check if there is unsafe content")) {
    // A Llama Guard prompt: judge the conversation block.
    const auto begin = user_text.find("<BEGIN CONVERSATION>");
    const auto end = user_text.find("<END CONVERSATION>");
    std::string_view conversation =
        begin != std::string_view::npos && end != std::string_view::npos && end > begin
            ? user_text.substr(begin, end - begin)
            : user_text;
    // As Llama Guard: only the last message of the conversation is judged.
    const auto last_user = conversation.rfind("\n\nUser: ");
    const auto last_agent = conversation.rfind("\n\nAssistant: ");
    std::size_t last = std::string_view::npos;
    if (last_user != std::string_view::npos) last = last_user;
    if (last_agent != std::string_view::npos &&
        (last == std::string_view::npos || last_agent > last)) {
      last = last_agent;
    }
    if (last != std::string_view::npos) conversation.remove_prefix(last);
    auto has = [&](std::string_view word) {
      return conversation.find(word) != std::string_view::npos;
    };
    if (has("confuse the guard")) {
      text = "I am not sure about that one";
    } else if (has("hateful")) {
      text = "unsafe\nS10,S1";
      c.unsafe_probability = 0.95;
    } else if (has("kill")) {
      text = "unsafe\nS1";
      c.unsafe_probability = 0.9;
    } else if (has("mildly violent")) {
      text = "unsafe\nS1";
      c.unsafe_probability = 0.4;
    } else if (has("shoplift")) {
      text = "unsafe\nS2";
      c.unsafe_probability = 0.6;
    } else {
      text = "safe";
      c.unsafe_probability = 0.02;
    }
  } else {
    text.reserve(32 + model.size() + user_text.size());
    text.append("Hello from ").append(model).append("! ").append(lead).append(user_text);
  }
  std::vector<std::string_view> words = split_words(text);
  if (max_tokens && *max_tokens >= 0 && static_cast<std::uint64_t>(*max_tokens) < words.size()) {
    words.resize(static_cast<std::size_t>(*max_tokens));
    c.truncated = true;
  }
  c.tokens.reserve(words.size());
  for (std::size_t i = 0; i < words.size(); ++i) {
    std::string token(words[i]);
    if (i + 1 < words.size()) token.push_back(' ');
    c.content += token;
    c.tokens.push_back(std::move(token));
  }
  c.completion_tokens = c.tokens.size();
  return c;
}

std::vector<std::string> embedding_inputs(const json::object& body, bool allow_empty) {
  const json::value* input = body.if_contains("input");
  std::vector<std::string> texts;
  if (input != nullptr && input->is_string()) {
    texts.emplace_back(input->get_string());
    return texts;
  }
  if (input != nullptr && input->is_array()) {
    for (const auto& item : input->get_array()) {
      if (!item.is_string()) {
        throw FakeError(400, "'input' must be a string or an array of strings", "input");
      }
      texts.emplace_back(item.get_string());
    }
    if (!texts.empty() || allow_empty) return texts;
  }
  if ((input == nullptr || input->is_null()) && allow_empty) return texts;
  throw FakeError(400, "'input' must be a string or a non-empty array of strings", "input");
}

std::size_t embedding_dimensions(const json::object& body, std::string_view model) {
  const std::optional<std::int64_t> dimensions = int_field(body, "dimensions");
  if (!dimensions) {
    if (model == "bow-embed-384") return 384;
    return model == "bow-embed" ? kBowDimensions : kDefaultDimensions;
  }
  if (*dimensions < 1 || *dimensions > kMaxDimensions) {
    throw FakeError(400, "'dimensions' must be between 1 and " + std::to_string(kMaxDimensions),
                    "dimensions");
  }
  return static_cast<std::size_t>(*dimensions);
}

std::uint32_t fnv1a32(std::string_view text) {
  std::uint32_t hash = 2166136261u;
  for (unsigned char c : text) {
    hash ^= c;
    hash *= 16777619u;
  }
  return hash;
}

std::vector<double> bag_of_words(std::string_view text, std::size_t dimensions) {
  std::vector<double> vector(dimensions, 0.0);
  std::string word;
  auto flush = [&] {
    if (word.empty()) return;
    vector[fnv1a32(word) % dimensions] += 1.0;
    word.clear();
  };
  for (unsigned char c : text) {
    if (std::isalnum(c) || c >= 0x80) {
      word.push_back(static_cast<char>(std::tolower(c)));
    } else {
      flush();
    }
  }
  flush();
  double norm = 0.0;
  for (double v : vector) norm += v * v;
  norm = std::sqrt(norm);
  for (double& v : vector) v = norm > 0 ? std::round(v / norm * 1e6) / 1e6 : 0.0;
  return vector;
}

std::vector<double> embed(std::string_view model, std::string_view text, std::size_t dimensions) {
  if (model.starts_with("bow-embed")) return bag_of_words(text, dimensions);
  const double base = static_cast<double>(fnv1a32(text));
  std::vector<double> vector(dimensions);
  for (std::size_t i = 0; i < dimensions; ++i) {
    double v = std::round(std::sin(base + static_cast<double>(i)) * 1e6) / 1e6;
    vector[i] = v == 0.0 ? 0.0 : v;
  }
  return vector;
}

void append_vector(std::string& out, const std::vector<double>& vector) {
  out.push_back('[');
  for (std::size_t i = 0; i < vector.size(); ++i) {
    if (i != 0) out.push_back(',');
    append_json_number(out, vector[i]);
  }
  out.push_back(']');
}

std::string base64_float32(const std::vector<double>& vector) {
  std::string bytes;
  bytes.reserve(vector.size() * 4);
  for (double v : vector) {
    const auto bits = std::bit_cast<std::uint32_t>(static_cast<float>(v));
    for (int shift = 0; shift < 32; shift += 8) bytes.push_back(static_cast<char>(bits >> shift));
  }
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    const std::uint32_t n = (static_cast<unsigned char>(bytes[i]) << 16) |
                            (static_cast<unsigned char>(bytes[i + 1]) << 8) |
                            static_cast<unsigned char>(bytes[i + 2]);
    out.push_back(kAlphabet[(n >> 18) & 63]);
    out.push_back(kAlphabet[(n >> 12) & 63]);
    out.push_back(kAlphabet[(n >> 6) & 63]);
    out.push_back(kAlphabet[n & 63]);
  }
  if (const std::size_t rest = bytes.size() - i; rest > 0) {
    std::uint32_t n = static_cast<unsigned char>(bytes[i]) << 16;
    if (rest == 2) n |= static_cast<unsigned char>(bytes[i + 1]) << 8;
    out.push_back(kAlphabet[(n >> 18) & 63]);
    out.push_back(kAlphabet[(n >> 12) & 63]);
    out.push_back(rest == 2 ? kAlphabet[(n >> 6) & 63] : '=');
    out.push_back('=');
  }
  return out;
}

std::int64_t unix_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string rfc3339_now() {
  const auto now = std::chrono::system_clock::now();
  const auto micros =
      std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count();
  const std::time_t seconds = static_cast<std::time_t>(micros / 1000000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buf[64];
  const std::size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  std::string out(buf, n);
  char frac[16];
  std::snprintf(frac, sizeof frac, ".%06lldZ", static_cast<long long>(micros % 1000000));
  out += frac;
  return out;
}

}  // namespace llama_stack::fake
