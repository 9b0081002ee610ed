#include "core/storage/inference_store.h"

#include <filesystem>

#include "core/log/log.h"
#include "llama_stack/storage/kvstore.h"

namespace llama_stack::storage {
namespace {

constexpr std::size_t kMaxQueue = 10'000;

constexpr const char* kTable = "chat_completions";

json::value owner_of(const SqlRow& row) {
  const std::string text = sql_text(row, "owner");
  if (text.empty()) return nullptr;
  try {
    return parse_json(text);
  } catch (const std::exception&) {
    return nullptr;
  }
}

json::object row_to_object(const SqlRow& row) {
  const std::string id = sql_text(row, "id");
  json::object out{{"id", id},
                   {"object", "chat.completion"},
                   {"created", sql_int(row, "created")},
                   {"model", sql_text(row, "model")}};
  try {
    out["choices"] = parse_json(sql_text(row, "choices"));
    out["input_messages"] = parse_json(sql_text(row, "input_messages"));
  } catch (const std::exception& e) {
    LS_WARN(kInference, "inference store row {} is corrupt: {}", id, e.what());
    out["choices"] = json::array{};
    out["input_messages"] = json::array{};
  }
  return out;
}

}  // namespace

InferenceStore::InferenceStore(const std::string& db_path)
    : InferenceStore([&] {
        try {
          return open_sqlite_sql_store(db_path);
        } catch (const StorageError& e) {
          throw StorageError("cannot open inference store '" + db_path + "': " + e.what());
        }
      }()) {}

InferenceStore::InferenceStore(std::shared_ptr<SqlStore> store) : store_(std::move(store)) {
  store_->create_table(kTable, {{"id", SqlType::kText, true},
                                {"created", SqlType::kInteger},
                                {"model", SqlType::kText},
                                {"choices", SqlType::kJson},
                                {"input_messages", SqlType::kJson},
                                {"owner", SqlType::kJson},
                                {"seq", SqlType::kInteger}});
  store_->create_index(kTable, "chat_completions_created", {"created"});
  // Rows from before `seq` existed get one, in the order of their creation.
  std::vector<SqlRow> legacy =
      store_->fetch({kTable, {{"seq", std::monostate{}}}, {{"created", false}}, {}, {}});
  if (auto last = store_->fetch_one({kTable, {}, {{"seq", true}}, {}, {}})) {
    next_seq_ = sql_int(*last, "seq") + 1;
  }
  for (auto& row : legacy) {
    row["seq"] = next_seq_++;
    store_->upsert(kTable, row);
  }
  writer_ = std::thread([this] { writer_loop(); });
}

InferenceStore::~InferenceStore() {
  {
    std::lock_guard lock(queue_mutex_);
    stopping_ = true;
  }
  queue_changed_.notify_all();
  if (writer_.joinable()) writer_.join();
}

void InferenceStore::record(json::object completion, json::array input_messages,
                            json::value owner) {
  std::unique_lock lock(queue_mutex_);
  queue_changed_.wait(lock, [this] { return queue_.size() < kMaxQueue || stopping_; });
  queue_.push_back({std::move(completion), std::move(input_messages), std::move(owner)});
  queue_changed_.notify_all();
}

void InferenceStore::writer_loop() {
  std::unique_lock lock(queue_mutex_);
  for (;;) {
    queue_changed_.wait(lock, [this] { return !queue_.empty() || stopping_; });
    if (queue_.empty() && stopping_) return;
    Pending pending = std::move(queue_.front());
    queue_.pop_front();
    ++in_flight_;
    lock.unlock();
    try {
      write(pending);
    } catch (const std::exception& e) {
      LS_ERROR(kInference, "inference store write failed: {}", e.what());
    }
    lock.lock();
    --in_flight_;
    queue_changed_.notify_all();
  }
}

void InferenceStore::write(const Pending& pending) {
  const auto& c = pending.completion;
  auto str = [&](std::string_view key) -> std::string {
    auto it = c.find(key);
    return it != c.end() && it->value().is_string() ? std::string(it->value().get_string()) : "";
  };
  std::int64_t created = 0;
  if (auto it = c.find("created"); it != c.end() && it->value().is_int64())
    created = it->value().get_int64();
  json::value choices = json::array{};
  if (auto it = c.find("choices"); it != c.end()) choices = it->value();
  store_->upsert(kTable, SqlRow{{"id", str("id")},
                                {"created", created},
                                {"model", str("model")},
                                {"choices", to_json(choices)},
                                {"input_messages", to_json(pending.input_messages)},
                                {"owner", to_json(pending.owner)},
                                {"seq", next_seq_++}});
}

void InferenceStore::flush() {
  std::unique_lock lock(queue_mutex_);
  queue_changed_.wait(lock, [this] { return queue_.empty() && in_flight_ == 0; });
}

std::optional<InferenceStore::Page> InferenceStore::list(const std::optional<std::string>& after,
                                                         int limit, bool descending,
                                                         const std::optional<std::string>& model,
                                                         const Visible& visible) {
  flush();
  SqlQuery query{kTable, {}, {{"created", descending}, {"seq", descending}}, {}, {}};
  if (model) query.where.emplace_back("model", *model);
  if (after) {
    auto cursor = store_->fetch_one({kTable, {{"id", *after}}, {}, {}, {}});
    if (!cursor) return std::nullopt;
    query.after = {sql_int(*cursor, "created"), sql_int(*cursor, "seq")};
  }
  Page page;
  store_->scan(query, [&](SqlRow row) {
    if (visible && !visible(owner_of(row))) return true;
    if (static_cast<int>(page.data.size()) == limit) {
      page.has_more = true;
      return false;
    }
    page.data.push_back(row_to_object(row));
    return true;
  });
  return page;
}

std::optional<json::object> InferenceStore::get(const std::string& id, const Visible& visible) {
  flush();
  auto row = store_->fetch_one({kTable, {{"id", id}}, {}, {}, {}});
  if (!row) return std::nullopt;
  if (visible && !visible(owner_of(*row))) return std::nullopt;
  return row_to_object(*row);
}

}  // namespace llama_stack::storage
