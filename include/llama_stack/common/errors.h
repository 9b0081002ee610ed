// Errors that end a request. Handlers and providers throw ApiError (or a
// subclass); the route dispatcher is the one place that turns any exception
// into an HTTP status and our error body:
//   {"detail": "...", "error": {"message": "...", "type": "...", "code": ...}}
//
// `detail` is what FastAPI clients read, `error` what OpenAI clients read.
#pragma once

#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace llama_stack {

class ApiError : public std::runtime_error {
 public:
  ApiError(int status, std::string message, std::string type = {})
      : std::runtime_error(std::move(message)), status_(status), type_(std::move(type)) {}

  int status() const { return status_; }
  // OpenAI-style error type; derived from the status when not given.
  std::string type() const;

  // Extra response headers (e.g. Retry-After, WWW-Authenticate, Allow).
  std::vector<std::pair<std::string, std::string>>& headers() { return headers_; }
  const std::vector<std::pair<std::string, std::string>>& headers() const { return headers_; }
  ApiError& with_header(std::string name, std::string value) {
    headers_.emplace_back(std::move(name), std::move(value));
    return *this;
  }

  // The error's `code` for OpenAI clients (e.g. "content_filter"); empty:
  // the status number.
  const std::string& code() const { return code_; }
  ApiError& with_code(std::string code) {
    code_ = std::move(code);
    return *this;
  }
  // More members of the body's `error` object, each as JSON text (e.g.
  // {"categories", "[\"violence\"]"}).
  const std::vector<std::pair<std::string, std::string>>& fields() const { return fields_; }
  ApiError& with_field(std::string name, std::string json_text) {
    fields_.emplace_back(std::move(name), std::move(json_text));
    return *this;
  }

  static ApiError bad_request(std::string message) { return {400, std::move(message)}; }
  static ApiError unauthorized(std::string message) { return {401, std::move(message)}; }
  static ApiError forbidden(std::string message) { return {403, std::move(message)}; }
  static ApiError not_found(std::string message) { return {404, std::move(message)}; }
  static ApiError conflict(std::string message) { return {409, std::move(message)}; }
  static ApiError payload_too_large(std::string message) { return {413, std::move(message)}; }
  static ApiError unprocessable(std::string message) { return {422, std::move(message)}; }
  static ApiError too_many_requests(std::string message) { return {429, std::move(message)}; }
  static ApiError internal(std::string message) { return {500, std::move(message)}; }
  static ApiError not_implemented(std::string message) { return {501, std::move(message)}; }
  static ApiError bad_gateway(std::string message) { return {502, std::move(message)}; }
  static ApiError unavailable(std::string message) { return {503, std::move(message)}; }
  static ApiError gateway_timeout(std::string message) { return {504, std::move(message)}; }

 private:
  int status_;
  std::string type_;
  std::vector<std::pair<std::string, std::string>> headers_;
  std::string code_;
  std::vector<std::pair<std::string, std::string>> fields_;
};

// OpenAI-style error type for an HTTP status ("invalid_request_error", ...).
std::string error_type_for_status(int status);

}  // namespace llama_stack
