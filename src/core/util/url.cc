#include "core/util/url.h"

#include <boost/url/parse.hpp>

namespace llama_stack {

std::optional<std::string> check_http_url(std::string_view text) {
  auto parsed = boost::urls::parse_absolute_uri(text);
  if (!parsed) {
    return "'" + std::string(text) + "' is not a valid absolute URL (" + parsed.error().message() +
           ")";
  }
  const auto scheme = parsed->scheme();
  if (scheme != "http" && scheme != "https") {
    return "'" + std::string(text) + "' must use http:// or https://";
  }
  if (parsed->host().empty()) return "'" + std::string(text) + "' has no host";
  return std::nullopt;
}

}  // namespace llama_stack
