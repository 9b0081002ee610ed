#include "core/http/multipart.h"

#include <algorithm>
#include <cctype>

namespace llama_stack::http {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

// The value of `key` among `; key=value` parameters (quoted or not).
std::optional<std::string> parameter(std::string_view header, std::string_view key) {
  std::size_t i = header.find(';');
  while (i != std::string_view::npos && i < header.size()) {
    ++i;
    const std::size_t eq = header.find('=', i);
    if (eq == std::string_view::npos) return std::nullopt;
    const std::string_view name = trim(header.substr(i, eq - i));
    std::size_t j = eq + 1;
    while (j < header.size() && header[j] == ' ') ++j;
    std::string value;
    if (j < header.size() && header[j] == '"') {
      ++j;
      while (j < header.size() && header[j] != '"') {
        if (header[j] == '\\' && j + 1 < header.size()) ++j;
        value.push_back(header[j++]);
      }
      if (j >= header.size())
        throw MultipartError("unterminated quoted parameter in '" + std::string(header) + "'");
      ++j;  // the closing quote
      i = header.find(';', j);
    } else {
      const std::size_t end = std::min(header.find(';', j), header.size());
      value = std::string(trim(header.substr(j, end - j)));
      i = end < header.size() ? end : std::string_view::npos;
    }
    if (iequals(name, key)) return value;
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::string> MultipartParser::boundary_of(std::string_view content_type) {
  const std::string_view type = trim(content_type.substr(0, content_type.find(';')));
  if (!iequals(type, "multipart/form-data")) return std::nullopt;
  try {
    auto b = parameter(content_type, "boundary");
    if (!b || b->empty() || b->size() > 200) return std::nullopt;
    return b;
  } catch (const MultipartError&) {
    return std::nullopt;
  }
}

MultipartParser::MultipartParser(std::string boundary, Callbacks callbacks, std::size_t max_parts)
    : delimiter_("\r\n--" + boundary), callbacks_(std::move(callbacks)), max_parts_(max_parts) {
  buffer_ = "\r\n";  // so an opening boundary on the first line matches the delimiter
}

void MultipartParser::parse_headers(std::string_view block) {
  MultipartPart part;
  bool disposition = false;
  std::size_t start = 0;
  while (start < block.size()) {
    std::size_t end = block.find("\r\n", start);
    if (end == std::string_view::npos) end = block.size();
    const std::string_view line = block.substr(start, end - start);
    start = end + 2;
    if (line.empty()) continue;
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) {
      throw MultipartError("malformed part header line '" + std::string(line.substr(0, 100)) + "'");
    }
    const std::string_view name = trim(line.substr(0, colon));
    const std::string_view value = trim(line.substr(colon + 1));
    if (iequals(name, "Content-Disposition")) {
      if (!iequals(trim(value.substr(0, value.find(';'))), "form-data")) {
        throw MultipartError("a part's Content-Disposition must be form-data");
      }
      disposition = true;
      part.name = parameter(value, "name").value_or("");
      part.filename = parameter(value, "filename");
    } else if (iequals(name, "Content-Type")) {
      part.content_type = std::string(value);
    }
  }
  if (!disposition || part.name.empty()) {
    throw MultipartError("a part has no Content-Disposition form-data name");
  }
  if (++parts_ > max_parts_) {
    throw MultipartError("more than " + std::to_string(max_parts_) + " parts");
  }
  if (callbacks_.on_part) callbacks_.on_part(part);
}

void MultipartParser::feed(std::string_view bytes) {
  if (state_ == State::kDone) return;  // the epilogue is ignored
  buffer_.append(bytes);
  std::size_t pos = 0;  // consumed so far
  while (true) {
    const std::string_view rest = std::string_view(buffer_).substr(pos);
    if (state_ == State::kPreamble) {
      const std::size_t at = rest.find(delimiter_);
      if (at == std::string_view::npos) {
        // Keep what could be the start of the delimiter; drop the preamble.
        if (rest.size() >= delimiter_.size()) pos += rest.size() - (delimiter_.size() - 1);
        break;
      }
      pos += at + delimiter_.size();
      state_ = State::kAfterBoundary;
    } else if (state_ == State::kAfterBoundary) {
      if (rest.size() < 2) break;
      if (rest.starts_with("--")) {
        state_ = State::kDone;
        pos = buffer_.size();
        break;
      }
      // Transport padding (spaces, tabs) may follow a boundary.
      std::size_t skip = 0;
      while (skip < rest.size() && (rest[skip] == ' ' || rest[skip] == '\t')) ++skip;
      if (rest.size() - skip < 2) break;
      if (rest.substr(skip, 2) != "\r\n") throw MultipartError("malformed boundary line");
      pos += skip + 2;
      state_ = State::kHeaders;
    } else if (state_ == State::kHeaders) {
      if (rest.starts_with("\r\n")) throw MultipartError("a part has no headers");
      const std::size_t end = rest.find("\r\n\r\n");
      if (end == std::string_view::npos) {
        if (rest.size() > kMaxHeaderBytes) {
          throw MultipartError("a part's headers exceed " + std::to_string(kMaxHeaderBytes) +
                               " bytes");
        }
        break;
      }
      if (end > kMaxHeaderBytes) {
        throw MultipartError("a part's headers exceed " + std::to_string(kMaxHeaderBytes) +
                             " bytes");
      }
      parse_headers(rest.substr(0, end));
      pos += end + 4;
      state_ = State::kBody;
    } else if (state_ == State::kBody) {
      const std::size_t at = rest.find(delimiter_);
      if (at == std::string_view::npos) {
        // Hand on all but what could be the start of the delimiter.
        if (rest.size() >= delimiter_.size()) {
          const std::size_t safe = rest.size() - (delimiter_.size() - 1);
          if (callbacks_.on_data) callbacks_.on_data(rest.substr(0, safe));
          pos += safe;
        }
        break;
      }
      if (at > 0 && callbacks_.on_data) callbacks_.on_data(rest.substr(0, at));
      if (callbacks_.on_part_end) callbacks_.on_part_end();
      pos += at + delimiter_.size();
      state_ = State::kAfterBoundary;
    } else {
      break;
    }
  }
  buffer_.erase(0, pos);
}

void MultipartParser::finish() {
  if (state_ != State::kDone) {
    throw MultipartError(state_ == State::kPreamble
                             ? "no multipart boundary in the body"
                             : "the multipart body ended before its closing boundary");
  }
}

}  // namespace llama_stack::http
