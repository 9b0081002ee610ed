#include "core/util/message_text.h"

namespace llama_stack {
namespace {

std::string item_text(const json::value& item, const std::string& at) {
  if (item.is_string()) return std::string(item.get_string());
  const json::object* o = item.if_object();
  if (o == nullptr) throw JsonFieldError(at, "Field '" + at + "' must be a string or an object");
  const json::value* type = o->if_contains("type");
  if (type == nullptr || !type->is_string()) {
    throw JsonFieldError(at + ".type", "Field '" + at + ".type' is required");
  }
  if (type->get_string() == "text") {
    const json::value* text = o->if_contains("text");
    if (text == nullptr || !text->is_string()) {
      throw JsonFieldError(at + ".text", "Field '" + at + ".text' must be a string");
    }
    return std::string(text->get_string());
  }
  if (type->get_string() == "image" || type->get_string() == "image_url") return "<image>";
  throw JsonFieldError(at + ".type", "Field '" + at + ".type' must be 'text' or 'image', got '" +
                                         std::string(type->get_string()) + "'");
}

}  // namespace

std::string message_text(const json::value& content, const std::string& path,
                         std::string_view separator) {
  if (content.is_string()) return std::string(content.get_string());
  if (const json::array* items = content.if_array()) {
    std::string out;
    for (std::size_t i = 0; i < items->size(); ++i) {
      if (i > 0) out += separator;
      out += item_text((*items)[i], path + "[" + std::to_string(i) + "]");
    }
    return out;
  }
  return item_text(content, path);
}

}  // namespace llama_stack
