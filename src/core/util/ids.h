// Random identifiers: hex digits and UUIDs (version 4), from a per-thread
// generator seeded by std::random_device. Not secrets: ids only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace llama_stack {

std::string random_hex(std::size_t digits);
// "xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx" (Python's str(uuid.uuid4())).
std::string random_uuid4();
// Seconds since the Unix epoch.
std::int64_t unix_seconds();
// Unix microseconds as ISO 8601 UTC with microseconds: "2026-12-03T12:00:00.000123Z".
std::string iso8601_micros(std::int64_t unix_us);

}  // namespace llama_stack
