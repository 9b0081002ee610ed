#include "core/storage/sql_build.h"

namespace llama_stack::storage::sql {

const std::string& identifier(const std::string& name) {
  if (!is_sql_identifier(name)) throw StorageError("invalid SQL identifier '" + name + "'");
  return name;
}

std::string add_value(std::vector<SqlValue>& values, SqlValue value, Placeholders style) {
  values.push_back(std::move(value));
  return style == Placeholders::kQuestionMark ? "?" : "$" + std::to_string(values.size());
}

std::string where_clause(const SqlWhere& where, std::vector<SqlValue>& values, Placeholders style) {
  std::string sql;
  for (const auto& [column, value] : where) {
    sql += sql.empty() ? " WHERE " : " AND ";
    sql += identifier(column);
    sql += std::holds_alternative<std::monostate>(value) ? " IS NULL"
                                                         : " = " + add_value(values, value, style);
  }
  return sql;
}

std::string select(const SqlQuery& query, std::vector<SqlValue>& values, Placeholders style) {
  std::string sql =
      "SELECT * FROM " + identifier(query.table) + where_clause(query.where, values, style);
  if (!query.after.empty()) {
    if (query.after.size() != query.order_by.size()) {
      throw StorageError("sql store: `after` needs one value per order_by column");
    }
    // (c1 > v1) OR (c1 = v1 AND c2 > v2) OR ...; < for descending columns.
    std::string keyset;
    for (std::size_t i = 0; i < query.order_by.size(); ++i) {
      std::string term;
      for (std::size_t j = 0; j < i; ++j) {
        term += identifier(query.order_by[j].first) + " = " +
                add_value(values, query.after[j], style) + " AND ";
      }
      term += identifier(query.order_by[i].first) + (query.order_by[i].second ? " < " : " > ") +
              add_value(values, query.after[i], style);
      keyset += (keyset.empty() ? "(" : " OR (") + term + ")";
    }
    sql += (query.where.empty() ? " WHERE (" : " AND (") + keyset + ")";
  }
  for (std::size_t i = 0; i < query.order_by.size(); ++i) {
    sql += (i == 0 ? " ORDER BY " : ", ") + identifier(query.order_by[i].first) +
           (query.order_by[i].second ? " DESC" : " ASC");
  }
  if (query.limit) sql += " LIMIT " + add_value(values, *query.limit, style);
  return sql;
}

}  // namespace llama_stack::storage::sql
