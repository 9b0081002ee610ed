// page_of(): the template of vector_store_records.h.
#pragma once

#include <algorithm>

#include "core/util/api_error.h"
#include "core/util/json.h"

namespace llama_stack::routing {

template <class T>
apis::Page<T> page_of(std::vector<T> items, const apis::PageQuery& query) {
  if (query.descending) std::reverse(items.begin(), items.end());
  auto position = [&](const std::string& id, const char* field) {
    auto it = std::find_if(items.begin(), items.end(), [&](const T& t) { return t.id == id; });
    if (it == items.end()) {
      throw JsonFieldError(
          field, std::string("Field '") + field + "': '" + id + "' is not an item of this listing");
    }
    return it;
  };
  auto begin = items.begin();
  auto end = items.end();
  if (query.after) begin = position(*query.after, "after") + 1;
  if (query.before) end = position(*query.before, "before");
  apis::Page<T> page;
  if (begin >= end) return page;
  const auto limit = static_cast<std::ptrdiff_t>(query.limit);
  page.has_more = end - begin > limit;
  if (page.has_more && query.before && !query.after) {
    begin = end - limit;  // the page just before `before`
  } else if (page.has_more) {
    end = begin + limit;
  }
  page.data.assign(std::make_move_iterator(begin), std::make_move_iterator(end));
  return page;
}

}  // namespace llama_stack::routing
