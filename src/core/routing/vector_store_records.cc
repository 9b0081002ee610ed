#include "core/routing/vector_store_records.h"

#include <algorithm>

#include "core/log/log.h"
#include "core/util/json.h"

namespace llama_stack::routing {
namespace {

constexpr std::string_view kStorePrefix = "vector_stores:v1::";
constexpr std::string_view kFilePrefix = "vector_store_files:v1::";
constexpr std::string_view kBatchPrefix = "vector_store_batches:v1::";

std::string store_key(const std::string& id) {
  return std::string(kStorePrefix) + id;
}
std::string file_key(const std::string& store_id, const std::string& file_id) {
  return std::string(kFilePrefix) + store_id + "::" + file_id;
}
std::string batch_key(const std::string& store_id, const std::string& batch_id) {
  return std::string(kBatchPrefix) + store_id + "::" + batch_id;
}

// The "order" field our records carry (creation order within a second).
std::int64_t order_of(const json::value& record) {
  const json::value* v = record.as_object().if_contains("order");
  return v != nullptr && v->is_int64() ? v->get_int64() : 0;
}

}  // namespace

VectorStoreRecords::VectorStoreRecords(std::shared_ptr<storage::KVStore> store)
    : kv_(std::move(store)) {}

void VectorStoreRecords::write(const std::string& key, const json::object& record) {
  kv_->set(key, to_json(record));
}

std::size_t VectorStoreRecords::load() {
  std::lock_guard lock(mutex_);
  entries_.clear();
  for (const auto& [key, value] : kv_->scan_prefix(kStorePrefix)) {
    try {
      const json::value record = parse_json(value);
      Entry entry;
      entry.store = apis::VectorStore::from_record(record);
      entry.order = order_of(record);
      next_order_ = std::max(next_order_, entry.order + 1);
      std::string id = entry.store.id;
      entries_[id] = std::move(entry);
    } catch (const std::exception& e) {
      LS_WARN(kCore, "vector stores: unreadable record '{}' skipped: {}", key, e.what());
    }
  }
  std::vector<std::pair<std::string, json::object>> rewrites;
  for (const auto& [key, value] : kv_->scan_prefix(kFilePrefix)) {
    try {
      const json::value record = parse_json(value);
      apis::VectorStoreFile file = apis::VectorStoreFile::from_record(record);
      auto it = entries_.find(file.vector_store_id);
      if (it == entries_.end()) continue;  // its store is gone
      if (file.status == "in_progress") {
        file.status = "failed";
        file.last_error = apis::VectorStoreFileError{
            "server_error", "indexing was interrupted by a server restart; attach the file again"};
        json::object r = file.to_record();
        r["order"] = order_of(record);
        rewrites.emplace_back(key, std::move(r));
      }
      const std::int64_t order = order_of(record);
      next_order_ = std::max(next_order_, order + 1);
      std::string id = file.id;  // (the right side of = is evaluated first)
      it->second.files[id] = {order, std::move(file)};
    } catch (const std::exception& e) {
      LS_WARN(kCore, "vector stores: unreadable record '{}' skipped: {}", key, e.what());
    }
  }
  for (const auto& [key, value] : kv_->scan_prefix(kBatchPrefix)) {
    try {
      apis::VectorStoreFileBatch batch = apis::VectorStoreFileBatch::from_record(parse_json(value));
      auto it = entries_.find(batch.vector_store_id);
      if (it == entries_.end()) continue;
      if (batch.status == "in_progress") {
        batch.status = "completed";
        rewrites.emplace_back(key, batch.to_record());
      }
      std::string id = batch.id;
      it->second.batches[id] = std::move(batch);
    } catch (const std::exception& e) {
      LS_WARN(kCore, "vector stores: unreadable record '{}' skipped: {}", key, e.what());
    }
  }
  if (!rewrites.empty()) {
    LS_WARN(kCore, "vector stores: {} record(s) were left in progress by the last run",
            rewrites.size());
    kv_->transaction([&] {
      for (const auto& [key, record] : rewrites) write(key, record);
    });
  }
  return entries_.size();
}

apis::VectorStore VectorStoreRecords::with_counts(const Entry& entry) const {
  apis::VectorStore s = entry.store;
  s.file_counts = {};
  s.usage_bytes = 0;
  for (const auto& [id, f] : entry.files) {
    s.file_counts.add(f.second.status);
    if (f.second.status == "completed") s.usage_bytes += f.second.usage_bytes;
  }
  return s;
}

apis::VectorStoreFileBatch VectorStoreRecords::with_counts(
    const Entry& entry, const apis::VectorStoreFileBatch& batch) const {
  apis::VectorStoreFileBatch b = batch;
  b.file_counts = {};
  for (const auto& id : b.file_ids) {
    // A file attached before the batch counts as it is; one removed from the
    // store meanwhile as cancelled.
    auto it = entry.files.find(id);
    b.file_counts.add(it != entry.files.end() ? it->second.second.status : "cancelled");
  }
  return b;
}

std::vector<apis::VectorStore> VectorStoreRecords::stores() const {
  std::lock_guard lock(mutex_);
  std::vector<const Entry*> sorted;
  for (const auto& [id, entry] : entries_) sorted.push_back(&entry);
  std::sort(sorted.begin(), sorted.end(), [](const Entry* a, const Entry* b) {
    return a->store.created_at != b->store.created_at ? a->store.created_at < b->store.created_at
                                                      : a->order < b->order;
  });
  std::vector<apis::VectorStore> out;
  out.reserve(sorted.size());
  for (const Entry* e : sorted) out.push_back(with_counts(*e));
  return out;
}

std::optional<apis::VectorStore> VectorStoreRecords::store(const std::string& id) const {
  std::lock_guard lock(mutex_);
  auto it = entries_.find(id);
  if (it == entries_.end()) return std::nullopt;
  return with_counts(it->second);
}

void VectorStoreRecords::put_store(const apis::VectorStore& store) {
  std::lock_guard lock(mutex_);
  auto [it, created] = entries_.try_emplace(store.id);
  if (created) it->second.order = next_order_++;
  json::object record = store.to_record();
  record["order"] = it->second.order;
  write(store_key(store.id), record);
  it->second.store = store;
}

void VectorStoreRecords::remove_store(const std::string& id) {
  std::lock_guard lock(mutex_);
  auto it = entries_.find(id);
  if (it == entries_.end()) return;
  kv_->transaction([&] {
    for (const auto& [file_id, f] : it->second.files) kv_->remove(file_key(id, file_id));
    for (const auto& [batch_id, b] : it->second.batches) kv_->remove(batch_key(id, batch_id));
    kv_->remove(store_key(id));
  });
  entries_.erase(it);
}

std::vector<apis::VectorStoreFile> VectorStoreRecords::files(
    const std::string& store_id, const std::optional<std::string>& filter) const {
  std::lock_guard lock(mutex_);
  std::vector<apis::VectorStoreFile> out;
  auto it = entries_.find(store_id);
  if (it == entries_.end()) return out;
  std::vector<const std::pair<std::int64_t, apis::VectorStoreFile>*> sorted;
  for (const auto& [id, f] : it->second.files) {
    if (!filter || f.second.status == *filter) sorted.push_back(&f);
  }
  std::sort(sorted.begin(), sorted.end(), [](const auto* a, const auto* b) {
    return a->second.created_at != b->second.created_at
               ? a->second.created_at < b->second.created_at
               : a->first < b->first;
  });
  for (const auto* f : sorted) out.push_back(f->second);
  return out;
}

std::optional<apis::VectorStoreFile> VectorStoreRecords::file(const std::string& store_id,
                                                              const std::string& file_id) const {
  std::lock_guard lock(mutex_);
  auto it = entries_.find(store_id);
  if (it == entries_.end()) return std::nullopt;
  auto f = it->second.files.find(file_id);
  if (f == it->second.files.end()) return std::nullopt;
  return f->second.second;
}

bool VectorStoreRecords::put_file(const apis::VectorStoreFile& file) {
  std::lock_guard lock(mutex_);
  auto it = entries_.find(file.vector_store_id);
  if (it == entries_.end()) return false;
  auto [f, created] = it->second.files.try_emplace(file.id);
  if (created) f->second.first = next_order_++;
  json::object record = file.to_record();
  record["order"] = f->second.first;
  try {
    write(file_key(file.vector_store_id, file.id), record);
  } catch (...) {
    if (created) it->second.files.erase(f);
    throw;
  }
  f->second.second = file;
  return true;
}

void VectorStoreRecords::remove_file(const std::string& store_id, const std::string& file_id) {
  std::lock_guard lock(mutex_);
  auto it = entries_.find(store_id);
  if (it == entries_.end()) return;
  kv_->remove(file_key(store_id, file_id));
  it->second.files.erase(file_id);
}

std::map<std::string, json::object> VectorStoreRecords::attributes(
    const std::string& store_id) const {
  std::lock_guard lock(mutex_);
  std::map<std::string, json::object> out;
  auto it = entries_.find(store_id);
  if (it == entries_.end()) return out;
  for (const auto& [id, f] : it->second.files) out[id] = f.second.attributes;
  return out;
}

std::optional<apis::VectorStoreFileBatch> VectorStoreRecords::batch(
    const std::string& store_id, const std::string& batch_id) const {
  std::lock_guard lock(mutex_);
  auto it = entries_.find(store_id);
  if (it == entries_.end()) return std::nullopt;
  auto b = it->second.batches.find(batch_id);
  if (b == it->second.batches.end()) return std::nullopt;
  return with_counts(it->second, b->second);
}

bool VectorStoreRecords::put_batch(const apis::VectorStoreFileBatch& batch) {
  std::lock_guard lock(mutex_);
  auto it = entries_.find(batch.vector_store_id);
  if (it == entries_.end()) return false;
  write(batch_key(batch.vector_store_id, batch.id), batch.to_record());
  it->second.batches[batch.id] = batch;
  return true;
}

}  // namespace llama_stack::routing
