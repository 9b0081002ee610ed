#include "providers/inline/agents/response_items.h"

#include "core/routing/conversations_router.h"
#include "core/util/api_error.h"
#include "core/util/ids.h"
#include "core/util/json.h"

namespace llama_stack::providers::inline_::agents {
namespace {

// Content parts → chat content (a string when every part is text).
json::value chat_content(const json::value& content, bool assistant) {
  if (content.is_string()) return content;
  if (!content.is_array()) return "";
  json::array parts;
  std::string text;
  bool only_text = true;
  for (const auto& p : content.get_array()) {
    if (!p.is_object()) continue;
    const json::object& part = p.get_object();
    const std::string type = json_string(part, "type");
    if (type == "input_text" || type == "output_text" || type == "text") {
      if (!text.empty()) text += "\n";
      text += json_string(part, "text");
      parts.push_back(json::object{{"type", "text"}, {"text", json_string(part, "text")}});
    } else if (type == "refusal") {
      if (!text.empty()) text += "\n";
      text += json_string(part, "refusal");
      parts.push_back(json::object{{"type", "text"}, {"text", json_string(part, "refusal")}});
    } else if (type == "input_image" && !assistant) {
      only_text = false;
      parts.push_back(
          json::object{{"type", "image_url"},
                       {"image_url", json::object{{"url", json_string(part, "image_url")}}}});
    }
  }
  if (only_text || assistant) return json::value(text);
  return parts;
}

}  // namespace

json::array input_items(const json::value& input) {
  json::array out;
  if (input.is_string()) {
    out.push_back(json::object{{"type", "message"},
                               {"id", "msg_" + random_uuid4()},
                               {"role", "user"},
                               {"content", input}});
    return out;
  }
  if (!input.is_array() || input.get_array().empty()) {
    throw JsonFieldError("input", "Field 'input' must be a string or a non-empty list of items");
  }
  for (std::size_t i = 0; i < input.get_array().size(); ++i) {
    out.push_back(
        routing::conversation_item(input.get_array()[i], "input[" + std::to_string(i) + "]"));
  }
  return out;
}

json::array chat_messages(const json::array& items,
                          const std::optional<std::string>& instructions) {
  json::array messages;
  if (instructions && !instructions->empty()) {
    messages.push_back(json::object{{"role", "system"}, {"content", *instructions}});
  }
  for (const auto& v : items) {
    if (!v.is_object()) continue;
    const json::object& item = v.get_object();
    const std::string type = json_string(item, "type");
    if (type == "message") {
      std::string role = json_string(item, "role");
      if (role == "developer") role = "system";
      const json::value* content = item.if_contains("content");
      messages.push_back(json::object{
          {"role", role},
          {"content", content ? chat_content(*content, role == "assistant") : json::value("")}});
    } else if (type == "function_call") {
      json::object call{{"id", json_string(item, "call_id")},
                        {"type", "function"},
                        {"function", json::object{{"name", json_string(item, "name")},
                                                  {"arguments", json_string(item, "arguments")}}}};
      // Consecutive calls are one assistant message.
      if (!messages.empty() && messages.back().as_object().contains("tool_calls") &&
          json_string(messages.back().as_object(), "role") == "assistant") {
        messages.back().as_object()["tool_calls"].as_array().push_back(std::move(call));
      } else {
        messages.push_back(json::object{
            {"role", "assistant"}, {"content", nullptr}, {"tool_calls", json::array{call}}});
      }
    } else if (type == "function_call_output") {
      const json::value* output = item.if_contains("output");
      messages.push_back(
          json::object{{"role", "tool"},
                       {"tool_call_id", json_string(item, "call_id")},
                       {"content", output != nullptr && output->is_string()
                                       ? *output
                                       : json::value(output ? to_json(*output) : "")}});
    } else if (type == "file_search_call") {
      // What the model saw: its call and the results.
      const std::string id = json_string(item, "id");
      std::string query;
      if (const json::value* q = item.if_contains("queries");
          q && q->is_array() && !q->get_array().empty() && q->get_array()[0].is_string()) {
        query = std::string(q->get_array()[0].get_string());
      }
      messages.push_back(json::object{
          {"role", "assistant"},
          {"content", nullptr},
          {"tool_calls",
           json::array{json::object{
               {"id", id},
               {"type", "function"},
               {"function",
                json::object{{"name", "file_search"},
                             {"arguments", to_json(json::object{{"query", query}})}}}}}}});
      json::array results;
      if (const json::value* r = item.if_contains("results"); r && r->is_array()) {
        results = r->get_array();
      }
      messages.push_back(json::object{
          {"role", "tool"}, {"tool_call_id", id}, {"content", file_search_text(results)}});
    }
    // Other item kinds (web_search_call, mcp_*, reasoning) add nothing the model needs.
  }
  return messages;
}

ResponseTools response_tools(const json::value* tools) {
  ResponseTools out;
  if (tools == nullptr || tools->is_null()) return out;
  if (!tools->is_array()) throw JsonFieldError("tools", "Field 'tools' must be a list");
  for (std::size_t i = 0; i < tools->get_array().size(); ++i) {
    const std::string field = "tools[" + std::to_string(i) + "]";
    JsonReader r(tools->get_array()[i], field);
    const std::string type = r.required_string("type");
    if (type == "function") {
      json::object function{{"name", r.required_string("name")}};
      if (auto d = r.optional_string("description")) function["description"] = *d;
      if (const json::value* p = r.find("parameters"); p && p->is_object()) {
        function["parameters"] = *p;
      } else {
        function["parameters"] = json::object{{"type", "object"}, {"properties", json::object{}}};
      }
      out.chat_tools.push_back(
          json::object{{"type", "function"}, {"function", std::move(function)}});
    } else if (type == "file_search") {
      FileSearchTool fs;
      const json::array* ids = r.find_array("vector_store_ids");
      if (ids == nullptr || ids->empty()) {
        throw JsonFieldError(field + ".vector_store_ids",
                             "Field '" + field + ".vector_store_ids' must be a non-empty list");
      }
      fs.vector_store_ids = *ids;
      if (const json::value* f = r.find("filters"); f && !f->is_null()) fs.filters = *f;
      fs.max_num_results = r.optional_int("max_num_results").value_or(10);
      if (auto ro = r.find_object("ranking_options")) fs.ranking_options = ro->object();
      out.file_search = std::move(fs);
      out.chat_tools.push_back(json::object{
          {"type", "function"},
          {"function",
           json::object{
               {"name", "file_search"},
               {"description", "Search the user's files for information relevant to the query."},
               {"parameters",
                json::object{
                    {"type", "object"},
                    {"properties", json::object{{"query", json::object{{"type", "string"}}}}},
                    {"required", json::array{"query"}}}}}}});
    } else if (type == "web_search" || type == "web_search_preview") {
      out.web_search = true;
      out.chat_tools.push_back(json::object{
          {"type", "function"},
          {"function",
           json::object{{"name", "web_search"},
                        {"description", "Search the web for current information."},
                        {"parameters",
                         json::object{{"type", "object"},
                                      {"properties",
                                       json::object{{"query", json::object{{"type", "string"}}}}},
                                      {"required", json::array{"query"}}}}}}});
    } else if (type == "mcp") {
      McpTool mcp;
      mcp.server_label = r.required_string("server_label");
      mcp.server_url = r.required_string("server_url");
      if (auto h = r.find_object("headers")) mcp.headers = h->object();
      if (auto a = r.optional_string("authorization"))
        mcp.headers["Authorization"] = "Bearer " + *a;
      if (const json::value* allowed = r.find("allowed_tools"); allowed && !allowed->is_null()) {
        const json::value* names = allowed;
        if (allowed->is_object()) names = allowed->get_object().if_contains("tool_names");
        if (names == nullptr || !names->is_array()) {
          throw JsonFieldError(field + ".allowed_tools",
                               "Field '" + field + ".allowed_tools' must be a list of tool names");
        }
        mcp.allowed_tools.emplace();
        for (const auto& n : names->get_array()) {
          if (n.is_string()) mcp.allowed_tools->insert(std::string(n.get_string()));
        }
      }
      if (const json::value* approval = r.find("require_approval");
          approval != nullptr && !(approval->is_string() && approval->get_string() == "never")) {
        throw JsonFieldError(field + ".require_approval",
                             "Field '" + field +
                                 ".require_approval': only 'never' is supported "
                                 "(approval requests are not built yet)");
      }
      out.mcp.push_back(std::move(mcp));
    } else {
      throw JsonFieldError(field + ".type", "Field '" + field + ".type': tool type '" + type +
                                                "' is not available in this build (function, "
                                                "file_search, web_search, mcp)");
    }
  }
  return out;
}

json::value response_format(const json::value* text) {
  if (text == nullptr || !text->is_object()) return nullptr;
  const json::value* format = text->get_object().if_contains("format");
  if (format == nullptr || !format->is_object()) return nullptr;
  const json::object& f = format->get_object();
  const std::string type = json_string(f, "type");
  if (type == "text" || type.empty()) return nullptr;
  if (type == "json_object") return json::object{{"type", "json_object"}};
  if (type == "json_schema") {
    JsonReader r(f, "text.format");
    json::object schema{{"name", r.optional_string("name").value_or("response")}};
    if (const json::value* s = r.find("schema")) schema["schema"] = *s;
    if (auto strict = r.optional_bool("strict")) schema["strict"] = *strict;
    return json::object{{"type", "json_schema"}, {"json_schema", std::move(schema)}};
  }
  throw JsonFieldError("text.format.type",
                       "Field 'text.format.type' must be text, json_object or json_schema");
}

std::string file_search_text(const json::array& results) {
  std::string out = "file_search found " + std::to_string(results.size()) + " result(s):\n";
  std::size_t i = 0;
  for (const auto& r : results) {
    if (!r.is_object()) continue;
    const json::object& o = r.get_object();
    out += "[" + std::to_string(++i) + "] " + json_string(o, "filename") + ": " +
           json_string(o, "text") + "\n";
  }
  return out;
}

void ResponseEmitter::emit(std::string_view type, json::object event) {
  if (!sink_) return;
  json::object out{{"type", type}, {"sequence_number", sequence_++}};
  for (auto& [k, v] : event) out[k] = std::move(v);
  sink_(std::move(out));
}

void ResponseEmitter::response_event(std::string_view type, const json::object& response) {
  emit(type, json::object{{"response", response}});
}

void ResponseEmitter::text_delta(const std::string& delta) {
  if (!message_id_) {
    message_id_ = "msg_" + random_uuid4();
    message_index_ = output_index_++;
    message_text_.clear();
    emit("response.output_item.added",
         json::object{{"output_index", message_index_},
                      {"item", json::object{{"id", *message_id_},
                                            {"type", "message"},
                                            {"status", "in_progress"},
                                            {"role", "assistant"},
                                            {"content", json::array{}}}}});
    emit("response.content_part.added",
         json::object{
             {"item_id", *message_id_},
             {"output_index", message_index_},
             {"content_index", 0},
             {"part", json::object{
                          {"type", "output_text"}, {"text", ""}, {"annotations", json::array{}}}}});
  }
  message_text_ += delta;
  emit("response.output_text.delta", json::object{{"item_id", *message_id_},
                                                  {"output_index", message_index_},
                                                  {"content_index", 0},
                                                  {"delta", delta},
                                                  {"logprobs", json::array{}}});
}

std::optional<json::object> ResponseEmitter::end_message() {
  if (!message_id_) return std::nullopt;
  json::object part{
      {"type", "output_text"}, {"text", message_text_}, {"annotations", json::array{}}};
  emit("response.output_text.done", json::object{{"item_id", *message_id_},
                                                 {"output_index", message_index_},
                                                 {"content_index", 0},
                                                 {"text", message_text_},
                                                 {"logprobs", json::array{}}});
  emit("response.content_part.done", json::object{{"item_id", *message_id_},
                                                  {"output_index", message_index_},
                                                  {"content_index", 0},
                                                  {"part", part}});
  json::object item{{"id", *message_id_},
                    {"type", "message"},
                    {"status", "completed"},
                    {"role", "assistant"},
                    {"content", json::array{part}}};
  emit("response.output_item.done", json::object{{"output_index", message_index_}, {"item", item}});
  message_id_.reset();
  return item;
}

json::object ResponseEmitter::message(const std::string& text) {
  ++output_index_;
  return json::object{
      {"id", "msg_" + random_uuid4()},
      {"type", "message"},
      {"status", "completed"},
      {"role", "assistant"},
      {"content", json::array{json::object{
                      {"type", "output_text"}, {"text", text}, {"annotations", json::array{}}}}}};
}

json::object ResponseEmitter::refusal(const std::string& text) {
  const std::int64_t index = output_index_++;
  const std::string id = "msg_" + random_uuid4();
  json::object part{{"type", "refusal"}, {"refusal", text}};
  emit("response.output_item.added",
       json::object{{"output_index", index},
                    {"item", json::object{{"id", id},
                                          {"type", "message"},
                                          {"status", "in_progress"},
                                          {"role", "assistant"},
                                          {"content", json::array{}}}}});
  emit("response.content_part.added",
       json::object{{"item_id", id},
                    {"output_index", index},
                    {"content_index", 0},
                    {"part", json::object{{"type", "refusal"}, {"refusal", ""}}}});
  emit("response.refusal.delta",
       json::object{
           {"item_id", id}, {"output_index", index}, {"content_index", 0}, {"delta", text}});
  emit("response.refusal.done",
       json::object{
           {"item_id", id}, {"output_index", index}, {"content_index", 0}, {"refusal", text}});
  emit(
      "response.content_part.done",
      json::object{{"item_id", id}, {"output_index", index}, {"content_index", 0}, {"part", part}});
  json::object item{{"id", id},
                    {"type", "message"},
                    {"status", "completed"},
                    {"role", "assistant"},
                    {"content", json::array{part}}};
  emit("response.output_item.done", json::object{{"output_index", index}, {"item", item}});
  return item;
}

void ResponseEmitter::function_call(const json::object& item) {
  const std::int64_t index = output_index_++;
  json::object added = item;
  added["arguments"] = "";
  added["status"] = "in_progress";
  emit("response.output_item.added", json::object{{"output_index", index}, {"item", added}});
  emit("response.function_call_arguments.delta",
       json::object{
           {"item_id", item.at("id")}, {"output_index", index}, {"delta", item.at("arguments")}});
  emit("response.function_call_arguments.done", json::object{{"item_id", item.at("id")},
                                                             {"output_index", index},
                                                             {"arguments", item.at("arguments")}});
  emit("response.output_item.done", json::object{{"output_index", index}, {"item", item}});
}

void ResponseEmitter::tool_started(const json::object& item, std::string_view prefix,
                                   std::initializer_list<std::string_view> states) {
  emit("response.output_item.added", json::object{{"output_index", output_index_}, {"item", item}});
  for (std::string_view state : states) {
    emit(std::string(prefix) + "." + std::string(state),
         json::object{{"item_id", item.at("id")}, {"output_index", output_index_}});
  }
}

void ResponseEmitter::mcp_arguments(const json::object& item) {
  emit("response.mcp_call_arguments.delta", json::object{{"item_id", item.at("id")},
                                                         {"output_index", output_index_},
                                                         {"delta", item.at("arguments")}});
  emit("response.mcp_call_arguments.done", json::object{{"item_id", item.at("id")},
                                                        {"output_index", output_index_},
                                                        {"arguments", item.at("arguments")}});
}

void ResponseEmitter::tool_done(const json::object& item, std::string_view prefix, bool failed) {
  emit(std::string(prefix) + (failed ? ".failed" : ".completed"),
       json::object{{"item_id", item.at("id")}, {"output_index", output_index_}});
  emit("response.output_item.done", json::object{{"output_index", output_index_}, {"item", item}});
  ++output_index_;
}

}  // namespace llama_stack::providers::inline_::agents
