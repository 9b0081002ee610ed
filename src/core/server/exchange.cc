#include "core/server/exchange.h"

#include "core/log/log.h"
#include "core/util/api_error.h"
#include "llama_stack/async/spawn.h"
#include "llama_stack/storage/kvstore.h"

namespace llama_stack {

std::string error_type_for_status(int status) {
  switch (status) {
    case 400:
      return "invalid_request_error";
    case 401:
      return "authentication_error";
    case 403:
      return "permission_error";
    case 404:
      return "not_found_error";
    case 405:
      return "method_not_allowed";
    case 409:
      return "conflict_error";
    case 413:
      return "request_too_large";
    case 422:
      return "invalid_request_error";
    case 429:
      return "rate_limit_error";
    case 501:
      return "not_implemented_error";
    case 502:
      return "upstream_error";
    case 503:
      return "service_unavailable";
    case 504:
      return "timeout_error";
    default:
      return status >= 500 ? "api_error" : "invalid_request_error";
  }
}

std::string ApiError::type() const {
  return type_.empty() ? error_type_for_status(status_) : type_;
}

namespace server {

const std::string& RequestContext::param(const std::string& name) const {
  static const std::string kEmpty;
  auto it = path_params.find(name);
  return it == path_params.end() ? kEmpty : it->second;
}

json::value RequestContext::json_body() const {
  if (request.body.empty())
    throw ApiError::bad_request("Request body is empty; expected a JSON object");
  json::value value;
  try {
    value = parse_json(request.body);
  } catch (const JsonSyntaxError& e) {
    throw ApiError::bad_request(e.what());
  }
  if (!value.is_object()) {
    throw ApiError::bad_request("Request body must be a JSON object, got " +
                                std::string(json_kind_name(value.kind())));
  }
  return value;
}

HttpResponse make_error_response(const ApiError& error) {
  HttpResponse response;
  response.status = error.status();
  json::object inner{{"message", error.what()}, {"type", error.type()}};
  if (error.code().empty()) {
    inner["code"] = error.status();
  } else {
    inner["code"] = error.code();
  }
  for (const auto& [name, text] : error.fields()) {
    try {
      inner[name] = parse_json(text);
    } catch (const JsonSyntaxError&) {
      inner[name] = text;
    }
  }
  json::object body{{"detail", error.what()}, {"error", std::move(inner)}};
  response.body = to_json(body);
  for (const auto& [name, value] : error.headers()) response.headers.add(name, value);
  // Stainless clients (llama-stack-client, openai) retry 409 and 5xx unless told not to;
  // only overload and upstream failures are worth a retry.
  const int s = error.status();
  const bool retryable = s == 429 || s == 502 || s == 503 || s == 504;
  if (!response.headers.contains("x-should-retry")) {
    response.headers.add("x-should-retry", retryable ? "true" : "false");
  }
  return response;
}

Exchange::Exchange(HttpRequest request, std::shared_ptr<ResponseSink> sink)
    : sink_(std::move(sink)), executor_(*sink_) {
  context_.request = std::move(request);
  sink_->on_cancel([stop = stop_]() mutable { stop.request_stop(); });
}

void Exchange::on_cancel(std::function<void()> callback) {
  std::lock_guard lock(cancel_mutex_);
  cancel_callbacks_.push_back(std::make_unique<std::stop_callback<std::function<void()>>>(
      stop_.get_token(), std::move(callback)));
}

apis::CallContext Exchange::call_context(bool with_provider_data) {
  apis::CallContext call;
  call.user = context_.user;
  call.scopes = context_.scopes;
  call.token_issuer = context_.token_issuer;
  call.client_ip = context_.request.remote_address;
  call.method = context_.request.method;
  call.path = context_.request.path;
  call.trace_id = context_.trace_id;
  call.span_id = context_.span_id;
  if (auto header = context_.request.headers.get("x-llamastack-provider-data");
      with_provider_data && header && !header->empty()) {
    json::value value;
    try {
      value = parse_json(*header);
    } catch (const std::exception&) {
    }
    if (!value.is_object()) {
      throw ApiError::bad_request("X-LlamaStack-Provider-Data must be a JSON object");
    }
    call.provider_data = std::move(value.get_object());
  }
  call.executor = &executor_;
  call.stop = stop_.get_token();
  call.settle_tokens = context_.settle_tokens;
  call.start = context_.start;
  return call;
}

void Exchange::decorate(Headers& headers) const {
  headers.set("x-trace-id", context_.trace_id);
  for (const auto& [name, value] : context_.response_headers.entries()) headers.set(name, value);
}

Exchange::~Exchange() {
  if (!completed_.load())
    complete(stream_status_ == 0 ? 499 : stream_status_, stream_bytes_, stream_status_ != 0, false);
}

void Exchange::complete(int status, std::size_t bytes, bool streamed, bool completed) {
  if (completed_.exchange(true)) return;
  const auto elapsed = std::chrono::steady_clock::now() - context_.start;
  const double ms = std::chrono::duration<double, std::milli>(elapsed).count();
  const auto& r = context_.request;
  LS_INFO(kServer, "{} \"{} {}\" {} {} {:.3f}ms trace={}", r.remote_address, r.method, r.target,
          status, bytes, ms, context_.trace_id);
  if (on_complete) {
    try {
      on_complete(*this, ResponseSummary{status, bytes, elapsed, streamed, completed});
    } catch (const std::exception& e) {
      LS_ERROR(kServer, "on_response hook failed for {} {}: {}", r.method, r.target, e.what());
    }
  }
}

void Exchange::send(HttpResponse response) {
  if (responded_.exchange(true)) {
    LS_ERROR(kServer, "second response for {} {} dropped", context_.request.method,
             context_.request.target);
    return;
  }
  decorate(response.headers);
  complete(response.status, response.body.size(), false, true);
  sink_->send(std::move(response));
}

void Exchange::send_json(int status, const json::value& body) {
  HttpResponse response;
  response.status = status;
  response.body = to_json(body);
  send(std::move(response));
}

void Exchange::send_error(const ApiError& error) {
  if (error.status() >= 500) {
    LS_ERROR(kServer, "{} {} failed: {} {}", context_.request.method, context_.request.target,
             error.status(), error.what());
  }
  send(make_error_response(error));
}

void Exchange::send_exception(std::exception_ptr error) {
  ApiError api_error =
      to_api_error(std::move(error), context_.request.method + " " + context_.request.target);
  if (api_error.status() != 499) send_error(api_error);
}

void Exchange::serve(async::Task<void> handler) {
  async::spawn(std::move(handler), [self = shared_from_this()](std::exception_ptr failure) {
    if (failure && !self->responded()) self->send_exception(failure);
  });
}

void Exchange::start_stream(int status, std::string content_type, Headers headers) {
  if (responded_.exchange(true)) return;
  decorate(headers);
  stream_status_ = status;
  sink_->start_stream(status, std::move(headers), std::move(content_type));
}

void Exchange::write_chunk(std::string data) {
  stream_bytes_ += data.size();
  sink_->write_chunk(std::move(data));
}

void Exchange::abort() {
  responded_.store(true);
  complete(stream_status_ == 0 ? 499 : stream_status_, stream_bytes_, stream_status_ != 0, false);
  sink_->abort();
}

void Exchange::end_stream() {
  complete(stream_status_, stream_bytes_, true, !cancelled());
  sink_->end_stream();
}

}  // namespace server
}  // namespace llama_stack
