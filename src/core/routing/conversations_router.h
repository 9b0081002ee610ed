// ConversationsRouter: the Conversations API (apis::ConversationsApi), kept
// in the metadata store — "conversation:<id>" → {id, created_at, metadata,
// owner}; "conversation_item:<id>:<seq, 12 digits>" → an item (with its id).
// A conversation belongs to whoever created it: others get 404 (access
// policy type "conversation"). Responses reach it through ProviderDeps.
#pragma once

#include <memory>
#include <mutex>

#include "core/routing/resource_access.h"
#include "llama_stack/apis/responses.h"
#include "llama_stack/storage/kvstore.h"

namespace llama_stack::routing {

class ConversationsRouter final : public apis::ConversationsApi {
 public:
  ConversationsRouter(const ResourceAccess& access, std::shared_ptr<storage::KVStore> store)
      : access_(access), kv_(std::move(store)) {}

  async::Task<json::object> create_conversation(const apis::CallContext& context, json::array items,
                                                json::object metadata) override;
  async::Task<json::object> get_conversation(const apis::CallContext& context,
                                             std::string conversation_id) override;
  async::Task<json::object> update_conversation(const apis::CallContext& context,
                                                std::string conversation_id,
                                                json::object metadata) override;
  async::Task<void> delete_conversation(const apis::CallContext& context,
                                        std::string conversation_id) override;
  async::Task<json::object> add_items(const apis::CallContext& context, std::string conversation_id,
                                      json::array items) override;
  async::Task<json::object> list_items(const apis::CallContext& context,
                                       std::string conversation_id,
                                       apis::CursorQuery query) override;
  async::Task<json::array> all_items(const apis::CallContext& context,
                                     std::string conversation_id) override;
  async::Task<json::object> get_item(const apis::CallContext& context, std::string conversation_id,
                                     std::string item_id) override;
  async::Task<void> delete_item(const apis::CallContext& context, std::string conversation_id,
                                std::string item_id) override;

 private:
  // The stored record, readable by the caller (404 otherwise).
  json::object readable(const apis::CallContext& context, const std::string& id) const;
  // (key, item) of every item, oldest first.
  std::vector<std::pair<std::string, json::object>> items_of(const std::string& id) const;
  json::array append(const std::string& id, json::array items);

  const ResourceAccess& access_;
  std::shared_ptr<storage::KVStore> kv_;
  std::mutex mutex_;  // item sequence numbers
};

// One page of `items` (oldest first, each with an "id") as an OpenAI list
// {object, data, first_id, last_id, has_more}; 400 for an unknown `after`.
json::object cursor_list(std::vector<json::object> items, const apis::CursorQuery& query);

// Checks an input/output item and gives it an id when it has none (400
// naming `field` for an item without a known type or role).
json::object conversation_item(json::value item, const std::string& field);

}  // namespace llama_stack::routing
