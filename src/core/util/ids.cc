#include "core/util/ids.h"

#include <chrono>
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

}  // namespace llama_stack
