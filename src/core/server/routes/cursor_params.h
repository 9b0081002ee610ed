// The query parameters of OpenAI cursor lists (vector stores, their files,
// responses, conversation items): limit 1–100 (default 20), order asc|desc
// (default desc), after, before, filter, model — 400 naming a bad one.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "core/http/http_types.h"
#include "core/util/api_error.h"

namespace llama_stack::server::routes {

struct CursorParams {
  std::int64_t limit = 20;
  bool descending = true;
  std::optional<std::string> after, before, filter, model;
};

inline CursorParams cursor_params(const HttpRequest& request) {
  CursorParams q;
  if (auto l = request.query_param("limit")) {
    try {
      q.limit = std::stoll(std::string(*l));
    } catch (const std::exception&) {
      q.limit = 0;
    }
    if (q.limit < 1 || q.limit > 100) {
      throw ApiError::bad_request("Query parameter 'limit' must be an integer from 1 to 100");
    }
  }
  if (auto o = request.query_param("order")) {
    if (*o != "asc" && *o != "desc") {
      throw ApiError::bad_request("Query parameter 'order' must be 'asc' or 'desc'");
    }
    q.descending = *o == "desc";
  }
  auto text = [&](const char* name, std::optional<std::string>& into) {
    if (auto v = request.query_param(name); v && !v->empty()) into = std::string(*v);
  };
  text("after", q.after);
  text("before", q.before);
  text("filter", q.filter);
  text("model", q.model);
  return q;
}

}  // namespace llama_stack::server::routes
