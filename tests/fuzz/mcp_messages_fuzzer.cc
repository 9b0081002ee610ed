// MCP JSON-RPC answers: a tool server's HTTP body, JSON (one message or a
// batch) or an SSE stream of messages, through mcp_rpc_answer, which the MCP
// client calls for every answer. The first byte picks the content type.
#include <cstdint>
#include <stdexcept>
#include <string>

#include "fuzz/fuzz_support.h"
#include "providers/utils/mcp_client.h"

using namespace llama_stack;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  static constexpr std::string_view kTypes[] = {"application/json", "text/event-stream",
                                                "application/json; charset=utf-8",
                                                "text/event-stream;charset=UTF-8", "text/plain"};
  const std::string_view type = kTypes[data[0] % std::size(kTypes)];
  const std::string body(fuzz::as_text(data + 1, size - 1));
  try {
    (void)providers::utils::mcp_rpc_answer(body, type, 1);
    (void)providers::utils::mcp_rpc_answer(body, type, 7);
  } catch (const std::exception&) {
    // Errors of the tool server are answered as errors to the caller.
  }
  return 0;
}
