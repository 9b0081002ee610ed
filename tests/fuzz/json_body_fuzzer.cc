// JSON request bodies: parse_json (the server's one JSON parser, with the
// per-request monotonic arena), the native inference validators and
// converters (chat-completion, completion, embeddings → the OpenAI request),
// and the conversions remote::ollama applies to an OpenAI request before it
// goes upstream. The first byte picks the request kind. Route-level
// validation of every API is fuzzed by request_dispatch.
#include <boost/json/monotonic_resource.hpp>

#include <cstdint>
#include <stdexcept>

#include "core/inference/native.h"
#include "core/util/json.h"
#include "fuzz/fuzz_support.h"
#include "providers/remote/inference/ollama_convert.h"

using namespace llama_stack;
namespace ollama = llama_stack::providers::remote::ollama;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const int kind = data[0] % 3;
  const std::string_view text = fuzz::as_text(data + 1, size - 1);
  json::monotonic_resource arena;
  json::value body;
  try {
    body = parse_json(text, &arena);
  } catch (const std::exception&) {
    return 0;  // 400 with the position
  }
  try {
    inference::NativeRequest native = kind == 0   ? inference::native_chat_request(body)
                                      : kind == 1 ? inference::native_completion_request(body)
                                                  : inference::native_embeddings_request(body);
    native.openai["model"] = native.model_id;
    (void)to_json(native.openai);
    if (kind == 0) (void)ollama::chat_request(native.openai);
    if (kind == 1) (void)ollama::generate_request(native.openai);
    if (kind == 2) (void)ollama::embed_request(native.openai);
  } catch (const std::exception&) {
    // 400 naming the field.
  }
  if (body.is_object()) {
    try {
      const json::object& request = body.get_object();
      (void)ollama::wants_stream(request);
      (void)ollama::chat_request(request);
      (void)ollama::generate_request(request);
    } catch (const std::exception&) {
    }
  }
  return 0;
}
