#include "core/storage/open_store.h"

namespace llama_stack::storage {

std::shared_ptr<KVStore> open_kvstore(const config::KVStoreConfig& config) {
  std::shared_ptr<KVStore> store;
  if (config.type == "postgres") {
    store = open_postgres_kvstore(config.postgres);
  } else if (config.type == "redis") {
    store = open_redis_kvstore(config.redis);
  } else if (config.type == "sqlite") {
    store = open_sqlite_kvstore(config.db_path);
  } else {
    throw StorageError("unknown kvstore type '" + config.type + "'");
  }
  if (config.namespace_) store = make_namespaced_kvstore(std::move(store), *config.namespace_);
  return store;
}

std::shared_ptr<SqlStore> open_sql_store(const config::SqlStoreConfig& config) {
  if (config.type == "postgres") return open_postgres_sql_store(config.postgres);
  if (config.type == "sqlite") return open_sqlite_sql_store(config.db_path);
  throw StorageError("unknown sql store type '" + config.type + "'");
}

}  // namespace llama_stack::storage
