#include "core/util/api_error.h"

#include <new>

#include "core/log/log.h"
#include "core/util/json.h"
#include "llama_stack/storage/kvstore.h"

namespace llama_stack {

ApiError to_api_error(std::exception_ptr error, std::string_view where) {
  try {
    std::rethrow_exception(error);
  } catch (const ApiError& e) {
    return e;
  } catch (const JsonFieldError& e) {
    return ApiError::bad_request(e.what());
  } catch (const JsonSyntaxError& e) {
    return ApiError::bad_request(e.what());
  } catch (const storage::StorageError& e) {
    // A store that is down (a database restarting) usually is back soon.
    ApiError unavailable = ApiError::unavailable(std::string("Storage unavailable: ") + e.what());
    unavailable.with_header("retry-after", "5");
    return unavailable;
  } catch (const std::bad_alloc&) {
    return ApiError::unavailable("Server out of memory");
  } catch (const std::exception& e) {
    LS_ERROR(kServer, "unexpected error in {}: {}", where, e.what());
  } catch (...) {
    LS_ERROR(kServer, "unexpected non-standard exception in {}", where);
  }
  return ApiError::internal("Internal server error: an unexpected error occurred");
}

}  // namespace llama_stack
