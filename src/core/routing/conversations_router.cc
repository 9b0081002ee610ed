#include "core/routing/conversations_router.h"

#include <algorithm>
#include <cstdio>

#include "core/util/api_error.h"
#include "core/util/ids.h"
#include "core/util/json.h"

namespace llama_stack::routing {
namespace {

std::string conversation_key(const std::string& id) {
  return "conversation:" + id;
}
std::string item_prefix(const std::string& id) {
  return "conversation_item:" + id + ":";
}

ApiError conversation_not_found(const std::string& id) {
  return ApiError::not_found("Conversation '" + id + "' not found");
}

json::object public_conversation(const json::object& record) {
  return json::object{{"id", record.at("id")},
                      {"object", "conversation"},
                      {"created_at", record.at("created_at")},
                      {"metadata", record.contains("metadata") ? record.at("metadata")
                                                               : json::value(json::object{})}};
}

void check_metadata(const json::object& metadata) {
  if (metadata.size() > 16) {
    throw JsonFieldError("metadata", "Field 'metadata' has more than 16 keys");
  }
  for (const auto& [k, v] : metadata) {
    if (!v.is_string() || k.size() > 64 || v.get_string().size() > 512) {
      throw JsonFieldError("metadata." + std::string(k),
                           "Field 'metadata." + std::string(k) +
                               "' must be a string of at most 512 characters (keys at most 64)");
    }
  }
}

}  // namespace

json::object cursor_list(std::vector<json::object> items, const apis::CursorQuery& query) {
  if (query.descending) std::reverse(items.begin(), items.end());
  auto begin = items.begin();
  if (query.after) {
    begin = std::find_if(items.begin(), items.end(), [&](const json::object& o) {
      const json::value* id = o.if_contains("id");
      return id != nullptr && id->is_string() && id->get_string() == *query.after;
    });
    if (begin == items.end()) {
      throw JsonFieldError("after", "Field 'after': '" + *query.after + "' is not in the list");
    }
    ++begin;
  }
  json::array data;
  auto it = begin;
  for (; it != items.end() && static_cast<std::int64_t>(data.size()) < query.limit; ++it) {
    data.push_back(*it);
  }
  json::object out{{"object", "list"}, {"data", data}, {"has_more", it != items.end()}};
  out["first_id"] = data.empty() ? json::value(nullptr) : data.front().as_object().at("id");
  out["last_id"] = data.empty() ? json::value(nullptr) : data.back().as_object().at("id");
  return out;
}

json::object conversation_item(json::value value, const std::string& field) {
  json::object* item = value.if_object();
  if (item == nullptr) throw JsonFieldError(field, "Field '" + field + "' must be an object");
  const json::value* type = json_field(*item, "type");
  std::string t = type != nullptr && type->is_string() ? std::string(type->get_string()) : "";
  if (t.empty()) {
    if (!json_field(*item, "role")) {
      throw JsonFieldError(field + ".type", "Field '" + field + ".type' is required");
    }
    t = "message";
    (*item)["type"] = "message";
  }
  static const char* kTypes[] = {
      "message",          "function_call",        "function_call_output",
      "file_search_call", "web_search_call",      "mcp_call",
      "mcp_list_tools",   "mcp_approval_request", "mcp_approval_response",
      "reasoning"};
  if (std::none_of(std::begin(kTypes), std::end(kTypes), [&](const char* k) { return t == k; })) {
    throw JsonFieldError(field + ".type",
                         "Field '" + field + ".type': unknown item type '" + t + "'");
  }
  if (t == "message") {
    const json::value* role = json_field(*item, "role");
    if (role == nullptr || !role->is_string()) {
      throw JsonFieldError(field + ".role", "Field '" + field + ".role' is required");
    }
    const json::value* content = json_field(*item, "content");
    if (content == nullptr || !(content->is_string() || content->is_array())) {
      throw JsonFieldError(field + ".content",
                           "Field '" + field + ".content' must be a string or a list of parts");
    }
  }
  if (t == "function_call_output") {
    JsonReader r(*item, field);
    r.required_string("call_id");
  }
  if (!json_field(*item, "id")) {
    (*item)["id"] = (t == "message"         ? "msg_"
                     : t == "function_call" ? "fc_"
                                            : "item_") +
                    random_uuid4();
  }
  return std::move(*item);
}

json::object ConversationsRouter::readable(const apis::CallContext& context,
                                           const std::string& id) const {
  std::optional<std::string> stored = kv_->get(conversation_key(id));
  if (!stored) throw conversation_not_found(id);
  json::object record = parse_json(*stored).as_object();
  std::optional<apis::Owner> owner;
  if (const json::value* o = record.if_contains("owner")) owner = apis::Owner::from_json(*o);
  access_.check_read(context, "conversation", id, owner, conversation_not_found(id));
  return record;
}

std::vector<std::pair<std::string, json::object>> ConversationsRouter::items_of(
    const std::string& id) const {
  std::vector<std::pair<std::string, json::object>> out;
  for (auto& [key, value] : kv_->scan_prefix(item_prefix(id))) {
    json::value parsed = parse_json(value);
    if (parsed.is_object()) out.emplace_back(key, std::move(parsed.get_object()));
  }
  return out;  // keys end in a zero-padded sequence: oldest first
}

json::array ConversationsRouter::append(const std::string& id, json::array items) {
  std::lock_guard lock(mutex_);
  const auto existing = kv_->scan_prefix(item_prefix(id));
  std::uint64_t next = 0;
  if (!existing.empty()) {
    next = std::stoull(existing.back().first.substr(item_prefix(id).size())) + 1;
  }
  json::array out;
  kv_->transaction([&] {
    for (std::size_t i = 0; i < items.size(); ++i) {
      json::object item =
          conversation_item(std::move(items[i]), "items[" + std::to_string(i) + "]");
      char seq[16];
      std::snprintf(seq, sizeof seq, "%012llu", static_cast<unsigned long long>(next++));
      kv_->set(item_prefix(id) + seq, to_json(item));
      out.push_back(std::move(item));
    }
  });
  return out;
}

async::Task<json::object> ConversationsRouter::create_conversation(const apis::CallContext& context,
                                                                   json::array items,
                                                                   json::object metadata) {
  check_metadata(metadata);
  if (items.size() > 20) {
    throw JsonFieldError("items", "Field 'items' holds at most 20 items at creation");
  }
  const std::string id = "conv_" + random_hex(48);
  access_.check(context, auth::Action::kCreate, "conversation", id, context.user);
  json::object record{{"id", id}, {"created_at", unix_seconds()}, {"metadata", metadata}};
  if (context.user) record["owner"] = context.user->to_json();
  kv_->set(conversation_key(id), to_json(record));
  append(id, std::move(items));
  co_return public_conversation(record);
}

async::Task<json::object> ConversationsRouter::get_conversation(const apis::CallContext& context,
                                                                std::string conversation_id) {
  co_return public_conversation(readable(context, conversation_id));
}

async::Task<json::object> ConversationsRouter::update_conversation(const apis::CallContext& context,
                                                                   std::string conversation_id,
                                                                   json::object metadata) {
  json::object record = readable(context, conversation_id);
  std::optional<apis::Owner> owner;
  if (const json::value* o = record.if_contains("owner")) owner = apis::Owner::from_json(*o);
  access_.check(context, auth::Action::kUpdate, "conversation", conversation_id, owner);
  check_metadata(metadata);
  record["metadata"] = std::move(metadata);
  kv_->set(conversation_key(conversation_id), to_json(record));
  co_return public_conversation(record);
}

async::Task<void> ConversationsRouter::delete_conversation(const apis::CallContext& context,
                                                           std::string conversation_id) {
  json::object record = readable(context, conversation_id);
  std::optional<apis::Owner> owner;
  if (const json::value* o = record.if_contains("owner")) owner = apis::Owner::from_json(*o);
  access_.check(context, auth::Action::kDelete, "conversation", conversation_id, owner);
  const auto items = items_of(conversation_id);
  kv_->transaction([&] {
    for (const auto& entry : items) kv_->remove(entry.first);
    kv_->remove(conversation_key(conversation_id));
  });
  co_return;
}

async::Task<json::object> ConversationsRouter::add_items(const apis::CallContext& context,
                                                         std::string conversation_id,
                                                         json::array items) {
  readable(context, conversation_id);
  if (items.empty()) throw JsonFieldError("items", "Field 'items' must be a non-empty list");
  json::array added = append(conversation_id, std::move(items));
  json::object out{{"object", "list"}, {"data", added}, {"has_more", false}};
  out["first_id"] = added.front().as_object().at("id");
  out["last_id"] = added.back().as_object().at("id");
  co_return out;
}

async::Task<json::object> ConversationsRouter::list_items(const apis::CallContext& context,
                                                          std::string conversation_id,
                                                          apis::CursorQuery query) {
  readable(context, conversation_id);
  std::vector<json::object> items;
  for (auto& entry : items_of(conversation_id)) items.push_back(std::move(entry.second));
  co_return cursor_list(std::move(items), query);
}

async::Task<json::array> ConversationsRouter::all_items(const apis::CallContext& context,
                                                        std::string conversation_id) {
  readable(context, conversation_id);
  json::array out;
  for (auto& entry : items_of(conversation_id)) out.push_back(std::move(entry.second));
  co_return out;
}

async::Task<json::object> ConversationsRouter::get_item(const apis::CallContext& context,
                                                        std::string conversation_id,
                                                        std::string item_id) {
  readable(context, conversation_id);
  for (auto& entry : items_of(conversation_id)) {
    const json::value* id = entry.second.if_contains("id");
    if (id != nullptr && id->is_string() && id->get_string() == item_id) {
      co_return std::move(entry.second);
    }
  }
  throw ApiError::not_found("Item '" + item_id + "' not found in conversation '" + conversation_id +
                            "'");
}

async::Task<void> ConversationsRouter::delete_item(const apis::CallContext& context,
                                                   std::string conversation_id,
                                                   std::string item_id) {
  readable(context, conversation_id);
  for (const auto& entry : items_of(conversation_id)) {
    const json::value* id = entry.second.if_contains("id");
    if (id != nullptr && id->is_string() && id->get_string() == item_id) {
      kv_->remove(entry.first);
      co_return;
    }
  }
  throw ApiError::not_found("Item '" + item_id + "' not found in conversation '" + conversation_id +
                            "'");
}

}  // namespace llama_stack::routing
