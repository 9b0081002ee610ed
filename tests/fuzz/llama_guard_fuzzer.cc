// Llama Guard verdicts: the guard model's answer text ("safe" / "unsafe\nS1,S10")
// through llama_guard_verdict, and a chat.completion answer (its token
// logprobs) through llama_guard_unsafe_probability, as inline::llama-guard does.
#include <cstdint>
#include <stdexcept>

#include "core/util/json.h"
#include "fuzz/fuzz_support.h"
#include "providers/inline/safety/llama_guard.h"

using namespace llama_stack;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text = fuzz::as_text(data, size);
  static const std::vector<std::string> excluded = {"S2", "S10"};
  try {
    const apis::RunShieldResponse verdict =
        providers::inline_::llama_guard_verdict(text, "llama-guard", excluded);
    (void)providers::inline_::llama_guard_moderation(verdict, "meta-llama/Llama-Guard-3-8B");
  } catch (const std::exception&) {
    // 502 naming the shield: the guard answered something else.
  }
  try {
    const json::value response = parse_json(text);
    if (response.is_object()) {
      (void)providers::inline_::llama_guard_unsafe_probability(response.get_object());
    }
  } catch (const std::exception&) {
  }
  return 0;
}
