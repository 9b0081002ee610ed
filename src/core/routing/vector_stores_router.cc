// VectorStoresRouter: stores (create, list, retrieve, update, delete) and
// search. Files and batches: vector_store_files.cc.
#include "core/routing/vector_stores_router.h"

#include <chrono>
#include <cmath>
#include <unordered_set>

#include "core/log/log.h"
#include "core/routing/vector_store_filters.h"
#include "core/util/api_error.h"
#include "core/util/identifiers.h"
#include "core/util/ids.h"
#include "core/util/message_text.h"

namespace llama_stack::routing {
namespace {

ApiError store_not_found(const std::string& id) {
  return ApiError::not_found("Vector store '" + id + "' not found");
}

// The text of a chunk's content (a string or content items).
std::string chunk_text(const json::object& chunk) {
  const json::value* c = chunk.if_contains("content");
  if (c == nullptr) return "";
  if (c->is_string()) return std::string(c->get_string());
  try {
    return message_text(*c, "content");
  } catch (const std::exception&) {
    return "";
  }
}

}  // namespace

VectorStoresRouter::VectorStoresRouter(VectorStoresDeps deps, config::VectorStoresSettings settings,
                                       std::shared_ptr<storage::KVStore> store)
    : deps_(std::move(deps)), settings_(std::move(settings)), records_(std::move(store)) {}

VectorStoresRouter::~VectorStoresRouter() {
  shutdown();
}

void VectorStoresRouter::initialize() {
  const std::size_t n = records_.load();
  if (n > 0) LS_INFO(kCore, "vector stores: {} store(s) loaded", n);
}

void VectorStoresRouter::shutdown() noexcept {
  stop_.request_stop();
  std::unique_lock lock(background_mutex_);
  if (!background_done_.wait_for(lock, std::chrono::seconds(5),
                                 [this] { return background_ == 0; })) {
    LS_WARN(kCore, "vector stores: {} file batch(es) still running at shutdown", background_);
  }
}

void VectorStoresRouter::check_attributes(const json::object& attributes,
                                          const std::string& field) {
  if (attributes.size() > 16) {
    throw JsonFieldError(field, "Field '" + field + "' has " + std::to_string(attributes.size()) +
                                    " keys; at most 16 are allowed");
  }
  for (const auto& [key, value] : attributes) {
    const std::string path = field + "." + std::string(key);
    if (key.size() > 64) {
      throw JsonFieldError(path, "Field '" + field + "': keys are at most 64 characters");
    }
    if (value.is_string()) {
      if (value.get_string().size() > 512) {
        throw JsonFieldError(path, "Field '" + path + "' is longer than 512 characters");
      }
    } else if (!value.is_number() && !value.is_bool()) {
      throw JsonFieldError(path, "Field '" + path + "' must be a string, a number or a boolean");
    }
  }
}

apis::VectorStore VectorStoresRouter::readable(const apis::CallContext& context,
                                               const std::string& id) const {
  std::optional<apis::VectorStore> store = records_.store(id);
  if (!store) throw store_not_found(id);
  deps_.access->check_read(context, "vector_db", id, store->owner, store_not_found(id));
  return std::move(*store);
}

apis::VectorStore VectorStoresRouter::writable(const apis::CallContext& context,
                                               const std::string& id, auth::Action action) const {
  apis::VectorStore store = readable(context, id);
  deps_.access->check(context, action, "vector_db", id, store.owner);
  return store;
}

std::string VectorStoresRouter::embedding_model_for(
    const apis::CreateVectorStoreRequest& request) const {
  if (request.embedding_model) return *request.embedding_model;
  if (settings_.default_embedding_model) {
    const std::string& named = *settings_.default_embedding_model;
    if (deps_.models->find(named)) return named;
    // "<provider_id>/<provider model id>" of a model registered under another id.
    if (const std::size_t slash = named.find('/'); slash != std::string::npos) {
      for (const auto& m : deps_.models->list()) {
        if (m.provider_id == named.substr(0, slash) &&
            m.provider_resource_id == named.substr(slash + 1)) {
          return m.identifier;
        }
      }
    }
    throw ApiError::bad_request("vector_stores.default_embedding_model '" + named +
                                "' is not a registered model");
  }
  for (const auto& m : deps_.models->list()) {
    if (m.model_type == apis::ModelType::kEmbedding) return m.identifier;
  }
  throw ApiError::bad_request(
      "No embedding model for the vector store: name one with embedding_model, register one "
      "(model_type: embedding), or set vector_stores.default_embedding_model");
}

std::string VectorStoresRouter::provider_for(const apis::CreateVectorStoreRequest& request) const {
  if (request.provider_id) return *request.provider_id;
  if (deps_.provider_ids.size() == 1) return deps_.provider_ids.front();
  if (settings_.default_provider_id) return *settings_.default_provider_id;
  if (deps_.provider_ids.empty()) {
    throw ApiError::not_implemented(
        "No vector_io provider is configured; add one (e.g. inline::faiss) under "
        "providers.vector_io");
  }
  std::string names;
  for (const auto& p : deps_.provider_ids) names += (names.empty() ? "" : ", ") + p;
  throw JsonFieldError("provider_id",
                       "Field 'provider_id' is required: several vector_io providers are "
                       "configured (" +
                           names + "); name one, or set vector_stores.default_provider_id");
}

async::Task<apis::VectorStore> VectorStoresRouter::create(const apis::CallContext& context,
                                                          apis::CreateVectorStoreRequest request) {
  if (request.name) require_clean(*request.name, "name");
  const std::string id = "vs_" + random_uuid4();
  deps_.access->check(context, auth::Action::kCreate, "vector_db", id, context.user);
  RegisterVectorDBRequest registration;
  registration.vector_db_id = id;
  registration.embedding_model = embedding_model_for(request);
  registration.embedding_dimension = request.embedding_dimension;
  registration.provider_id = provider_for(request);
  registration.vector_db_name = request.name;
  registration.owner = context.user;
  const apis::VectorDB db =
      deps_.vector_dbs->register_vector_db(registration, OnExisting::kConflict);
  apis::VectorStore store;
  store.id = id;
  store.created_at = unix_seconds();
  store.last_active_at = store.created_at;
  store.name = request.name;
  store.expires_after = request.expires_after;
  store.metadata = std::move(request.metadata);
  store.chunking = request.chunking.value_or(apis::ChunkingStrategy{});
  store.provider_id = db.provider_id;
  store.embedding_model = db.embedding_model;
  store.embedding_dimension = db.embedding_dimension;
  store.owner = context.user;
  try {
    records_.put_store(store);
  } catch (...) {
    deps_.vector_dbs->unregister_vector_db(id);
    throw;
  }
  LS_INFO(kCore, "vector store '{}' created on {} ({})", id, db.provider_id, db.embedding_model);
  for (auto& file_id : request.file_ids) {
    apis::AttachFileRequest attach;
    attach.file_id = std::move(file_id);
    auto attached = attach_file(context, id, std::move(attach));
    co_await std::move(attached);  // a failing file is recorded as failed, not thrown
  }
  std::optional<apis::VectorStore> created = records_.store(id);
  if (!created) throw store_not_found(id);  // deleted meanwhile
  co_return std::move(*created);
}

async::Task<apis::Page<apis::VectorStore>> VectorStoresRouter::list(
    const apis::CallContext& context, apis::PageQuery query) {
  std::vector<apis::VectorStore> visible;
  for (auto& s : records_.stores()) {
    if (deps_.access->readable_by(context, "vector_db", s.id, s.owner)) {
      visible.push_back(std::move(s));
    }
  }
  co_return page_of(std::move(visible), query);
}

async::Task<apis::VectorStore> VectorStoresRouter::retrieve(const apis::CallContext& context,
                                                            std::string id) {
  co_return readable(context, id);
}

async::Task<apis::VectorStore> VectorStoresRouter::update(const apis::CallContext& context,
                                                          std::string id,
                                                          apis::UpdateVectorStoreRequest request) {
  if (request.name) require_clean(*request.name, "name");
  apis::VectorStore store = writable(context, id, auth::Action::kUpdate);
  if (request.name) store.name = *request.name;
  if (request.expires_after) store.expires_after = *request.expires_after;
  if (request.metadata) store.metadata = std::move(*request.metadata);
  store.last_active_at = unix_seconds();
  records_.put_store(store);
  co_return readable(context, id);
}

async::Task<void> VectorStoresRouter::remove(const apis::CallContext& context, std::string id) {
  writable(context, id, auth::Action::kDelete);
  // The records first: a store whose vector DB is gone must not linger.
  records_.remove_store(id);
  try {
    deps_.vector_dbs->unregister_vector_db(id);
  } catch (const ApiError& e) {
    if (e.status() != 404) throw;
  }
  LS_INFO(kCore, "vector store '{}' deleted", id);
  co_return;
}

async::Task<std::string> VectorStoresRouter::rewrite(const apis::CallContext& context,
                                                     std::string query) {
  if (!settings_.rewrite_query_model) {
    throw JsonFieldError("rewrite_query",
                         "Query rewriting is not available: configure "
                         "vector_stores.rewrite_query_params.model");
  }
  std::string prompt = settings_.rewrite_query_prompt;
  prompt.replace(prompt.find("{query}"), 7, query);
  json::object request{
      {"model", *settings_.rewrite_query_model},
      {"messages", json::array{json::object{{"role", "user"}, {"content", prompt}}}},
      {"max_tokens", settings_.rewrite_query_max_tokens},
      {"temperature", settings_.rewrite_query_temperature},
      {"store", false}};
  apis::CallContext child = context;
  child.settle_tokens = {};
  auto call = deps_.inference->chat_completion(child, std::move(request));
  json::object response = co_await std::move(call);
  std::string rewritten;
  if (const auto* choices = json_field(response, "choices");
      choices != nullptr && choices->is_array() && !choices->get_array().empty() &&
      choices->get_array()[0].is_object()) {
    if (const auto* m = json_field(choices->get_array()[0].get_object(), "message");
        m != nullptr && m->is_object()) {
      rewritten = json_string(m->get_object(), "content");
    }
  }
  while (!rewritten.empty() && std::isspace(static_cast<unsigned char>(rewritten.back()))) {
    rewritten.pop_back();
  }
  const std::size_t start = rewritten.find_first_not_of(" \t\r\n");
  if (start == std::string::npos) {
    throw ApiError::bad_gateway("Query rewrite failed: model '" + *settings_.rewrite_query_model +
                                "' answered no text");
  }
  co_return rewritten.substr(start);
}

async::Task<apis::VectorStoreSearchPage> VectorStoresRouter::search(
    const apis::CallContext& context, std::string id, apis::VectorStoreSearchRequest request) {
  const apis::VectorStore store = readable(context, id);
  apis::VectorQuery q;
  if (request.search_mode == "vector") {
    q.mode = apis::SearchMode::kVector;
  } else if (request.search_mode == "keyword") {
    q.mode = apis::SearchMode::kKeyword;
  } else if (request.search_mode == "hybrid") {
    q.mode = apis::SearchMode::kHybrid;
  } else {
    throw JsonFieldError("search_mode",
                         "Field 'search_mode' must be 'vector', 'keyword' or "
                         "'hybrid' (got '" +
                             request.search_mode + "')");
  }
  if (request.max_num_results < 1 || request.max_num_results > 50) {
    throw JsonFieldError("max_num_results", "Field 'max_num_results' must be from 1 to 50");
  }
  q.max_chunks = request.max_num_results;
  q.score_threshold = request.score_threshold;
  if (request.ranker && *request.ranker != "auto" && *request.ranker != "default-2024-11-15" &&
      *request.ranker != "none") {
    if (*request.ranker != "rrf" && *request.ranker != "weighted") {
      throw JsonFieldError("ranking_options.ranker",
                           "Field 'ranking_options.ranker' must be 'rrf', 'weighted', 'auto', "
                           "'default-2024-11-15' or 'none'");
    }
    q.ranker = *request.ranker;
  }
  if (request.alpha) {
    if (*request.alpha < 0 || *request.alpha > 1) {
      throw JsonFieldError("ranking_options.alpha",
                           "Field 'ranking_options.alpha' must be from 0 to 1");
    }
    q.alpha = *request.alpha;
  }
  if (request.impact_factor) {
    if (*request.impact_factor <= 0) {
      throw JsonFieldError("ranking_options.impact_factor",
                           "Field 'ranking_options.impact_factor' must be positive");
    }
    q.impact_factor = *request.impact_factor;
  }
  std::optional<AttributeFilter> filter;
  if (request.filters && !request.filters->is_null()) {
    filter = AttributeFilter::parse(*request.filters);  // 400 before any work
  }
  std::string text;
  for (const auto& part : request.queries) text += (text.empty() ? "" : " ") + part;
  if (text.find_first_not_of(" \t\r\n") == std::string::npos) {
    throw JsonFieldError("query", "Field 'query' must not be empty");
  }
  apis::VectorStoreSearchPage page;
  page.search_query = request.queries;
  if (request.rewrite_query) {
    auto rewritten = rewrite(context, text);
    text = co_await std::move(rewritten);
    page.search_query = {text};
  }
  q.text = text;
  // Each file's current attributes: what filters match and results show.
  const std::map<std::string, json::object> attributes = records_.attributes(id);
  if (filter) {
    auto allowed = std::make_shared<std::unordered_set<std::string>>();
    for (const auto& [file_id, attrs] : attributes) {
      if (filter->matches(attrs)) allowed->insert(file_id);
    }
    q.filter = [allowed](const apis::Chunk& chunk) {
      const json::value* m = chunk.value.if_contains("metadata");
      if (m == nullptr || !m->is_object()) return false;
      const json::value* f = m->get_object().if_contains("file_id");
      return f != nullptr && f->is_string() && allowed->count(std::string(f->get_string())) > 0;
    };
  }
  auto found = deps_.vector_io->search(context, id, std::move(q));
  apis::QueryChunksResponse response = co_await std::move(found);
  for (std::size_t i = 0; i < response.chunks.size(); ++i) {
    const json::object& chunk = response.chunks[i];
    json::object metadata;
    if (const json::value* m = chunk.if_contains("metadata"); m != nullptr && m->is_object()) {
      metadata = m->get_object();
    }
    apis::VectorStoreSearchResult r;
    r.file_id = json_string(metadata, "file_id");
    if (r.file_id.empty()) r.file_id = json_string(metadata, "document_id");
    r.filename = json_string(metadata, "filename");
    if (auto it = attributes.find(r.file_id); it != attributes.end()) {
      r.attributes = it->second;
      if (auto f = records_.file(id, r.file_id); f && !f->filename.empty())
        r.filename = f->filename;
    } else {
      r.attributes = metadata;  // chunks inserted through /v1/vector-io/insert
    }
    r.score = i < response.scores.size() ? response.scores[i] : 0.0;
    r.text = chunk_text(chunk);
    page.data.push_back(std::move(r));
  }
  co_return page;
}

}  // namespace llama_stack::routing
