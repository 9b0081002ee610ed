// The one mapping from any exception to an ApiError, for routers,
// orchestrators and the HTTP exchange alike. Only a real internal fault
// (an exception we do not know) becomes a 500; it is logged with `where`.
#pragma once

#include <exception>
#include <string_view>

#include "llama_stack/common/errors.h"

namespace llama_stack {

// ApiError as is; JSON field and syntax errors → 400; storage errors → 503;
// out of memory → 503; anything else → 500 (logged, message not exposed).
ApiError to_api_error(std::exception_ptr error, std::string_view where = {});

}  // namespace llama_stack
