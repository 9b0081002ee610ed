#include "core/routing/vector_io_router.h"

#include "core/routing/child_span.h"

#include <openssl/evp.h>

#include <cmath>

#include "core/util/api_error.h"
#include "core/util/message_text.h"

namespace llama_stack::routing {
namespace {

ApiError chunk_error(std::size_t index, const std::string& field, const std::string& what) {
  const std::string path =
      "chunks[" + std::to_string(index) + "]" + (field.empty() ? "" : ".") + field;
  return ApiError::bad_request("Field '" + path + "' " + what);
}

}  // namespace

std::string derived_chunk_id(const json::object& metadata, const std::string& text) {
  std::string key = text;
  if (const auto* doc = json_field(metadata, "document_id"); doc != nullptr) {
    key = (doc->is_string() ? std::string(doc->get_string()) : to_json(*doc)) + ":" + text;
  }
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(key.data(), key.size(), digest, &length, EVP_md5(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < length; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out.push_back('-');
    out.push_back(kHex[digest[i] >> 4]);
    out.push_back(kHex[digest[i] & 0xF]);
  }
  return out;
}

apis::VectorQuery parse_vector_query_params(const json::object& params) {
  apis::VectorQuery q;
  if (const auto* v = json_field(params, "max_chunks")) {
    if (!(v->is_int64() || v->is_uint64()) || v->to_number<std::int64_t>() < 1 ||
        v->to_number<std::int64_t>() > 10000) {
      throw JsonFieldError("params.max_chunks",
                           "Field 'params.max_chunks' must be an integer from 1 to 10000");
    }
    q.max_chunks = v->to_number<std::int64_t>();
  }
  if (const auto* v = json_field(params, "score_threshold")) {
    if (!v->is_number() || !std::isfinite(v->to_number<double>())) {
      throw JsonFieldError("params.score_threshold",
                           "Field 'params.score_threshold' must be a number");
    }
    q.score_threshold = v->to_number<double>();
  }
  if (const auto* v = json_field(params, "mode")) {
    const std::string mode = v->is_string() ? std::string(v->get_string()) : "";
    if (mode == "vector") {
      q.mode = apis::SearchMode::kVector;
    } else if (mode == "keyword") {
      q.mode = apis::SearchMode::kKeyword;
    } else if (mode == "hybrid") {
      q.mode = apis::SearchMode::kHybrid;
    } else {
      throw JsonFieldError("params.mode",
                           "Field 'params.mode' must be 'vector', 'keyword' or 'hybrid'");
    }
  }
  if (const auto* v = json_field(params, "ranker"); v != nullptr && !v->is_null()) {
    if (!v->is_object())
      throw JsonFieldError("params.ranker", "Field 'params.ranker' must be an object");
    const json::object& r = v->get_object();
    const auto* type = json_field(r, "type");
    q.ranker = type != nullptr && type->is_string() ? std::string(type->get_string()) : "rrf";
    if (q.ranker != "rrf" && q.ranker != "weighted") {
      throw JsonFieldError("params.ranker.type",
                           "Field 'params.ranker.type' must be 'rrf' or 'weighted'");
    }
    if (const auto* f = json_field(r, "impact_factor")) {
      if (!f->is_number() || f->to_number<double>() <= 0) {
        throw JsonFieldError("params.ranker.impact_factor",
                             "Field 'params.ranker.impact_factor' must be a positive number");
      }
      q.impact_factor = f->to_number<double>();
    }
    if (const auto* a = json_field(r, "alpha")) {
      if (!a->is_number() || a->to_number<double>() < 0 || a->to_number<double>() > 1) {
        throw JsonFieldError("params.ranker.alpha",
                             "Field 'params.ranker.alpha' must be a number from 0 to 1");
      }
      q.alpha = a->to_number<double>();
    }
  }
  return q;
}

apis::VectorDB VectorIORouter::resolve(const apis::CallContext& context,
                                       const std::string& vector_db_id) const {
  apis::VectorDB db = vector_dbs_.get(vector_db_id);  // 404 naming it
  access_.check_read(context, "vector_db", db.identifier, db.owner,
                     ApiError::not_found("Vector DB '" + vector_db_id +
                                         "' not found. Register it with POST /v1/vector-dbs"));
  access_.check_scope(context, db);
  return db;
}

async::Task<std::vector<std::vector<float>>> VectorIORouter::embed(const apis::CallContext& context,
                                                                   const apis::VectorDB& vector_db,
                                                                   std::vector<std::string> texts) {
  // The embedding calls are the caller's (checked, audited) but not its
  // inference token reservation.
  apis::CallContext child = context;
  child.settle_tokens = {};
  std::vector<std::vector<float>> out;
  out.reserve(texts.size());
  for (std::size_t start = 0; start < texts.size(); start += kEmbeddingBatch) {
    json::array input;
    for (std::size_t i = start; i < std::min(texts.size(), start + kEmbeddingBatch); ++i) {
      input.emplace_back(texts[i]);
    }
    const std::size_t expected = input.size();
    json::object request{{"model", vector_db.embedding_model}, {"input", std::move(input)}};
    auto call = inference_.embeddings(child, std::move(request));
    json::object response = co_await std::move(call);
    const auto* data = json_field(response, "data");
    const std::string who = "embedding model '" + vector_db.embedding_model + "'";
    if (data == nullptr || !data->is_array() || data->get_array().size() != expected) {
      throw ApiError::bad_gateway(who + " answered " +
                                  (data != nullptr && data->is_array()
                                       ? std::to_string(data->get_array().size())
                                       : std::string("no")) +
                                  " embeddings for " + std::to_string(expected) + " inputs");
    }
    for (const auto& item : data->get_array()) {
      const auto* e = item.is_object() ? json_field(item.get_object(), "embedding") : nullptr;
      if (e == nullptr || !e->is_array())
        throw ApiError::bad_gateway(who + " answered a malformed embedding");
      std::vector<float> vector;
      vector.reserve(e->get_array().size());
      for (const auto& x : e->get_array()) {
        if (!x.is_number()) throw ApiError::bad_gateway(who + " answered a non-numeric embedding");
        vector.push_back(static_cast<float>(x.to_number<double>()));
      }
      if (static_cast<std::int64_t>(vector.size()) != vector_db.embedding_dimension) {
        throw ApiError::bad_gateway(who + " answered vectors of dimension " +
                                    std::to_string(vector.size()) + "; vector DB '" +
                                    vector_db.identifier + "' has dimension " +
                                    std::to_string(vector_db.embedding_dimension));
      }
      out.push_back(std::move(vector));
    }
  }
  co_return out;
}

async::Task<void> VectorIORouter::insert(const apis::CallContext& context,
                                         const std::string& vector_db_id, json::array chunks,
                                         std::optional<std::int64_t> /*ttl_seconds*/) {
  const apis::VectorDB db = resolve(context, vector_db_id);
  std::vector<apis::Chunk> parsed;
  parsed.reserve(chunks.size());
  std::vector<std::size_t> to_embed;
  std::vector<std::string> texts;
  for (std::size_t i = 0; i < chunks.size(); ++i) {
    json::object* o = chunks[i].if_object();
    if (o == nullptr) throw chunk_error(i, "", "must be an object");
    const json::value* content = json_field(*o, "content");
    if (content == nullptr || content->is_null()) throw chunk_error(i, "content", "is required");
    apis::Chunk chunk;
    chunk.text = message_text(*content, "chunks[" + std::to_string(i) + "].content");
    if (const auto* m = json_field(*o, "metadata");
        m != nullptr && !m->is_null() && !m->is_object()) {
      throw chunk_error(i, "metadata", "must be an object");
    }
    if (json_field(*o, "metadata") == nullptr) (*o)["metadata"] = json::object{};
    if (const auto* e = json_field(*o, "embedding"); e != nullptr && !e->is_null()) {
      if (!e->is_array()) throw chunk_error(i, "embedding", "must be a list of numbers");
      for (const auto& x : e->get_array()) {
        if (!x.is_number() || !std::isfinite(x.to_number<double>())) {
          throw chunk_error(i, "embedding", "must be a list of finite numbers");
        }
        chunk.embedding.push_back(static_cast<float>(x.to_number<double>()));
      }
      if (static_cast<std::int64_t>(chunk.embedding.size()) != db.embedding_dimension) {
        throw chunk_error(i, "embedding",
                          "has " + std::to_string(chunk.embedding.size()) + " values; vector DB '" +
                              db.identifier + "' has dimension " +
                              std::to_string(db.embedding_dimension));
      }
      chunk.caller_embedding = true;
    } else {
      to_embed.push_back(i);
      texts.push_back(chunk.text);
    }
    o->erase("embedding");
    if (const auto* id = json_field(*o, "chunk_id"); id != nullptr && !id->is_null()) {
      if (!id->is_string() || id->get_string().empty()) {
        throw chunk_error(i, "chunk_id", "must be a non-empty string");
      }
      chunk.id = std::string(id->get_string());
    } else {
      chunk.id = derived_chunk_id((*o)["metadata"].as_object(), chunk.text);
    }
    chunk.value = std::move(*o);
    parsed.push_back(std::move(chunk));
  }
  if (parsed.empty()) co_return;
  if (!texts.empty()) {
    auto embedded = embed(context, db, std::move(texts));
    std::vector<std::vector<float>> vectors = co_await std::move(embedded);
    for (std::size_t j = 0; j < to_embed.size(); ++j) {
      parsed[to_embed[j]].embedding = std::move(vectors[j]);
    }
  }
  providers::VectorIOProvider& provider = vector_dbs_.provider_for(db);
  auto stored = provider.insert_chunks(context, db, std::move(parsed));
  co_await std::move(stored);
}

async::Task<apis::QueryChunksResponse> VectorIORouter::query(const apis::CallContext& context,
                                                             const std::string& vector_db_id,
                                                             json::value query,
                                                             json::object params) {
  apis::VectorQuery q = parse_vector_query_params(params);
  q.text = message_text(query, "query");
  if (q.text.empty()) throw JsonFieldError("query", "Field 'query' must not be empty");
  auto found = search(context, vector_db_id, std::move(q));
  co_return co_await std::move(found);
}

async::Task<apis::QueryChunksResponse> VectorIORouter::search(const apis::CallContext& context,
                                                              const std::string& vector_db_id,
                                                              apis::VectorQuery q) {
  const apis::VectorDB db = resolve(context, vector_db_id);
  ChildSpan span(telemetry_, context, "vector_io.query");
  span.attributes()["vector_db_id"] = db.identifier;
  span.attributes()["provider_id"] = db.provider_id;
  span.attributes()["mode"] = q.mode == apis::SearchMode::kVector
                                  ? "vector"
                                  : (q.mode == apis::SearchMode::kKeyword ? "keyword" : "hybrid");
  apis::QueryChunksResponse out;
  std::exception_ptr failure;
  try {
    if (q.mode != apis::SearchMode::kKeyword) {
      auto embedded = embed(span.context(), db, {q.text});
      std::vector<std::vector<float>> vectors = co_await std::move(embedded);
      q.embedding = std::move(vectors.front());
    }
    providers::VectorIOProvider& provider = vector_dbs_.provider_for(db);
    auto found = provider.query_chunks(span.context(), db, std::move(q));
    out = co_await std::move(found);
  } catch (...) {
    failure = std::current_exception();
  }
  span.attributes()["chunks"] = static_cast<std::int64_t>(out.chunks.size());
  span.finish(failure);
  if (failure) std::rethrow_exception(failure);
  co_return out;
}

async::Task<void> VectorIORouter::delete_chunks(const apis::CallContext& context,
                                                const std::string& vector_db_id,
                                                std::vector<std::string> chunk_ids) {
  const apis::VectorDB db = resolve(context, vector_db_id);
  access_.check(context, auth::Action::kUpdate, "vector_db", db.identifier, db.owner);
  if (chunk_ids.empty()) co_return;
  providers::VectorIOProvider& provider = vector_dbs_.provider_for(db);
  auto deleted = provider.delete_chunks(context, db, std::move(chunk_ids));
  co_await std::move(deleted);
}

async::Task<std::vector<apis::Chunk>> VectorIORouter::list_chunks(const apis::CallContext& context,
                                                                  const std::string& vector_db_id,
                                                                  apis::ChunkFilter keep) {
  const apis::VectorDB db = resolve(context, vector_db_id);
  providers::VectorIOProvider& provider = vector_dbs_.provider_for(db);
  auto listed = provider.list_chunks(context, db, std::move(keep));
  co_return co_await std::move(listed);
}

}  // namespace llama_stack::routing
