// inline::localfs: files on the local disk (`storage_dir`, one file per id),
// their metadata in a SQL store (`metadata_store`, table openai_files).
// A stored file is written to a hidden temporary name in storage_dir, then
// renamed into place: a crash never leaves half a file under an id. File
// I/O runs on the worker threads.
#include "providers/inline/files/localfs.h"

#include <chrono>
#include <filesystem>
#include <fstream>

#include "core/config/config_node.h"
#include "core/config/stack_config.h"
#include "core/log/log.h"
#include "core/storage/open_store.h"
#include "core/util/api_error.h"
#include "core/util/ids.h"
#include "llama_stack/async/thread_pool.h"

namespace llama_stack::providers::inline_ {
namespace {

namespace fs = std::filesystem;
using config::ConfigNode;
using config::Diagnostics;
using config::MapReader;

constexpr const char* kTable = "openai_files";

struct LocalfsConfig {
  std::string storage_dir;
  config::SqlStoreConfig metadata;
  std::int64_t ttl_secs = 365 * 24 * 3600;

  static LocalfsConfig parse(const ConfigNode& node, Diagnostics& diagnostics) {
    LocalfsConfig c;
    MapReader r(node, diagnostics);
    c.storage_dir = r.path("storage_dir").value_or("");
    if (c.storage_dir.empty()) {
      diagnostics.error(node.location, node.path + ".storage_dir", "required key is missing");
    }
    const std::string default_db =
        (c.storage_dir.empty() ? config::config_dir() : c.storage_dir) + "/files_metadata.db";
    if (const ConfigNode* m = r.node("metadata_store"); m != nullptr && m->is_map()) {
      c.metadata = config::parse_sql_store_config(*m, diagnostics, default_db);
    } else {
      c.metadata.db_path = default_db;
    }
    c.ttl_secs = r.integer("ttl_secs", 1, std::int64_t{100} * 365 * 24 * 3600).value_or(c.ttl_secs);
    r.finish();
    return c;
  }
};

storage::SqlRow row_of(const apis::FileObject& f) {
  return storage::SqlRow{{"id", f.id},
                         {"filename", f.filename},
                         {"purpose", f.purpose},
                         {"bytes", f.bytes},
                         {"created_at", f.created_at},
                         {"expires_at", f.expires_at},
                         {"owner", f.owner ? to_json(f.owner->to_json()) : std::string("null")}};
}

apis::FileObject file_of(const storage::SqlRow& row) {
  apis::FileObject f;
  f.id = storage::sql_text(row, "id");
  f.filename = storage::sql_text(row, "filename");
  f.purpose = storage::sql_text(row, "purpose");
  f.bytes = storage::sql_int(row, "bytes");
  f.created_at = storage::sql_int(row, "created_at");
  f.expires_at = storage::sql_int(row, "expires_at");
  const std::string owner = storage::sql_text(row, "owner");
  if (!owner.empty() && owner != "null") f.owner = apis::Owner::from_json(parse_json(owner));
  return f;
}

class LocalFiles final : public FilesProvider {
 public:
  LocalFiles(ProviderContext context, LocalfsConfig config)
      : context_(std::move(context)), config_(std::move(config)) {}

  void initialize() override {
    fs::create_directories(config_.storage_dir);
    store_ = storage::open_sql_store(config_.metadata);
    store_->create_table(kTable, {{"id", storage::SqlType::kText, true},
                                  {"filename", storage::SqlType::kText},
                                  {"purpose", storage::SqlType::kText},
                                  {"bytes", storage::SqlType::kInteger},
                                  {"created_at", storage::SqlType::kInteger},
                                  {"expires_at", storage::SqlType::kInteger},
                                  {"owner", storage::SqlType::kJson}});
    store_->create_index(kTable, "openai_files_created", {"created_at"});
    LS_INFO(kCore, "{} (inline::localfs): files in {}, metadata in {}", context_.provider_id,
            config_.storage_dir, config_.metadata.describe());
  }

  async::Task<apis::FileObject> store_file(const apis::CallContext& context,
                                           apis::FileUpload upload,
                                           std::optional<apis::Owner> owner) override {
    auto work = async::offload<apis::FileObject>(context.executor, workers(), [&] {
      apis::FileObject f;
      f.id = "file-" + random_hex(32);
      f.filename = upload.filename;
      f.purpose = upload.purpose;
      f.created_at = unix_seconds();
      f.expires_at = f.created_at + upload.expires_after_seconds.value_or(config_.ttl_secs);
      f.owner = std::move(owner);
      const fs::path target = path_of(f.id);
      const fs::path temporary = fs::path(config_.storage_dir) / ("." + f.id + ".partial");
      std::error_code ec;
      fs::rename(upload.path, temporary, ec);  // same file system: a move
      if (ec) {
        fs::copy_file(upload.path, temporary, fs::copy_options::overwrite_existing, ec);
        if (ec) throw ApiError::unavailable("Cannot store the file: " + ec.message());
      }
      f.bytes = static_cast<std::int64_t>(fs::file_size(temporary));
      fs::rename(temporary, target, ec);
      if (ec) {
        fs::remove(temporary);
        throw ApiError::unavailable("Cannot store the file: " + ec.message());
      }
      try {
        store_->upsert(kTable, row_of(f));
      } catch (...) {
        fs::remove(target);
        throw;
      }
      return f;
    });
    co_return co_await work;
  }

  async::Task<apis::FilesPage> list_files(
      const apis::CallContext& context, apis::FilesQuery query,
      std::function<bool(const apis::FileObject&)> visible) override {
    auto work = async::offload<apis::FilesPage>(context.executor, workers(), [&] {
      storage::SqlQuery q;
      q.table = kTable;
      if (query.purpose) q.where.emplace_back("purpose", *query.purpose);
      q.order_by = {{"created_at", query.descending}, {"id", query.descending}};
      if (query.after) {
        auto after = store_->fetch_one({kTable, {{"id", *query.after}}, {}, {}, {}});
        if (!after) {
          throw ApiError::bad_request("Query parameter 'after': no file with id '" + *query.after +
                                      "'");
        }
        q.after = {storage::sql_int(*after, "created_at"), storage::sql_text(*after, "id")};
      }
      apis::FilesPage page;
      const std::int64_t now = unix_seconds();
      store_->scan(q, [&](storage::SqlRow row) {
        apis::FileObject f = file_of(row);
        if (f.expires_at <= now || !visible(f)) return true;
        if (static_cast<std::int64_t>(page.data.size()) >= query.limit) {
          page.has_more = true;
          return false;
        }
        page.data.push_back(std::move(f));
        return true;
      });
      return page;
    });
    co_return co_await work;
  }

  async::Task<std::optional<apis::FileObject>> find_file(const apis::CallContext& context,
                                                         std::string file_id) override {
    auto work = async::offload<std::optional<apis::FileObject>>(
        context.executor, workers(), [&]() -> std::optional<apis::FileObject> {
          auto row = store_->fetch_one({kTable, {{"id", file_id}}, {}, {}, {}});
          if (!row) return std::nullopt;
          apis::FileObject f = file_of(*row);
          if (f.expires_at <= unix_seconds()) {  // expired: gone
            remove_now(f);
            return std::nullopt;
          }
          return f;
        });
    co_return co_await work;
  }

  async::Task<std::string> file_content(const apis::CallContext& context,
                                        apis::FileObject file) override {
    auto work = async::offload<std::string>(context.executor, workers(), [&] {
      std::ifstream in(path_of(file.id), std::ios::binary);
      if (!in) throw ApiError::not_found("File '" + file.id + "' has no content on disk");
      return std::string(std::istreambuf_iterator<char>(in), {});
    });
    co_return co_await work;
  }

  async::Task<void> delete_file(const apis::CallContext& context, apis::FileObject file) override {
    auto work = async::offload<void>(context.executor, workers(), [&] { remove_now(file); });
    co_await work;
  }

 private:
  async::Executor& workers() const {
    if (context_.workers == nullptr) throw ApiError::internal("inline::localfs: no worker threads");
    return *context_.workers;
  }
  fs::path path_of(const std::string& id) const { return fs::path(config_.storage_dir) / id; }
  void remove_now(const apis::FileObject& f) {
    store_->remove(kTable, {{"id", f.id}});
    std::error_code ec;
    fs::remove(path_of(f.id), ec);
  }

  ProviderContext context_;
  LocalfsConfig config_;
  std::shared_ptr<storage::SqlStore> store_;
};

}  // namespace

ProviderSpec localfs_spec() {
  ProviderSpec spec;
  spec.api = "files";
  spec.provider_type = "inline::localfs";
  spec.description = "Files on the local disk, metadata in SQLite";
  spec.validate_config = [](const ConfigNode& node, Diagnostics& d) {
    LocalfsConfig::parse(node, d);
  };
  spec.create = [](const ProviderContext& context, const ConfigNode& node) {
    Diagnostics ignored;
    return std::unique_ptr<Provider>(new LocalFiles(context, LocalfsConfig::parse(node, ignored)));
  };
  return spec;
}

}  // namespace llama_stack::providers::inline_
