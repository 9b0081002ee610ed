// Opens the store a run.yaml `kvstore` / SQL store section names, whatever
// its backend (sqlite, postgres, redis), with its namespace applied.
#pragma once

#include <memory>

#include "core/config/stack_config.h"
#include "core/storage/sql_store.h"
#include "llama_stack/storage/kvstore.h"

namespace llama_stack::storage {

// Throws StorageError naming the store's address when it cannot be opened.
std::shared_ptr<KVStore> open_kvstore(const config::KVStoreConfig& config);
std::shared_ptr<SqlStore> open_sql_store(const config::SqlStoreConfig& config);

}  // namespace llama_stack::storage
