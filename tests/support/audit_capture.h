// A real AuditLog writing JSON lines to a file in a temporary folder, and the
// events it wrote (for tests that assert audit events).
#pragma once

#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "core/security/audit_log.h"
#include "support/temp_dir.h"

namespace llama_stack::testing {

class AuditCapture {
 public:
  AuditCapture() {
    security::AuditOptions options;
    options.sink = security::AuditOptions::Sink::kFile;
    options.path = dir_.file("audit.jsonl");
    log_ = std::make_unique<security::AuditLog>(options);
  }

  security::AuditLog* log() { return log_.get(); }

  // Every event written so far, in order (waits for the writer first).
  std::vector<json::object> events() {
    log_->flush();
    std::vector<json::object> out;
    std::ifstream in(dir_.file("audit.jsonl"));
    for (std::string line; std::getline(in, line);) out.push_back(parse_json(line).as_object());
    return out;
  }

 private:
  TempDir dir_;
  std::unique_ptr<security::AuditLog> log_;
};

}  // namespace llama_stack::testing
