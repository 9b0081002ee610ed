#include "core/util/ids.h"

#include <chrono>
#include <cstdio>
#include <ctime>
#include <random>

namespace llama_stack {
namespace {

std::mt19937_64& engine() {
  thread_local std::mt19937_64 e{std::random_device{}()};
  return e;
}

constexpr char kHex[] = "0123456789abcdef";

}  // namespace

std::string random_hex(std::size_t digits) {
  std::string out;
  out.reserve(digits);
  while (out.size() < digits) {  // 16 digits per draw
    std::uint64_t bits = engine()();
    for (int i = 0; i < 16 && out.size() < digits; ++i, bits >>= 4) out.push_back(kHex[bits & 0xF]);
  }
  return out;
}

std::string random_uuid4() {
  std::string out = random_hex(32);
  out[12] = '4';                           // version 4
  out[16] = kHex[8 + (engine()() & 0x3)];  // variant 10xx
  return out.substr(0, 8) + "-" + out.substr(8, 4) + "-" + out.substr(12, 4) + "-" +
         out.substr(16, 4) + "-" + out.substr(20);
}

std::int64_t unix_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string iso8601_micros(std::int64_t unix_us) {
  const std::time_t seconds = static_cast<std::time_t>(unix_us / 1000000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%06lldZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<long long>(unix_us % 1000000));
  return buf;
}

}  // namespace llama_stack
