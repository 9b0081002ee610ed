// QuotaFilter: `server.quota` — requests per period (a day) per client,
// counted AFTER authentication: authenticated callers by principal with
// authenticated_max_requests, everyone else by client IP with
// anonymous_max_requests. The count is one atomic increment in the KVStore,
// so the limit is exact under concurrency and survives restarts. Increments
// run on a writer thread, many per transaction (storage::GroupCommitter): the
// filter answers kPending and the chain resumes on the connection's thread.
// Over the limit → 429 "Quota exceeded" with Retry-After to the next window.
// A store failure → 503 (fail closed). Public routes (health, version) are
// not counted.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "core/config/stack_config.h"
#include "core/security/audit_log.h"
#include "core/security/server_security.h"
#include "core/server/server_core.h"
#include "core/storage/group_commit.h"
#include "llama_stack/apis/telemetry.h"
#include "llama_stack/storage/kvstore.h"

namespace llama_stack::server {

using security::QuotaConfig;

// The client's address: the peer, or — when the peer is a trusted proxy — the
// right-most X-Forwarded-For address that is not a trusted proxy.
std::string client_address(const HttpRequest& request,
                           const std::vector<std::string>& trusted_proxies);

class QuotaFilter final : public Filter {
 public:
  QuotaFilter(QuotaConfig config, std::shared_ptr<storage::KVStore> store, bool auth_enabled);
  std::string_view name() const override { return "quota"; }
  FilterStatus on_request(const std::shared_ptr<Exchange>& exchange) override;
  void set_audit(security::AuditLog* audit) { audit_ = audit; }
  // Quota checks become spans ("quota.check") of the request.
  void set_telemetry(apis::TelemetryApi* telemetry) { telemetry_ = telemetry; }

 private:
  // On the connection's thread, once the count is known: 429, 503 or resume.
  void decide(const std::shared_ptr<Exchange>& exchange, const std::string& client,
              std::int64_t limit, std::int64_t now, std::int64_t window_end, std::int64_t count,
              std::exception_ptr error);

  security::AuditLog* audit_ = nullptr;
  apis::TelemetryApi* telemetry_ = nullptr;
  QuotaConfig config_;
  std::shared_ptr<storage::KVStore> store_;
  bool auth_enabled_;
  std::uint64_t counted_ = 0;          // writer thread only
  storage::GroupCommitter committer_;  // last: its thread stops before the rest goes
};

}  // namespace llama_stack::server
