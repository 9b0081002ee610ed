// The inference store: OpenAI chat completions recorded for
// GET /v1/openai/v1/chat/completions[/{id}] (Llama Stack's `inference_store`).
// Table chat_completions(id, created, model, choices, input_messages, owner,
// seq) in a SqlStore (SQLite today; any backend of sql_store.h). `seq` orders
// completions created in the same second by arrival.
//
// Writes are queued and done by one writer thread, off the request path;
// reads first wait for queued writes, so a client reads its own writes.
// Nothing is dropped: when the queue is full, record() waits.
//
// Thread-safety: safe for concurrent use.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "core/storage/sql_store.h"
#include "core/util/json.h"

namespace llama_stack::storage {

class InferenceStore {
 public:
  // Opens (creating folders and table). Throws StorageError.
  explicit InferenceStore(const std::string& db_path);
  // On any SqlStore (creates or migrates the table). Throws StorageError.
  explicit InferenceStore(std::shared_ptr<SqlStore> store);
  ~InferenceStore();  // writes what is queued, then closes
  InferenceStore(const InferenceStore&) = delete;
  InferenceStore& operator=(const InferenceStore&) = delete;

  // `completion` is a chat.completion object (id, created, model, choices).
  // `owner` ({principal, attributes}, or null) is stored for access checks.
  void record(json::object completion, json::array input_messages, json::value owner = nullptr);

  // Decides whether the caller may see a record, given its stored owner
  // (null when recorded without authentication).
  using Visible = std::function<bool(const json::value& owner)>;

  struct Page {
    json::array data;  // chat.completion objects plus "input_messages"
    bool has_more = false;
  };
  // `after`: an id from a previous page (cursor); unknown → std::nullopt.
  // Records the caller may not see are skipped (they don't count toward limit).
  std::optional<Page> list(const std::optional<std::string>& after, int limit, bool descending,
                           const std::optional<std::string>& model, const Visible& visible = {});
  std::optional<json::object> get(const std::string& id, const Visible& visible = {});

  // Blocks until every queued record is written.
  void flush();

 private:
  struct Pending {
    json::object completion;
    json::array input_messages;
    json::value owner;
  };
  void writer_loop();
  void write(const Pending& pending);

  std::shared_ptr<SqlStore> store_;
  std::int64_t next_seq_ = 1;  // writer thread only (after construction)

  std::mutex queue_mutex_;
  std::condition_variable queue_changed_;
  std::deque<Pending> queue_;
  std::size_t in_flight_ = 0;
  bool stopping_ = false;
  std::thread writer_;
};

}  // namespace llama_stack::storage
