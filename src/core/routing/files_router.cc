#include "core/routing/files_router.h"

#include "core/util/identifiers.h"

namespace llama_stack::routing {
namespace {

ApiError file_not_found(const std::string& id) {
  return ApiError::not_found("File '" + id + "' not found");
}

}  // namespace

providers::FilesProvider& FilesRouter::provider() const {
  if (provider_ == nullptr) {
    throw ApiError::not_implemented(
        "No files provider is configured; add one (e.g. inline::localfs) under providers.files");
  }
  return *provider_;
}

async::Task<apis::FileObject> FilesRouter::readable(const apis::CallContext& context,
                                                    std::string file_id) {
  auto found = provider().find_file(context, file_id);
  std::optional<apis::FileObject> file = co_await std::move(found);
  if (!file) throw file_not_found(file_id);
  access_.check_read(context, "file", file->id, file->owner, file_not_found(file_id));
  co_return std::move(*file);
}

async::Task<apis::FileObject> FilesRouter::upload(const apis::CallContext& context,
                                                  apis::FileUpload upload) {
  require_clean(upload.filename, "filename");
  access_.check(context, auth::Action::kCreate, "file", upload.filename, context.user);
  auto stored = provider().store_file(context, std::move(upload), context.user);
  co_return co_await std::move(stored);
}

async::Task<apis::FilesPage> FilesRouter::list(const apis::CallContext& context,
                                               apis::FilesQuery query) {
  auto listed =
      provider().list_files(context, std::move(query), [this, &context](const apis::FileObject& f) {
        return access_.readable_by(context, "file", f.id, f.owner);
      });
  co_return co_await std::move(listed);
}

async::Task<apis::FileObject> FilesRouter::retrieve(const apis::CallContext& context,
                                                    std::string file_id) {
  auto file = readable(context, std::move(file_id));
  co_return co_await std::move(file);
}

async::Task<std::string> FilesRouter::content(const apis::CallContext& context,
                                              std::string file_id) {
  auto found = readable(context, std::move(file_id));
  apis::FileObject file = co_await std::move(found);
  auto read = provider().file_content(context, std::move(file));
  co_return co_await std::move(read);
}

async::Task<void> FilesRouter::remove(const apis::CallContext& context, std::string file_id) {
  auto found = readable(context, file_id);
  apis::FileObject file = co_await std::move(found);
  access_.check(context, auth::Action::kDelete, "file", file.id, file.owner);
  auto deleted = provider().delete_file(context, std::move(file));
  co_await std::move(deleted);
}

}  // namespace llama_stack::routing
