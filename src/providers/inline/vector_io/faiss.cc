// inline::faiss: vector DBs in Debian's libfaiss — exact search (IndexFlatL2)
// by default, HNSW (IndexHNSWFlat) with `index: hnsw` — with every chunk
// persisted in the configured kvstore, one entry per chunk, so an insert
// writes only its chunks; the index is rebuilt from them at startup. Keyword
// and hybrid modes use a BM25 index over the same chunks (in memory, rebuilt
// with the vectors).
//
// Kvstore layout: "faiss_index:v3::<db>" → the vector DB (JSON);
// "faiss_chunk:v1::<db>::<seq, 20 digits>" → a stored chunk
// (providers/utils/vector_search.h).
#include <faiss/IndexFlat.h>
#include <faiss/IndexHNSW.h>
#include <faiss/impl/IDSelector.h>
#include <omp.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <mutex>
#include <shared_mutex>
#include <unordered_map>

#include "core/config/config_node.h"
#include "core/config/stack_config.h"
#include "core/log/log.h"
#include "core/storage/open_store.h"
#include "core/util/api_error.h"
#include "llama_stack/async/thread_pool.h"
#include "llama_stack/providers/provider.h"
#include "llama_stack/storage/kvstore.h"
#include "providers/inline/inline_providers.h"
#include "providers/utils/vector_search.h"

namespace llama_stack::providers::inline_ {
namespace {

using config::ConfigNode;
using config::Diagnostics;
using config::MapReader;

using Label = faiss::Index::idx_t;  // faiss 1.7.3 (Debian 12) has no faiss::idx_t yet

constexpr std::string_view kDbPrefix = "faiss_index:v3::";
constexpr std::string_view kChunkPrefix = "faiss_chunk:v1::";
// Shared kvstores (postgres, redis): per vector DB, a counter bumped by every
// insert and delete, so other replicas notice and reload; and the next chunk
// sequence number, allocated atomically so replicas never write the same key.
constexpr std::string_view kVersionPrefix = "faiss_version:v1::";
constexpr std::string_view kSeqPrefix = "faiss_seq:v1::";

struct FaissConfig {
  config::KVStoreConfig kvstore;
  std::string index = "flat";  // flat | hnsw (ours)
  std::int64_t hnsw_m = 32;
  std::int64_t ef_construction = 40;
  std::int64_t ef_search = 64;

  static FaissConfig parse(const ConfigNode& node, Diagnostics& diagnostics) {
    FaissConfig c;
    MapReader r(node, diagnostics);
    const ConfigNode* kv = r.node("kvstore");
    if (kv == nullptr || kv->is_null()) {
      diagnostics.error(node.location, node.path + ".kvstore", "required key is missing");
    } else {
      c.kvstore = config::parse_kvstore_config(*kv, diagnostics,
                                               config::config_dir() + "/runtime/faiss_store.db");
    }
    c.index = r.string_or("index", c.index);
    if (c.index != "flat" && c.index != "hnsw") {
      diagnostics.error(*node.find("index"), "index must be 'flat' (exact) or 'hnsw'");
    }
    c.hnsw_m = r.integer("hnsw_m", 4, 256).value_or(c.hnsw_m);
    c.ef_construction = r.integer("ef_construction", 8, 4096).value_or(c.ef_construction);
    c.ef_search = r.integer("ef_search", 8, 4096).value_or(c.ef_search);
    r.finish();
    return c;
  }
};

std::string seq_key(const std::string& db, std::uint64_t seq) {
  char digits[32];
  std::snprintf(digits, sizeof digits, "%020llu", static_cast<unsigned long long>(seq));
  return std::string(kChunkPrefix) + db + "::" + digits;
}

// One vector DB: the faiss index (labels 0…n-1 in insertion order), the
// chunks by id, the keyword index. A replaced chunk's old label goes stale
// (faiss HNSW cannot remove), and searches skip it.
struct Collection {
  std::int64_t dimension = 0;
  std::unique_ptr<faiss::Index> index;
  std::vector<std::string> label_id;  // label → chunk id ("" when stale)
  struct Stored {
    apis::Chunk chunk;
    Label label = 0;
    std::uint64_t seq = 0;
  };
  std::unordered_map<std::string, Stored> chunks;
  std::size_t stale = 0;
  std::uint64_t next_seq = 1;
  utils::KeywordIndex keywords;
  // Shared kvstores: the store's change counter this copy reflects.
  std::int64_t version = -1;
  std::shared_mutex mutex;
};

// The labels a filtered search may return: live ones whose chunk the
// query's filter keeps.
struct LabelFilter final : faiss::IDSelector {
  LabelFilter(const Collection& c, const apis::ChunkFilter& keep) : c(c), keep(keep) {}
  bool is_member(idx_t label) const override {
    if (label < 0 || static_cast<std::size_t>(label) >= c.label_id.size()) return false;
    const std::string& id = c.label_id[static_cast<std::size_t>(label)];
    if (id.empty()) return false;
    auto it = c.chunks.find(id);
    return it != c.chunks.end() && keep(it->second.chunk);
  }
  const Collection& c;
  const apis::ChunkFilter& keep;
};

bool config_hnsw(const Collection& c) {
  return dynamic_cast<const faiss::IndexHNSW*>(c.index.get()) != nullptr;
}

class FaissVectorIO final : public VectorIOProvider {
 public:
  FaissVectorIO(ProviderContext context, FaissConfig config)
      : context_(std::move(context)), config_(std::move(config)) {}

  void initialize() override {
    store_ = storage::open_kvstore(config_.kvstore);
    shared_ = config_.kvstore.type != "sqlite";
    std::size_t total = 0;
    for (const auto& [key, value] : store_->scan_prefix(kDbPrefix)) {
      const std::string id = key.substr(kDbPrefix.size());
      apis::VectorDB db;
      try {
        db = apis::VectorDB::from_json(parse_json(value));
      } catch (const std::exception&) {
        LS_WARN(kCore,
                "{}: '{}' is not a vector DB record of ours (a Python faiss index?); "
                "skipped",
                context_.provider_id, key);
        continue;
      }
      const std::int64_t version = shared_ ? stored_version(id) : -1;  // before the scan
      auto collection = load_collection(id, db.embedding_dimension);
      collection->version = version;
      if (shared_) {
        // Chunks written before the shared sequence counter existed.
        const std::string seq_key = std::string(kSeqPrefix) + id;
        const std::int64_t next = store_->increment(seq_key, 0) + 1;
        const auto wanted = static_cast<std::int64_t>(collection->next_seq);
        if (next < wanted) store_->increment(seq_key, wanted - next);
      }
      total += collection->chunks.size();
      collections_[id] = std::move(collection);
    }
    LS_INFO(kCore, "{} (inline::faiss, {}): {} vector database(s), {} chunk(s) in {}",
            context_.provider_id, config_.index, collections_.size(), total,
            config_.kvstore.describe());
  }

  void shutdown() noexcept override {
    try {
      if (store_) store_->flush();
    } catch (const std::exception& e) {
      LS_WARN(kCore, "{}: flushing kvstore failed: {}", context_.provider_id, e.what());
    }
    store_.reset();
  }

  void health(std::function<void(HealthResponse)> done) override {
    try {
      store_->get("health-check");
      done({"OK", ""});
    } catch (const std::exception& e) {
      done({"Error", e.what()});
    }
  }

  void register_vector_db(const apis::VectorDB& vector_db) override {
    std::lock_guard lock(collections_mutex_);
    auto it = collections_.find(vector_db.identifier);
    if (it != collections_.end() && it->second->dimension == vector_db.embedding_dimension) {
      // Registered again (run.yaml at each start): the chunks stay.
      store_->set(std::string(kDbPrefix) + vector_db.identifier, to_json(vector_db.to_json()));
      return;
    }
    if (it != collections_.end()) {
      LS_WARN(kCore,
              "{}: vector DB '{}' registered with dimension {} (was {}): its chunks are "
              "dropped",
              context_.provider_id, vector_db.identifier, vector_db.embedding_dimension,
              it->second->dimension);
      drop_chunks(vector_db.identifier);
    }
    store_->set(std::string(kDbPrefix) + vector_db.identifier, to_json(vector_db.to_json()));
    collections_[vector_db.identifier] = make_collection(vector_db.embedding_dimension);
  }

  void unregister_vector_db(const std::string& vector_db_id) override {
    std::lock_guard lock(collections_mutex_);
    drop_chunks(vector_db_id);
    store_->remove(std::string(kDbPrefix) + vector_db_id);
    collections_.erase(vector_db_id);
  }

  async::Task<void> insert_chunks(const apis::CallContext& context, const apis::VectorDB& vector_db,
                                  std::vector<apis::Chunk> chunks) override {
    auto work = async::offload<void>(context.executor, workers(), [&] {
      std::shared_ptr<Collection> collection = current(vector_db);
      std::unique_lock lock(collection->mutex);
      std::vector<std::uint64_t> seqs;
      std::uint64_t first = collection->next_seq;
      if (shared_ && !chunks.empty()) {
        const auto n = static_cast<std::int64_t>(chunks.size());
        first = static_cast<std::uint64_t>(
            store_->increment(std::string(kSeqPrefix) + vector_db.identifier, n) - n + 1);
      }
      // One kvstore transaction (SQLite): the chunks land together or not at all.
      store_->transaction([&] {
        for (auto& chunk : chunks) {
          const std::uint64_t seq = first + seqs.size();
          if (auto old = collection->chunks.find(chunk.id); old != collection->chunks.end()) {
            store_->remove(seq_key(vector_db.identifier, old->second.seq));
          }
          store_->set(seq_key(vector_db.identifier, seq), utils::encode_stored_chunk(chunk));
          seqs.push_back(seq);
        }
      });
      add_to(*collection, chunks, seqs);
      bump_version(vector_db.identifier, *collection);
    });
    co_await work;
  }

  async::Task<void> delete_chunks(const apis::CallContext& context, const apis::VectorDB& vector_db,
                                  std::vector<std::string> chunk_ids) override {
    auto work = async::offload<void>(context.executor, workers(), [&] {
      std::shared_ptr<Collection> collection = current(vector_db);
      std::unique_lock lock(collection->mutex);
      std::vector<std::string> found;
      store_->transaction([&] {
        for (const auto& id : chunk_ids) {
          auto it = collection->chunks.find(id);
          if (it == collection->chunks.end()) continue;
          store_->remove(seq_key(vector_db.identifier, it->second.seq));
          found.push_back(id);
        }
      });
      for (const auto& id : found) {
        auto it = collection->chunks.find(id);
        if (it == collection->chunks.end()) continue;  // listed twice
        collection->label_id[static_cast<std::size_t>(it->second.label)].clear();
        ++collection->stale;
        collection->keywords.remove(id);
        collection->chunks.erase(it);
      }
      if (!found.empty()) bump_version(vector_db.identifier, *collection);
    });
    co_await work;
  }

  async::Task<std::vector<apis::Chunk>> list_chunks(const apis::CallContext& context,
                                                    const apis::VectorDB& vector_db,
                                                    apis::ChunkFilter keep) override {
    auto work = async::offload<std::vector<apis::Chunk>>(context.executor, workers(), [&] {
      std::shared_ptr<Collection> collection = current(vector_db);
      std::shared_lock lock(collection->mutex);
      std::vector<const Collection::Stored*> kept;
      for (const auto& [id, stored] : collection->chunks) {
        if (!keep || keep(stored.chunk)) kept.push_back(&stored);
      }
      std::sort(kept.begin(), kept.end(),
                [](const auto* a, const auto* b) { return a->seq < b->seq; });
      std::vector<apis::Chunk> out;
      out.reserve(kept.size());
      for (const auto* stored : kept) out.push_back(stored->chunk);
      return out;
    });
    co_return co_await work;
  }

  async::Task<apis::QueryChunksResponse> query_chunks(const apis::CallContext& context,
                                                      const apis::VectorDB& vector_db,
                                                      apis::VectorQuery query) override {
    auto work = async::offload<apis::QueryChunksResponse>(context.executor, workers(), [&]() {
      std::shared_ptr<Collection> collection = current(vector_db);
      return search(*collection, query);
    });
    co_return co_await work;
  }

 private:
  async::Executor& workers() const {
    if (context_.workers == nullptr) throw ApiError::internal("inline::faiss: no worker threads");
    return *context_.workers;
  }

  std::unique_ptr<Collection> make_collection(std::int64_t dimension) const {
    auto c = std::make_unique<Collection>();
    c->dimension = dimension;
    if (config_.index == "hnsw") {
      auto hnsw = std::make_unique<faiss::IndexHNSWFlat>(static_cast<int>(dimension),
                                                         static_cast<int>(config_.hnsw_m));
      hnsw->hnsw.efConstruction = static_cast<int>(config_.ef_construction);
      hnsw->hnsw.efSearch = static_cast<int>(config_.ef_search);
      c->index = std::move(hnsw);
    } else {
      c->index = std::make_unique<faiss::IndexFlatL2>(static_cast<Label>(dimension));
    }
    return c;
  }

  // The collection of `vector_db`, up to date. Runs on a worker thread: it
  // may read the kvstore. With a shared kvstore, another replica may have
  // changed the chunks: when the store's change counter differs from the one
  // this copy reflects, the collection is reloaded from the store.
  std::shared_ptr<Collection> current(const apis::VectorDB& vector_db) {
    std::shared_ptr<Collection> collection;
    {
      std::lock_guard lock(collections_mutex_);
      if (auto it = collections_.find(vector_db.identifier); it != collections_.end()) {
        collection = it->second;
      }
    }
    if (collection && !shared_) return collection;
    if (!collection && !shared_) {
      // Known to the registry but not here (e.g. the kvstore was replaced).
      std::lock_guard lock(collections_mutex_);
      auto [it, added] = collections_.try_emplace(vector_db.identifier, nullptr);
      if (added) {
        it->second = make_collection(vector_db.embedding_dimension);
        store_->set(std::string(kDbPrefix) + vector_db.identifier, to_json(vector_db.to_json()));
      }
      return it->second;
    }
    const std::int64_t version = stored_version(vector_db.identifier);
    if (collection) {
      std::shared_lock lock(collection->mutex);
      if (collection->version == version) return collection;
    }
    std::shared_ptr<Collection> fresh =
        load_collection(vector_db.identifier, vector_db.embedding_dimension);
    fresh->version = version;
    std::lock_guard lock(collections_mutex_);
    auto& slot = collections_[vector_db.identifier];
    // Keep a copy another thread loaded meanwhile if it is at least as new.
    if (!slot || slot->version < version) slot = fresh;
    return slot;
  }

  std::int64_t stored_version(const std::string& vector_db_id) {
    const auto value = store_->get(std::string(kVersionPrefix) + vector_db_id);
    std::int64_t version = 0;
    if (value) std::from_chars(value->data(), value->data() + value->size(), version);
    return version;
  }

  // After this replica changed `c` (its lock held): tells the others, and
  // keeps `c` current unless someone else changed the DB in between.
  void bump_version(const std::string& vector_db_id, Collection& c) {
    if (!shared_) return;
    const std::int64_t version = store_->increment(std::string(kVersionPrefix) + vector_db_id, 1);
    c.version = version == c.version + 1 ? version : -1;
  }

  // Reads a vector DB's chunks from the kvstore into a new collection.
  std::unique_ptr<Collection> load_collection(const std::string& id, std::int64_t dimension) {
    auto collection = make_collection(dimension);
    std::vector<apis::Chunk> restored;
    std::vector<std::uint64_t> seqs;
    const std::string prefix = std::string(kChunkPrefix) + id + "::";
    for (const auto& [chunk_key, stored] : store_->scan_prefix(prefix)) {
      std::uint64_t seq = 0;
      const std::string_view digits = std::string_view(chunk_key).substr(prefix.size());
      std::from_chars(digits.data(), digits.data() + digits.size(), seq);
      try {
        restored.push_back(utils::decode_stored_chunk(stored));
        seqs.push_back(seq);
      } catch (const std::exception& e) {
        LS_WARN(kCore, "{}: unreadable chunk '{}' skipped: {}", context_.provider_id, chunk_key,
                e.what());
      }
    }
    add_to(*collection, restored, seqs);
    return collection;
  }

  // REQUIRES: the collection's lock (or exclusive use, at startup).
  static void add_to(Collection& c, std::vector<apis::Chunk>& chunks,
                     const std::vector<std::uint64_t>& seqs) {
    if (chunks.empty()) return;
    std::vector<float> data;
    data.reserve(chunks.size() * static_cast<std::size_t>(c.dimension));
    for (const auto& chunk : chunks)
      data.insert(data.end(), chunk.embedding.begin(), chunk.embedding.end());
    Label label = c.index->ntotal;
    c.index->add(static_cast<Label>(chunks.size()), data.data());
    for (std::size_t i = 0; i < chunks.size(); ++i, ++label) {
      auto& chunk = chunks[i];
      if (auto old = c.chunks.find(chunk.id); old != c.chunks.end()) {
        c.label_id[static_cast<std::size_t>(old->second.label)].clear();
        ++c.stale;
      }
      c.label_id.push_back(chunk.id);
      c.keywords.add(chunk.id, chunk.text);
      c.next_seq = std::max(c.next_seq, seqs[i] + 1);
      const std::string id = chunk.id;
      c.chunks[id] = Collection::Stored{std::move(chunk), label, seqs[i]};
    }
  }

  // One query vector is searched on the calling worker alone: faiss
  // parallelises over query vectors, so a team gains nothing for one, and its
  // idle threads spin after each region, taking the cores the I/O threads
  // need (measured: 1.31× → 1.09× of raw search + HTTP at 10k vectors).
  struct SingleThreaded {
    int saved = omp_get_max_threads();
    SingleThreaded() { omp_set_num_threads(1); }
    ~SingleThreaded() { omp_set_num_threads(saved); }
  };

  static apis::QueryChunksResponse search(Collection& c, const apis::VectorQuery& q) {
    std::shared_lock lock(c.mutex);
    const SingleThreaded single;
    const auto k = static_cast<std::size_t>(q.max_chunks);
    std::vector<std::pair<std::string, double>> vector_hits, keyword_hits;
    if (q.mode != apis::SearchMode::kKeyword && c.index->ntotal > 0) {
      // With a filter, faiss consults it (and skips stale labels) while it
      // searches, so k matching chunks come back however rare they are.
      LabelFilter selector(c, q.filter);
      std::unique_ptr<faiss::SearchParameters> params;
      if (q.filter) {
        if (config_hnsw(c)) {
          auto p = std::make_unique<faiss::SearchParametersHNSW>();
          p->efSearch = static_cast<faiss::IndexHNSW&>(*c.index).hnsw.efSearch;
          params = std::move(p);
        } else {
          params = std::make_unique<faiss::SearchParameters>();
        }
        params->sel = &selector;
      }
      const Label want =
          std::min<Label>(c.index->ntotal, static_cast<Label>(q.filter ? k : k + c.stale));
      std::vector<float> distances(static_cast<std::size_t>(want));
      std::vector<Label> labels(static_cast<std::size_t>(want));
      c.index->search(1, q.embedding.data(), want, distances.data(), labels.data(), params.get());
      for (Label i = 0; i < want && vector_hits.size() < k; ++i) {
        const Label label = labels[static_cast<std::size_t>(i)];
        if (label < 0 || c.label_id[static_cast<std::size_t>(label)].empty()) continue;
        // faiss's L2 distances are squared; the score is Llama Stack's 1/d.
        vector_hits.emplace_back(c.label_id[static_cast<std::size_t>(label)],
                                 utils::distance_score(distances[static_cast<std::size_t>(i)]));
      }
    }
    if (q.mode != apis::SearchMode::kVector) {
      if (q.filter) {
        const utils::IdFilter keep = [&](const std::string& id) {
          auto it = c.chunks.find(id);
          return it != c.chunks.end() && q.filter(it->second.chunk);
        };
        keyword_hits = c.keywords.search(q.text, k, &keep);
      } else {
        keyword_hits = c.keywords.search(q.text, k);
      }
    }
    return utils::query_response(std::move(vector_hits), std::move(keyword_hits), q,
                                 [&](const std::string& id) -> const apis::Chunk* {
                                   auto it = c.chunks.find(id);
                                   return it == c.chunks.end() ? nullptr : &it->second.chunk;
                                 });
  }

  // REQUIRES: collections_mutex_.
  void drop_chunks(const std::string& vector_db_id) {
    const std::string prefix = std::string(kChunkPrefix) + vector_db_id + "::";
    const auto entries = store_->scan_prefix(prefix);
    store_->transaction([&] {
      for (const auto& [key, value] : entries) store_->remove(key);
    });
    if (shared_) store_->increment(std::string(kVersionPrefix) + vector_db_id, 1);
  }

  ProviderContext context_;
  FaissConfig config_;
  std::shared_ptr<storage::KVStore> store_;
  bool shared_ = false;  // the kvstore is shared between replicas (not SQLite)
  std::mutex collections_mutex_;
  std::unordered_map<std::string, std::shared_ptr<Collection>> collections_;
};

}  // namespace

ProviderSpec faiss_spec() {
  ProviderSpec spec;
  spec.api = "vector_io";
  spec.provider_type = "inline::faiss";
  spec.description = "FAISS vector index (flat or HNSW) with kvstore persistence";
  spec.api_dependencies = {"inference"};
  spec.validate_config = [](const ConfigNode& node, Diagnostics& d) {
    FaissConfig::parse(node, d);
  };
  spec.create = [](const ProviderContext& context, const ConfigNode& node) {
    Diagnostics ignored;
    return std::unique_ptr<Provider>(new FaissVectorIO(context, FaissConfig::parse(node, ignored)));
  };
  return spec;
}

}  // namespace llama_stack::providers::inline_
