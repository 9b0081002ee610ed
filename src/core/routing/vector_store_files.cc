// VectorStoresRouter: the files of a store (attach and index, list,
// retrieve, update attributes, content, remove) and file batches.
#include <algorithm>
#include <unordered_set>

#include "core/log/log.h"
#include "core/routing/vector_io_router.h"
#include "core/routing/vector_stores_router.h"
#include "core/util/api_error.h"
#include "core/util/ids.h"
#include "core/util/text_chunks.h"
#include "llama_stack/async/spawn.h"
#include "llama_stack/async/thread_pool.h"
#include "llama_stack/async/when_all.h"

namespace llama_stack::routing {
namespace {

ApiError file_not_found(const std::string& store_id, const std::string& file_id) {
  return ApiError::not_found("File '" + file_id + "' not found in vector store '" + store_id + "'");
}

ApiError batch_not_found(const std::string& store_id, const std::string& batch_id) {
  return ApiError::not_found("File batch '" + batch_id + "' not found in vector store '" +
                             store_id + "'");
}

void check_status_filter(const std::optional<std::string>& filter) {
  if (filter && *filter != "in_progress" && *filter != "completed" && *filter != "failed" &&
      *filter != "cancelled") {
    throw JsonFieldError("filter",
                         "Field 'filter' must be 'in_progress', 'completed', 'failed' or "
                         "'cancelled'");
  }
}

bool is_file_of(const apis::Chunk& chunk, const std::string& file_id) {
  const json::value* m = chunk.value.if_contains("metadata");
  if (m == nullptr || !m->is_object()) return false;
  const json::value* f = m->get_object().if_contains("file_id");
  return f != nullptr && f->is_string() && f->get_string() == file_id;
}

// The chunks of a file's text, as the vector IO API takes them.
json::array file_chunks(const apis::VectorStoreFile& file, const std::vector<TextChunk>& pieces,
                        std::size_t step) {
  json::array chunks;
  const std::int64_t now = unix_seconds();
  for (std::size_t i = 0; i < pieces.size(); ++i) {
    json::object metadata = file.attributes;  // ours below win over attributes of the same name
    metadata["document_id"] = file.id;
    metadata["file_id"] = file.id;
    metadata["filename"] = file.filename;
    metadata["token_count"] = pieces[i].tokens;
    const std::string chunk_id = derived_chunk_id(json::object{{"document_id", file.id}},
                                                  std::to_string(i) + ":" + pieces[i].text);
    const std::size_t start = i * step;
    json::object chunk_metadata{
        {"chunk_id", chunk_id},
        {"document_id", file.id},
        {"source", file.filename},
        {"chunk_window", std::to_string(start) + "-" + std::to_string(start + pieces[i].tokens)},
        {"chunk_tokenizer", "llama-stack-cpp-words"},
        {"content_token_count", pieces[i].tokens},
        {"created_timestamp", now},
        {"updated_timestamp", now}};
    chunks.push_back(json::object{{"content", pieces[i].text},
                                  {"metadata", std::move(metadata)},
                                  {"chunk_metadata", std::move(chunk_metadata)},
                                  {"chunk_id", chunk_id}});
  }
  return chunks;
}

}  // namespace

async::Task<apis::VectorStoreFile> VectorStoresRouter::index_file(const apis::CallContext& context,
                                                                  apis::VectorStore store,
                                                                  apis::VectorStoreFile file) {
  try {
    if (deps_.files == nullptr) {
      throw ApiError::not_implemented("Files API is not available: configure a files provider");
    }
    auto found = deps_.files->retrieve(context, file.id);
    apis::FileObject object = co_await std::move(found);
    file.filename = object.filename;
    auto read = deps_.files->content(context, file.id);
    std::string bytes = co_await std::move(read);
    if (!deps_.document_text || deps_.workers == nullptr) {
      throw ApiError::not_implemented("this server cannot read documents");
    }
    const std::int64_t size = static_cast<std::int64_t>(bytes.size());
    const auto window = static_cast<std::size_t>(file.chunking.max_chunk_size_tokens);
    const auto overlap = static_cast<std::size_t>(file.chunking.chunk_overlap_tokens);
    // Text extraction (PDF) and cutting are CPU work: on a worker.
    auto cut = async::offload<std::vector<TextChunk>>(context.executor, *deps_.workers, [&] {
      const std::string text =
          deps_.document_text(std::move(bytes), file.filename, "file '" + file.id + "'");
      std::vector<TextChunk> pieces = overlapped_chunks(text, window, overlap);
      std::erase_if(pieces, [](const TextChunk& c) {
        return c.text.find_first_not_of(" \t\r\n\f\v") == std::string::npos;
      });
      return pieces;
    });
    std::vector<TextChunk> pieces = co_await cut;
    if (pieces.empty()) {
      throw ApiError::bad_request("No chunks were generated from the file (it holds no text)");
    }
    json::array chunks = file_chunks(file, pieces, window - overlap);
    auto inserted = deps_.vector_io->insert(context, store.id, std::move(chunks), std::nullopt);
    co_await std::move(inserted);
    file.status = "completed";
    file.usage_bytes = size;
    file.chunks = static_cast<std::int64_t>(pieces.size());
    file.last_error.reset();
  } catch (const ApiError& e) {
    file.status = e.status() == 499 ? "cancelled" : "failed";
    file.last_error = apis::VectorStoreFileError{
        e.status() == 429 ? "rate_limit_exceeded" : "server_error", e.what()};
  } catch (const std::exception& e) {
    file.status = "failed";
    file.last_error = apis::VectorStoreFileError{"server_error", e.what()};
  }
  if (file.last_error) {
    LS_WARN(kCore, "vector store '{}': file '{}' {}: {}", store.id, file.id, file.status,
            file.last_error->message);
  }
  if (!records_.put_file(file)) {
    LS_INFO(kCore, "vector store '{}' was deleted while file '{}' was indexed", store.id, file.id);
  }
  co_return file;
}

async::Task<apis::VectorStoreFile> VectorStoresRouter::attach_file(
    const apis::CallContext& context, std::string id, apis::AttachFileRequest request) {
  const apis::VectorStore store = writable(context, id, auth::Action::kUpdate);
  check_attributes(request.attributes, "attributes");
  if (request.file_id.empty()) throw JsonFieldError("file_id", "Field 'file_id' is required");
  if (auto existing = records_.file(id, request.file_id)) co_return std::move(*existing);
  apis::VectorStoreFile file;
  file.id = request.file_id;
  file.vector_store_id = id;
  file.created_at = unix_seconds();
  file.chunking = request.chunking.value_or(store.chunking);
  file.attributes = std::move(request.attributes);
  if (!records_.put_file(file)) throw ApiError::not_found("Vector store '" + id + "' not found");
  auto indexed = index_file(context, store, std::move(file));
  co_return co_await std::move(indexed);
}

async::Task<apis::Page<apis::VectorStoreFile>> VectorStoresRouter::list_files(
    const apis::CallContext& context, std::string id, apis::PageQuery query) {
  readable(context, id);
  check_status_filter(query.filter);
  co_return page_of(records_.files(id, query.filter), query);
}

async::Task<apis::VectorStoreFile> VectorStoresRouter::retrieve_file(
    const apis::CallContext& context, std::string id, std::string file_id) {
  readable(context, id);
  std::optional<apis::VectorStoreFile> file = records_.file(id, file_id);
  if (!file) throw file_not_found(id, file_id);
  co_return std::move(*file);
}

async::Task<apis::VectorStoreFile> VectorStoresRouter::update_file(const apis::CallContext& context,
                                                                   std::string id,
                                                                   std::string file_id,
                                                                   json::object attributes) {
  writable(context, id, auth::Action::kUpdate);
  check_attributes(attributes, "attributes");
  std::optional<apis::VectorStoreFile> file = records_.file(id, file_id);
  if (!file) throw file_not_found(id, file_id);
  file->attributes = std::move(attributes);
  if (!records_.put_file(*file)) throw file_not_found(id, file_id);
  co_return std::move(*file);
}

async::Task<std::vector<apis::Chunk>> VectorStoresRouter::chunks_of(
    const apis::CallContext& context, std::string store_id, std::string file_id) {
  auto listed = deps_.vector_io->list_chunks(
      context, store_id,
      [file_id](const apis::Chunk& chunk) { return is_file_of(chunk, file_id); });
  co_return co_await std::move(listed);
}

async::Task<apis::VectorStoreFileContent> VectorStoresRouter::file_content(
    const apis::CallContext& context, std::string id, std::string file_id) {
  readable(context, id);
  std::optional<apis::VectorStoreFile> file = records_.file(id, file_id);
  if (!file) throw file_not_found(id, file_id);
  auto listed = chunks_of(context, id, file_id);
  std::vector<apis::Chunk> chunks = co_await std::move(listed);
  apis::VectorStoreFileContent content;
  content.file = std::move(*file);
  for (auto& c : chunks) {
    content.chunks.push_back(std::move(c.value));
    content.embeddings.push_back(std::move(c.embedding));
  }
  co_return content;
}

async::Task<void> VectorStoresRouter::remove_file(const apis::CallContext& context, std::string id,
                                                  std::string file_id) {
  writable(context, id, auth::Action::kUpdate);
  if (!records_.file(id, file_id)) throw file_not_found(id, file_id);
  auto listed = chunks_of(context, id, file_id);
  std::vector<apis::Chunk> chunks = co_await std::move(listed);
  std::vector<std::string> ids;
  ids.reserve(chunks.size());
  for (const auto& c : chunks) ids.push_back(c.id);
  auto deleted = deps_.vector_io->delete_chunks(context, id, std::move(ids));
  co_await std::move(deleted);
  records_.remove_file(id, file_id);
}

apis::VectorStoreFileBatch VectorStoresRouter::batch_of(const apis::CallContext& context,
                                                        const std::string& id,
                                                        const std::string& batch_id) const {
  readable(context, id);
  std::optional<apis::VectorStoreFileBatch> batch = records_.batch(id, batch_id);
  if (!batch) throw batch_not_found(id, batch_id);
  return std::move(*batch);
}

async::Task<apis::VectorStoreFileBatch> VectorStoresRouter::create_file_batch(
    const apis::CallContext& context, std::string id, apis::CreateFileBatchRequest request) {
  const apis::VectorStore store = writable(context, id, auth::Action::kUpdate);
  check_attributes(request.attributes, "attributes");
  if (request.file_ids.empty() || request.file_ids.size() > 2000) {
    throw JsonFieldError("file_ids", "Field 'file_ids' must list 1 to 2000 file ids");
  }
  apis::VectorStoreFileBatch batch;
  batch.id = "batch_" + random_uuid4();
  batch.vector_store_id = id;
  batch.created_at = unix_seconds();
  batch.attributes = request.attributes;
  batch.chunking = request.chunking.value_or(store.chunking);
  std::unordered_set<std::string> seen;
  for (auto& f : request.file_ids) {
    if (f.empty()) throw JsonFieldError("file_ids", "Field 'file_ids' holds an empty id");
    if (seen.insert(f).second) batch.file_ids.push_back(std::move(f));
  }
  // Every new file is recorded in_progress now, so listings and counts show
  // the whole batch from the first answer on.
  for (const auto& file_id : batch.file_ids) {
    if (records_.file(id, file_id)) continue;  // attached before: stays as it is
    apis::VectorStoreFile file;
    file.id = file_id;
    file.vector_store_id = id;
    file.created_at = batch.created_at;
    file.chunking = batch.chunking;
    file.attributes = batch.attributes;
    file.batch_id = batch.id;
    records_.put_file(file);
  }
  if (!records_.put_batch(batch)) throw ApiError::not_found("Vector store '" + id + "' not found");
  // The background run owns its context: no I/O thread to resume on, no
  // client to hang up, no token reservation; the router's stop.
  apis::CallContext background = context;
  background.executor = nullptr;
  background.stop = stop_.get_token();
  background.settle_tokens = {};
  {
    std::lock_guard lock(background_mutex_);
    ++background_;
  }
  async::spawn(run_batch(std::move(background), store, batch.id), [this](std::exception_ptr e) {
    if (e) {
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& error) {
        LS_WARN(kCore, "vector stores: a file batch ended with an error: {}", error.what());
      }
    }
    std::lock_guard lock(background_mutex_);
    --background_;
    background_done_.notify_all();
  });
  std::optional<apis::VectorStoreFileBatch> created = records_.batch(id, batch.id);
  if (!created) throw batch_not_found(id, batch.id);
  co_return std::move(*created);
}

async::Task<void> VectorStoresRouter::batch_worker(
    const apis::CallContext& context, apis::VectorStore store, std::string batch_id,
    std::shared_ptr<std::vector<std::string>> queue) {
  for (;;) {
    std::string file_id;
    {
      std::lock_guard lock(queue_mutex_);
      if (queue->empty()) co_return;
      file_id = std::move(queue->back());
      queue->pop_back();
      indexing_.insert(store.id + "/" + file_id);
    }
    std::optional<apis::VectorStoreFile> file = records_.file(store.id, file_id);
    std::optional<apis::VectorStoreFileBatch> batch = records_.batch(store.id, batch_id);
    if (file && file->status == "in_progress") {  // else removed or cancelled meanwhile
      if (!batch || batch->status != "in_progress" || context.stop.stop_requested()) {
        file->status = "cancelled";
        records_.put_file(*file);
      } else {
        auto indexed = index_file(context, store, std::move(*file));
        co_await std::move(indexed);  // the file's failures are its record's, not thrown
      }
    }
    std::lock_guard lock(queue_mutex_);
    indexing_.erase(store.id + "/" + file_id);
  }
}

async::Task<void> VectorStoresRouter::run_batch(apis::CallContext context, apis::VectorStore store,
                                                std::string batch_id) {
  std::optional<apis::VectorStoreFileBatch> batch = records_.batch(store.id, batch_id);
  if (!batch) co_return;
  auto queue = std::make_shared<std::vector<std::string>>();
  for (auto it = batch->file_ids.rbegin(); it != batch->file_ids.rend(); ++it) {
    std::optional<apis::VectorStoreFile> file = records_.file(store.id, *it);
    if (file && file->batch_id == batch_id && file->status == "in_progress") queue->push_back(*it);
  }
  const std::size_t n = std::min<std::size_t>(
      queue->size(), static_cast<std::size_t>(settings_.max_concurrent_files_per_batch));
  std::vector<async::Task<void>> workers;
  for (std::size_t i = 0; i < n; ++i)
    workers.push_back(batch_worker(context, store, batch_id, queue));
  auto all = async::when_all(std::move(workers));
  co_await std::move(all);
  batch = records_.batch(store.id, batch_id);
  if (!batch || batch->status != "in_progress") co_return;  // cancelled, or the store is gone
  const apis::FileCounts& counts = batch->file_counts;
  batch->status = counts.total > 0 && counts.failed == counts.total ? "failed" : "completed";
  records_.put_batch(*batch);
  LS_INFO(kCore, "vector store '{}': file batch '{}' {} ({} completed, {} failed)", store.id,
          batch_id, batch->status, counts.completed, counts.failed);
}

async::Task<apis::VectorStoreFileBatch> VectorStoresRouter::retrieve_file_batch(
    const apis::CallContext& context, std::string id, std::string batch_id) {
  co_return batch_of(context, id, batch_id);
}

async::Task<apis::VectorStoreFileBatch> VectorStoresRouter::cancel_file_batch(
    const apis::CallContext& context, std::string id, std::string batch_id) {
  writable(context, id, auth::Action::kUpdate);
  apis::VectorStoreFileBatch batch = batch_of(context, id, batch_id);
  if (batch.status != "in_progress") {
    throw ApiError::bad_request("File batch '" + batch_id + "' is " + batch.status +
                                "; only a batch in progress can be cancelled");
  }
  batch.status = "cancelled";
  records_.put_batch(batch);
  // Files not yet started: cancelled now (those being indexed finish).
  for (const auto& file_id : batch.file_ids) {
    std::optional<apis::VectorStoreFile> file = records_.file(id, file_id);
    if (!file || file->batch_id != batch_id || file->status != "in_progress") continue;
    std::lock_guard lock(queue_mutex_);  // a worker takes a file under it
    if (indexing_.count(id + "/" + file_id) > 0) continue;
    file->status = "cancelled";
    records_.put_file(*file);
  }
  co_return batch_of(context, id, batch_id);
}

async::Task<apis::Page<apis::VectorStoreFile>> VectorStoresRouter::list_file_batch_files(
    const apis::CallContext& context, std::string id, std::string batch_id, apis::PageQuery query) {
  const apis::VectorStoreFileBatch batch = batch_of(context, id, batch_id);
  check_status_filter(query.filter);
  const std::unordered_set<std::string> in_batch(batch.file_ids.begin(), batch.file_ids.end());
  std::vector<apis::VectorStoreFile> files;
  for (auto& f : records_.files(id, query.filter)) {
    if (in_batch.count(f.id) > 0) files.push_back(std::move(f));
  }
  co_return page_of(std::move(files), query);
}

}  // namespace llama_stack::routing
