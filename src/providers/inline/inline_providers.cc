#include "providers/inline/inline_providers.h"

#include <mutex>

#include "core/config/config_node.h"
#include "core/config/stack_config.h"
#include "core/log/log.h"
#include "core/util/json.h"
#include "llama_stack/common/errors.h"
#include "llama_stack/storage/kvstore.h"

namespace llama_stack::providers::inline_ {
namespace {

using config::ConfigNode;
using config::Diagnostics;
using config::MapReader;

constexpr std::string_view kFaissPrefix = "faiss_index:v3::";

struct FaissConfig {
  config::KVStoreConfig kvstore;

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
    r.finish();
    return c;
  }
};

class FaissVectorIO final : public VectorIOProvider {
 public:
  FaissVectorIO(ProviderContext context, FaissConfig config)
      : context_(std::move(context)), config_(std::move(config)) {}

  void initialize() override {
    std::shared_ptr<storage::KVStore> store = storage::open_sqlite_kvstore(config_.kvstore.db_path);
    if (config_.kvstore.namespace_) {
      store = storage::make_namespaced_kvstore(store, *config_.kvstore.namespace_);
    }
    store_ = std::move(store);
    const auto entries = store_->scan_prefix(kFaissPrefix);
    LS_INFO(kCore, "{} (inline::faiss): {} vector database(s) in {}", context_.provider_id,
            entries.size(), config_.kvstore.db_path);
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
    store_->set(std::string(kFaissPrefix) + vector_db.identifier, to_json(vector_db.to_json()));
  }

  void unregister_vector_db(const std::string& vector_db_id) override {
    store_->remove(std::string(kFaissPrefix) + vector_db_id);
  }

 private:
  ProviderContext context_;
  FaissConfig config_;
  std::shared_ptr<storage::KVStore> store_;
};

}  // namespace

ProviderSpec faiss_spec() {
  ProviderSpec spec;
  spec.api = "vector_io";
  spec.provider_type = "inline::faiss";
  spec.description = "FAISS vector index with kvstore persistence";
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
