#include "providers/utils/upstream.h"

#include <chrono>
#include <random>

namespace llama_stack::providers::utils {

ApiError transport_error(std::string_view provider_id, const http::ClientError& error) {
  const std::string who = "Provider '" + std::string(provider_id) + "'";
  switch (error.kind) {
    case http::ClientErrorKind::kConnect:
    case http::ClientErrorKind::kInvalid:
      return ApiError::unavailable(who + " is unreachable: " + error.message);
    case http::ClientErrorKind::kTimeout:
      return ApiError::gateway_timeout(who + " timed out: " + error.message);
    case http::ClientErrorKind::kCancelled:
      return ApiError(499, who + ": request cancelled");
    case http::ClientErrorKind::kReset:
    case http::ClientErrorKind::kProtocol:
      break;
  }
  return ApiError::bad_gateway(who + " failed: " + error.message);
}

ApiError http_error(std::string_view provider_id, int status, std::string_view body) {
  std::string message;
  try {
    json::value v = parse_json(body);
    if (v.is_object()) {
      const auto& o = v.get_object();
      if (auto it = o.find("error"); it != o.end()) {
        if (it->value().is_string()) {
          message = it->value().get_string();
        } else if (it->value().is_object()) {
          if (auto m = it->value().get_object().find("message");
              m != it->value().get_object().end() && m->value().is_string()) {
            message = m->value().get_string();
          }
        }
      }
      if (message.empty()) {
        for (const char* key : {"message", "detail"}) {
          if (auto it = o.find(key); it != o.end() && it->value().is_string()) {
            message = it->value().get_string();
            break;
          }
        }
      }
    }
  } catch (const std::exception&) {
  }
  if (message.empty()) message = std::string(body.substr(0, 500));
  const std::string text = "Provider '" + std::string(provider_id) + "' returned " +
                           std::to_string(status) + ": " + message;
  if (status >= 400 && status < 500) return ApiError(status, text);
  return ApiError::bad_gateway(text);
}

ApiError malformed(std::string_view provider_id, std::string_view what) {
  return ApiError::bad_gateway("Provider '" + std::string(provider_id) +
                               "' sent a malformed response: " + std::string(what));
}

apis::CancelFn cancel_of(const std::shared_ptr<http::RequestHandle>& handle) {
  return [weak = std::weak_ptr<http::RequestHandle>(handle)] {
    if (auto h = weak.lock()) h->cancel();
  };
}

std::string random_id(std::string_view prefix) {
  thread_local std::mt19937_64 engine{std::random_device{}()};
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(prefix);
  for (int i = 0; i < 24; ++i) out.push_back(kHex[engine() & 0xF]);
  return out;
}

std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace llama_stack::providers::utils
