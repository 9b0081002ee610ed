// The text of a message's content, as shields read it (Llama Stack's
// interleaved_content_as_str): a string as is; a content item's text; images
// as "<image>"; a list of items joined by `separator`.
#pragma once

#include <string>
#include <string_view>

#include "core/util/json.h"

namespace llama_stack {

// Throws JsonFieldError naming `path` (e.g. "messages[0].content[1].type")
// for anything that is not a string, a text/image item or a list of them.
std::string message_text(const json::value& content, const std::string& path,
                         std::string_view separator = " ");

}  // namespace llama_stack
