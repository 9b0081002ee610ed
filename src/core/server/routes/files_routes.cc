// The Files API at /v1/openai/v1/files and /v1/files (OpenAI shapes):
// multipart upload (the body arrives on disk: Route::upload_bytes; parsed in
// pieces on a worker thread, the file part written to a temporary file the
// provider moves into its store), list, retrieve, content, delete.
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "core/http/multipart.h"
#include "core/server/exchange.h"
#include "core/server/routes/routes.h"
#include "core/services/services.h"
#include "llama_stack/async/thread_pool.h"

namespace llama_stack::server::routes {
namespace {

using Ex = std::shared_ptr<Exchange>;

constexpr std::size_t kMaxFieldBytes = 64 * 1024;
constexpr const char* kPurposes[] = {"assistants", "batch",     "fine-tune",
                                     "vision",     "user_data", "evals"};

struct ParsedUpload {
  std::shared_ptr<const TemporaryFile> file;
  std::optional<std::string> filename;
  std::map<std::string, std::string> fields;
};

// Reads the multipart body from disk (or memory), in pieces.
ParsedUpload parse_upload(const HttpRequest& request, const std::string& boundary) {
  ParsedUpload out;
  std::ofstream sink;
  std::string* field = nullptr;
  bool in_file = false;
  http::MultipartParser parser(
      boundary,
      {[&](const http::MultipartPart& part) {
         if (part.name == "file") {
           if (out.file) throw http::MultipartError("more than one 'file' part");
           std::string path =
               (std::filesystem::temp_directory_path() / "llama-stack-file-XXXXXX").string();
           const int fd = ::mkstemp(path.data());
           if (fd < 0) throw ApiError::unavailable("Cannot store the upload: no temporary file");
           ::close(fd);
           out.file = std::make_shared<const TemporaryFile>(path);
           out.filename = part.filename.value_or("upload");
           sink.open(path, std::ios::binary | std::ios::trunc);
           if (!sink) throw ApiError::unavailable("Cannot store the upload");
           in_file = true;
         } else {
           field = &out.fields[part.name];
           in_file = false;
         }
       },
       [&](std::string_view data) {
         if (in_file) {
           sink.write(data.data(), static_cast<std::streamsize>(data.size()));
           if (!sink) throw ApiError::unavailable("Cannot store the upload: write failed");
         } else if (field != nullptr) {
           if (field->size() + data.size() > kMaxFieldBytes) {
             throw http::MultipartError("a form field is larger than 64 KiB");
           }
           field->append(data);
         }
       },
       [&] {
         if (in_file) sink.close();
         in_file = false;
         field = nullptr;
       }});
  if (request.body_file) {
    std::ifstream in(request.body_file->path(), std::ios::binary);
    std::string block(64 * 1024, '\0');
    while (in) {
      in.read(block.data(), static_cast<std::streamsize>(block.size()));
      const std::streamsize n = in.gcount();
      if (n <= 0) break;
      parser.feed(std::string_view(block.data(), static_cast<std::size_t>(n)));
    }
  } else {
    parser.feed(request.body);
  }
  parser.finish();
  return out;
}

async::Task<void> upload(const Services& services, Ex ex) {
  const auto type = ex->request().headers.get("content-type");
  const auto boundary = http::MultipartParser::boundary_of(type.value_or(""));
  if (!boundary) {
    throw ApiError::bad_request("The upload must be multipart/form-data with a boundary");
  }
  auto parse = async::offload<ParsedUpload>(&ex->executor(), services.worker_pool(), [&] {
    try {
      return parse_upload(ex->request(), *boundary);
    } catch (const http::MultipartError& e) {
      throw ApiError::bad_request(std::string("Malformed multipart body: ") + e.what());
    }
  });
  ParsedUpload parsed = co_await parse;
  if (!parsed.file) throw JsonFieldError("file", "Field 'file' (the file part) is required");
  auto purpose = parsed.fields.find("purpose");
  if (purpose == parsed.fields.end() || purpose->second.empty()) {
    throw JsonFieldError("purpose", "Field 'purpose' is required");
  }
  if (std::find(std::begin(kPurposes), std::end(kPurposes), purpose->second) ==
      std::end(kPurposes)) {
    throw JsonFieldError("purpose",
                         "Field 'purpose' must be one of assistants, batch, fine-tune, "
                         "vision, user_data, evals");
  }
  apis::FileUpload file{parsed.file->path(), *parsed.filename, purpose->second, std::nullopt};
  if (auto seconds = parsed.fields.find("expires_after[seconds]"); seconds != parsed.fields.end()) {
    const auto anchor = parsed.fields.find("expires_after[anchor]");
    if (anchor != parsed.fields.end() && anchor->second != "created_at") {
      throw JsonFieldError("expires_after[anchor]",
                           "Field 'expires_after[anchor]' must be 'created_at'");
    }
    std::int64_t s = -1;
    try {
      s = std::stoll(seconds->second);
    } catch (const std::exception&) {
    }
    if (s < 3600 || s > 2592000) {
      throw JsonFieldError(
          "expires_after[seconds]",
          "Field 'expires_after[seconds]' must be an integer from 3600 to 2592000");
    }
    file.expires_after_seconds = s;
  }
  apis::CallContext call = ex->call_context();
  auto stored = services.files().upload(call, std::move(file));
  apis::FileObject object = co_await std::move(stored);
  ex->send_json(200, object.to_json());
}

async::Task<void> list(const Services& services, Ex ex) {
  const auto& request = ex->request();
  apis::FilesQuery query;
  if (auto l = request.query_param("limit")) {
    try {
      query.limit = std::stoll(std::string(*l));
    } catch (const std::exception&) {
      query.limit = 0;
    }
    if (query.limit < 1 || query.limit > 10000) {
      throw ApiError::bad_request("Query parameter 'limit' must be an integer from 1 to 10000");
    }
  }
  if (auto o = request.query_param("order")) {
    if (*o != "asc" && *o != "desc") {
      throw ApiError::bad_request("Query parameter 'order' must be 'asc' or 'desc'");
    }
    query.descending = *o == "desc";
  }
  if (auto a = request.query_param("after"); a && !a->empty()) query.after = std::string(*a);
  if (auto p = request.query_param("purpose"); p && !p->empty()) query.purpose = std::string(*p);
  apis::CallContext call = ex->call_context();
  auto listed = services.files().list(call, std::move(query));
  apis::FilesPage page = co_await std::move(listed);
  json::array data;
  for (const auto& f : page.data) data.push_back(f.to_json());
  json::object body{{"object", "list"}, {"has_more", page.has_more}};
  body["first_id"] = page.data.empty() ? "" : page.data.front().id;
  body["last_id"] = page.data.empty() ? "" : page.data.back().id;
  body["data"] = std::move(data);
  ex->send_json(200, body);
}

async::Task<void> retrieve(const Services& services, Ex ex) {
  apis::CallContext call = ex->call_context();
  auto found = services.files().retrieve(call, ex->context().param("file_id"));
  apis::FileObject file = co_await std::move(found);
  ex->send_json(200, file.to_json());
}

std::string media_type_of(const std::string& filename) {
  const std::string ext = std::filesystem::path(filename).extension().string();
  if (ext == ".txt") return "text/plain";
  if (ext == ".md") return "text/markdown";
  if (ext == ".html" || ext == ".htm") return "text/html";
  if (ext == ".csv") return "text/csv";
  if (ext == ".json") return "application/json";
  if (ext == ".jsonl") return "application/jsonl";
  if (ext == ".pdf") return "application/pdf";
  return "application/octet-stream";
}

async::Task<void> content(const Services& services, Ex ex) {
  apis::CallContext call = ex->call_context();
  const std::string id = ex->context().param("file_id");
  auto found = services.files().retrieve(call, id);
  apis::FileObject file = co_await std::move(found);
  auto read = services.files().content(call, id);
  std::string bytes = co_await std::move(read);
  HttpResponse response;
  response.content_type = media_type_of(file.filename);
  std::string quoted;
  for (char c : file.filename) {
    if (c == '"' || c == '\\') quoted.push_back('\\');
    if (static_cast<unsigned char>(c) >= 0x20) quoted.push_back(c);
  }
  response.headers.set("content-disposition", "attachment; filename=\"" + quoted + "\"");
  response.body = std::move(bytes);
  ex->send(std::move(response));
}

async::Task<void> remove(const Services& services, Ex ex) {
  apis::CallContext call = ex->call_context();
  const std::string id = ex->context().param("file_id");
  auto deleted = services.files().remove(call, id);
  co_await std::move(deleted);
  ex->send_json(200, json::object{{"id", id}, {"object", "file"}, {"deleted", true}});
}

}  // namespace

void add_files_routes(RouteTable& table, const Services& services) {
  const std::int64_t limit = services.config->server.max_upload_bytes;
  for (const std::string prefix : {"/v1/openai/v1/files", "/v1/files"}) {
    Route post{"POST", prefix, [&services](const Ex& ex) { ex->serve(upload(services, ex)); },
               "files"};
    post.upload_bytes = limit;
    table.add(std::move(post));
    table.add(
        {"GET", prefix, [&services](const Ex& ex) { ex->serve(list(services, ex)); }, "files"});
    table.add({"GET", prefix + "/{file_id}",
               [&services](const Ex& ex) { ex->serve(retrieve(services, ex)); }, "files"});
    table.add({"GET", prefix + "/{file_id}/content",
               [&services](const Ex& ex) { ex->serve(content(services, ex)); }, "files"});
    table.add({"DELETE", prefix + "/{file_id}",
               [&services](const Ex& ex) { ex->serve(remove(services, ex)); }, "files"});
  }
}

}  // namespace llama_stack::server::routes
