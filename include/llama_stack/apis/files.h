// The Files API (OpenAI's): upload, list, retrieve, content, delete. Callers
// (the /v1/files and /v1/openai/v1/files routes, later vector stores) use
// FilesApi — the files provider behind a thin router that applies the access
// policy (a file belongs to whoever uploaded it).
#pragma once

#include <boost/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "llama_stack/apis/call_context.h"
#include "llama_stack/apis/resources.h"
#include "llama_stack/async/task.h"

namespace llama_stack::apis {

struct FileObject {
  std::string id;  // "file-…"
  std::int64_t bytes = 0;
  std::int64_t created_at = 0;
  std::int64_t expires_at = 0;
  std::string filename;
  std::string purpose;
  std::optional<Owner> owner;

  boost::json::object to_json() const {
    return boost::json::object{{"object", "file"},         {"id", id},
                               {"bytes", bytes},           {"created_at", created_at},
                               {"expires_at", expires_at}, {"filename", filename},
                               {"purpose", purpose}};
  }
};

struct FileUpload {
  std::string path;  // the file's bytes on disk (moved or copied by the provider)
  std::string filename;
  std::string purpose;
  std::optional<std::int64_t> expires_after_seconds;
};

struct FilesPage {
  std::vector<FileObject> data;
  bool has_more = false;
};

struct FilesQuery {
  std::optional<std::string> after;
  std::int64_t limit = 10000;
  bool descending = true;
  std::optional<std::string> purpose;
};

class FilesApi {
 public:
  virtual ~FilesApi() = default;
  virtual async::Task<FileObject> upload(const CallContext& context, FileUpload upload) = 0;
  // 400 for an `after` that is not a file of the listing.
  virtual async::Task<FilesPage> list(const CallContext& context, FilesQuery query) = 0;
  virtual async::Task<FileObject> retrieve(const CallContext& context, std::string file_id) = 0;
  virtual async::Task<std::string> content(const CallContext& context, std::string file_id) = 0;
  virtual async::Task<void> remove(const CallContext& context, std::string file_id) = 0;
};

}  // namespace llama_stack::apis
