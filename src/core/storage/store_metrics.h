// StoreOpTimer: times one kvstore operation into
// llama_stack_kvstore_operation_duration_seconds{backend, op}.
#pragma once

#include <chrono>
#include <string_view>

#include "core/util/metrics.h"

namespace llama_stack::storage {

enum class StoreOp { kGet, kSet, kRemove, kRange, kScan, kIncrement, kUpdate, kTransaction };

class StoreOpTimer {
 public:
  // `backend` must be a string literal ("sqlite", "postgres", "redis").
  StoreOpTimer(std::string_view backend, StoreOp op) : backend_(backend), op_(op) {
    if (metrics::enabled()) start_ = std::chrono::steady_clock::now();
  }
  ~StoreOpTimer() {
    if (start_ == std::chrono::steady_clock::time_point{}) return;
    static constexpr std::string_view kNames[] = {
        "get", "set", "delete", "range", "scan_prefix", "increment", "update", "transaction"};
    metrics::catalog()
        .kvstore_duration.with({backend_, kNames[static_cast<int>(op_)]})
        .observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count());
  }
  StoreOpTimer(const StoreOpTimer&) = delete;
  StoreOpTimer& operator=(const StoreOpTimer&) = delete;

 private:
  std::string_view backend_;
  StoreOp op_;
  std::chrono::steady_clock::time_point start_{};
};

}  // namespace llama_stack::storage
