// The SQL text of SqlStore operations, shared by the SQLite and PostgreSQL
// stores: identifiers checked, every value a placeholder ("?" for SQLite,
// "$n" for PostgreSQL) bound from `values` in order.
#pragma once

#include <string>
#include <vector>

#include "core/storage/sql_store.h"

namespace llama_stack::storage::sql {

enum class Placeholders { kQuestionMark, kNumbered };

// `name` if it is an SQL identifier; throws StorageError otherwise.
const std::string& identifier(const std::string& name);

// Appends `value` to `values` and returns its placeholder.
std::string add_value(std::vector<SqlValue>& values, SqlValue value, Placeholders style);

// " WHERE a = ? AND b IS NULL" (empty without conditions).
std::string where_clause(const SqlWhere& where, std::vector<SqlValue>& values, Placeholders style);

// SELECT * FROM <table> with the query's conditions, keyset (`after`),
// ORDER BY and LIMIT.
std::string select(const SqlQuery& query, std::vector<SqlValue>& values, Placeholders style);

}  // namespace llama_stack::storage::sql
