// What error a piece of code ends with, as the client would see it: the
// ApiError that to_api_error() maps its exception to.
#pragma once

#include <functional>

#include "core/util/api_error.h"

namespace llama_stack::testing {

// The mapped error `f` throws, or ApiError(0, "no error") when it returns.
inline ApiError error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (...) {
    return to_api_error(std::current_exception(), "test");
  }
  return ApiError(0, "no error");
}

// Its status (0 when `f` returns).
inline int status_of(const std::function<void()>& f) {
  return error_of(f).status();
}

}  // namespace llama_stack::testing
