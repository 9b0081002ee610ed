// ChildSpan: a router call recorded as a child span of its caller's — a
// shield run, a tool call, a vector search. Its context() is the caller's
// with the child's span id, so calls made inside it (a guard's model call,
// the embedding of a query) become its children. Recorded by finish()
// (once); without a telemetry provider it records nothing.
#pragma once

#include <chrono>
#include <exception>
#include <optional>
#include <string>

#include "core/util/api_error.h"
#include "core/util/ids.h"
#include "core/util/json.h"
#include "llama_stack/apis/call_context.h"
#include "llama_stack/apis/telemetry.h"

namespace llama_stack::routing {

class ChildSpan {
 public:
  // `parent` must outlive the span (it is the caller's context).
  ChildSpan(apis::TelemetryApi* telemetry, const apis::CallContext& parent, std::string name)
      : telemetry_(parent.trace_id.empty() || telemetry == nullptr ||
                           !telemetry->sampled(parent.trace_id)
                       ? nullptr
                       : telemetry),
        parent_(parent) {
    if (telemetry_ == nullptr) return;  // not recorded: no copy of the context
    own_.emplace(parent);
    span_.trace_id = parent.trace_id;
    span_.parent_span_id = parent.span_id;
    span_.span_id = random_hex(16);
    span_.name = std::move(name);
    span_.start_us = now_us();
    own_->span_id = span_.span_id;
  }

  const apis::CallContext& context() const { return own_ ? *own_ : parent_; }
  json::object& attributes() { return span_.attributes; }

  void finish(std::exception_ptr error) {
    if (telemetry_ == nullptr) return;
    span_.end_us = now_us();
    if (error) {
      const ApiError e = to_api_error(error, span_.name);
      span_.status = "error";
      span_.attributes["status"] = e.status();
    } else {
      span_.attributes["status"] = 200;
    }
    telemetry_->record(std::move(span_));
    telemetry_ = nullptr;
  }

 private:
  static std::int64_t now_us() {
    return std::chrono::duration_cast<std::chrono::microseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }

  apis::TelemetryApi* telemetry_;
  const apis::CallContext& parent_;
  std::optional<apis::CallContext> own_;  // the child's context, when recorded
  apis::SpanRecord span_;
};

}  // namespace llama_stack::routing
