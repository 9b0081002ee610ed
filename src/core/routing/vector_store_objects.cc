// The vector stores API's objects (include/llama_stack/apis/vector_stores.h):
// their OpenAI wire form and their stored records.
#include <cmath>

#include "core/util/api_error.h"
#include "core/util/json.h"
#include "llama_stack/apis/vector_stores.h"

namespace llama_stack::apis {
namespace {

std::int64_t int_of(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v != nullptr && (v->is_int64() || v->is_uint64()) ? v->to_number<std::int64_t>() : 0;
}

json::object object_of(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v != nullptr && v->is_object() ? v->get_object() : json::object{};
}

json::value optional_string(const std::optional<std::string>& s) {
  return s ? json::value(*s) : json::value(nullptr);
}

ChunkingStrategy chunking_of(const json::object& o) {
  const json::object c = object_of(o, "chunking_strategy");
  ChunkingStrategy out;
  const json::object s = object_of(c, "static");
  if (s.contains("max_chunk_size_tokens"))
    out.max_chunk_size_tokens = int_of(s, "max_chunk_size_tokens");
  if (s.contains("chunk_overlap_tokens"))
    out.chunk_overlap_tokens = int_of(s, "chunk_overlap_tokens");
  return out;
}

std::vector<std::string> strings_of(const json::object& o, std::string_view key) {
  std::vector<std::string> out;
  if (const json::value* v = o.if_contains(key); v != nullptr && v->is_array()) {
    for (const auto& item : v->get_array()) {
      if (item.is_string()) out.emplace_back(item.get_string());
    }
  }
  return out;
}

}  // namespace

void FileCounts::add(const std::string& status) {
  ++total;
  if (status == "completed") {
    ++completed;
  } else if (status == "failed") {
    ++failed;
  } else if (status == "cancelled") {
    ++cancelled;
  } else {
    ++in_progress;
  }
}

json::object FileCounts::to_json() const {
  return json::object{{"in_progress", in_progress},
                      {"completed", completed},
                      {"failed", failed},
                      {"cancelled", cancelled},
                      {"total", total}};
}

json::object ChunkingStrategy::to_json() const {
  return json::object{{"type", "static"},
                      {"static", json::object{{"max_chunk_size_tokens", max_chunk_size_tokens},
                                              {"chunk_overlap_tokens", chunk_overlap_tokens}}}};
}

ChunkingStrategy ChunkingStrategy::parse(const json::value* value, const std::string& field) {
  ChunkingStrategy out;
  if (value == nullptr || value->is_null()) return out;
  const json::object* o = value->if_object();
  if (o == nullptr) throw JsonFieldError(field, "Field '" + field + "' must be an object");
  const std::string type = o->contains("type") ? json_string(*o, "type") : "auto";
  if (type == "auto") return out;
  if (type != "static") {
    throw JsonFieldError(
        field + ".type",
        "Field '" + field + ".type' must be 'auto' or 'static' (got '" + type + "')");
  }
  const json::value* s = o->if_contains("static");
  if (s == nullptr || !s->is_object()) {
    throw JsonFieldError(field + ".static",
                         "Field '" + field + ".static' is required for 'static'");
  }
  auto read = [&](std::string_view key, std::int64_t& into) {
    const json::value* v = s->get_object().if_contains(key);
    if (v == nullptr) return;
    const std::string path = field + ".static." + std::string(key);
    if (!(v->is_int64() || v->is_uint64())) {
      throw JsonFieldError(path, "Field '" + path + "' must be an integer");
    }
    into = v->to_number<std::int64_t>();
  };
  read("max_chunk_size_tokens", out.max_chunk_size_tokens);
  read("chunk_overlap_tokens", out.chunk_overlap_tokens);
  if (out.max_chunk_size_tokens < 100 || out.max_chunk_size_tokens > 4096) {
    const std::string path = field + ".static.max_chunk_size_tokens";
    throw JsonFieldError(path, "Field '" + path + "' must be from 100 to 4096");
  }
  if (out.chunk_overlap_tokens < 0 || out.chunk_overlap_tokens * 2 > out.max_chunk_size_tokens) {
    const std::string path = field + ".static.chunk_overlap_tokens";
    throw JsonFieldError(path,
                         "Field '" + path + "' must be from 0 to half of max_chunk_size_tokens");
  }
  return out;
}

json::object VectorStore::to_json() const {
  json::object meta = metadata;
  meta["provider_id"] = provider_id;
  meta["provider_vector_store_id"] = id;
  return json::object{{"id", id},
                      {"object", "vector_store"},
                      {"created_at", created_at},
                      {"name", optional_string(name)},
                      {"usage_bytes", usage_bytes},
                      {"file_counts", file_counts.to_json()},
                      {"status", "completed"},
                      {"expires_after", expires_after},
                      {"expires_at", nullptr},
                      {"last_active_at", last_active_at},
                      {"metadata", std::move(meta)}};
}

json::object VectorStore::to_record() const {
  json::object r{{"id", id},
                 {"created_at", created_at},
                 {"name", optional_string(name)},
                 {"expires_after", expires_after},
                 {"last_active_at", last_active_at},
                 {"metadata", metadata},
                 {"chunking_strategy", chunking.to_json()},
                 {"provider_id", provider_id},
                 {"embedding_model", embedding_model},
                 {"embedding_dimension", embedding_dimension}};
  if (owner) r["owner"] = owner->to_json();
  return r;
}

VectorStore VectorStore::from_record(const json::value& value) {
  const json::object& o = value.as_object();
  VectorStore s;
  s.id = json_string(o, "id");
  if (s.id.empty()) throw std::runtime_error("vector store record without an id");
  s.created_at = int_of(o, "created_at");
  if (const json::value* n = o.if_contains("name"); n != nullptr && n->is_string()) {
    s.name = std::string(n->get_string());
  }
  if (const json::value* e = o.if_contains("expires_after")) s.expires_after = *e;
  s.last_active_at = int_of(o, "last_active_at");
  s.metadata = object_of(o, "metadata");
  s.chunking = chunking_of(o);
  s.provider_id = json_string(o, "provider_id");
  s.embedding_model = json_string(o, "embedding_model");
  s.embedding_dimension = int_of(o, "embedding_dimension");
  if (const json::value* owner = o.if_contains("owner")) s.owner = Owner::from_json(*owner);
  return s;
}

json::object VectorStoreFile::to_json() const {
  json::object out{{"id", id},
                   {"object", "vector_store.file"},
                   {"attributes", attributes},
                   {"chunking_strategy", chunking.to_json()},
                   {"created_at", created_at},
                   {"last_error", nullptr},
                   {"status", status},
                   {"usage_bytes", usage_bytes},
                   {"vector_store_id", vector_store_id}};
  if (last_error) {
    out["last_error"] = json::object{{"code", last_error->code}, {"message", last_error->message}};
  }
  return out;
}

json::object VectorStoreFile::to_record() const {
  json::object r = to_json();
  r["filename"] = filename;
  r["chunks"] = chunks;
  if (batch_id) r["batch_id"] = *batch_id;
  return r;
}

VectorStoreFile VectorStoreFile::from_record(const json::value& value) {
  const json::object& o = value.as_object();
  VectorStoreFile f;
  f.id = json_string(o, "id");
  if (f.id.empty()) throw std::runtime_error("vector store file record without an id");
  f.vector_store_id = json_string(o, "vector_store_id");
  f.created_at = int_of(o, "created_at");
  f.status = json_string(o, "status");
  f.usage_bytes = int_of(o, "usage_bytes");
  f.chunking = chunking_of(o);
  f.attributes = object_of(o, "attributes");
  if (const json::value* e = o.if_contains("last_error"); e != nullptr && e->is_object()) {
    f.last_error = VectorStoreFileError{json_string(e->get_object(), "code"),
                                        json_string(e->get_object(), "message")};
  }
  f.filename = json_string(o, "filename");
  f.chunks = int_of(o, "chunks");
  if (const json::value* b = o.if_contains("batch_id"); b != nullptr && b->is_string()) {
    f.batch_id = std::string(b->get_string());
  }
  return f;
}

json::object VectorStoreFileBatch::to_json() const {
  return json::object{{"id", id},
                      {"object", "vector_store.file_batch"},
                      {"created_at", created_at},
                      {"vector_store_id", vector_store_id},
                      {"status", status},
                      {"file_counts", file_counts.to_json()}};
}

json::object VectorStoreFileBatch::to_record() const {
  json::object r = to_json();
  json::array ids;
  for (const auto& f : file_ids) ids.emplace_back(f);
  r["file_ids"] = std::move(ids);
  r["attributes"] = attributes;
  r["chunking_strategy"] = chunking.to_json();
  return r;
}

VectorStoreFileBatch VectorStoreFileBatch::from_record(const json::value& value) {
  const json::object& o = value.as_object();
  VectorStoreFileBatch b;
  b.id = json_string(o, "id");
  if (b.id.empty()) throw std::runtime_error("file batch record without an id");
  b.vector_store_id = json_string(o, "vector_store_id");
  b.created_at = int_of(o, "created_at");
  b.status = json_string(o, "status");
  b.file_ids = strings_of(o, "file_ids");
  b.attributes = object_of(o, "attributes");
  b.chunking = chunking_of(o);
  return b;
}

json::object VectorStoreSearchPage::to_json() const {
  json::array queries, items;
  for (const auto& q : search_query) queries.emplace_back(q);
  for (const auto& r : data) {
    items.push_back(
        json::object{{"file_id", r.file_id},
                     {"filename", r.filename},
                     {"score", std::isfinite(r.score) ? r.score : 0.0},
                     {"attributes", r.attributes},
                     {"content", json::array{json::object{{"type", "text"}, {"text", r.text}}}}});
  }
  return json::object{{"object", "vector_store.search_results.page"},
                      {"search_query", std::move(queries)},
                      {"data", std::move(items)},
                      {"has_more", false},
                      {"next_page", nullptr}};
}

json::object VectorStoreFileContent::to_json(bool include_embeddings, bool include_metadata) const {
  json::array data, content;
  for (std::size_t i = 0; i < chunks.size(); ++i) {
    const json::object& c = chunks[i];
    const json::value* text = c.if_contains("content");
    json::object item{
        {"type", "text"},
        {"text", text != nullptr && text->is_string() ? text->get_string() : json::string()}};
    content.push_back(item);
    if (include_metadata) {
      item["metadata"] = object_of(c, "metadata");
      item["chunk_metadata"] = object_of(c, "chunk_metadata");
    }
    if (include_embeddings && i < embeddings.size()) {
      json::array e;
      for (float f : embeddings[i]) e.push_back(static_cast<double>(f));
      item["embedding"] = std::move(e);
    }
    data.push_back(std::move(item));
  }
  // The 0.7.x page (object, data, …) and the 0.2.x fields (file_id,
  // filename, attributes, content) in one answer.
  return json::object{{"object", "vector_store.file_content.page"},
                      {"data", std::move(data)},
                      {"has_more", false},
                      {"next_page", nullptr},
                      {"file_id", file.id},
                      {"filename", file.filename},
                      {"attributes", file.attributes},
                      {"content", std::move(content)}};
}

}  // namespace llama_stack::apis
