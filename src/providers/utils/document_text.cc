#include "providers/utils/document_text.h"

#include <poppler-document.h>
#include <poppler-global.h>
#include <poppler-page.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <memory>
#include <utility>
#include <vector>

#include "core/util/api_error.h"

namespace llama_stack::providers::utils {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// Well-formed UTF-8 (no overlongs, surrogates or code points past U+10FFFF)
// without NUL bytes: what we take for text when no type says so.
bool looks_like_text(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c == 0) return false;
    if (c < 0x80) {
      ++i;
      continue;
    }
    std::size_t n = 0;
    std::uint32_t cp = 0;
    if ((c & 0xE0) == 0xC0) {
      n = 1;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      n = 2;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      n = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    for (std::size_t k = 1; k <= n; ++k) {
      if (i + k >= s.size()) return false;
      const auto d = static_cast<unsigned char>(s[i + k]);
      if ((d & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (d & 0x3F);
    }
    static constexpr std::uint32_t kMin[] = {0, 0x80, 0x800, 0x10000};
    if (cp < kMin[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += n + 1;
  }
  return true;
}

}  // namespace

std::string document_text(std::string bytes, std::string_view mime_type, const std::string& field) {
  std::string mime = lower(mime_type.substr(0, mime_type.find(';')));
  while (!mime.empty() && mime.back() == ' ') mime.pop_back();
  if (mime == "text/html" || mime == "application/xhtml+xml") return html_to_text(bytes);
  if (mime == "application/pdf") return pdf_text(bytes, field);
  if (mime.starts_with("text/") || mime == "application/json" || mime == "application/xml" ||
      mime == "application/x-yaml" || mime == "application/yaml") {
    return bytes;
  }
  if (mime.empty() && looks_like_text(bytes)) return bytes;
  throw ApiError(415, "Field '" + field + "': documents of type '" +
                          (mime.empty() ? std::string("unknown binary") : mime) +
                          "' are not supported (text/*, text/html, application/pdf)");
}

std::string guess_mime_type(std::string_view filename, std::string_view bytes) {
  const std::size_t dot = filename.rfind('.');
  const std::string ext = dot == std::string_view::npos ? "" : lower(filename.substr(dot + 1));
  static const std::pair<const char*, const char*> kTypes[] = {{"pdf", "application/pdf"},
                                                               {"html", "text/html"},
                                                               {"htm", "text/html"},
                                                               {"xhtml", "text/html"},
                                                               {"txt", "text/plain"},
                                                               {"text", "text/plain"},
                                                               {"md", "text/markdown"},
                                                               {"markdown", "text/markdown"},
                                                               {"csv", "text/csv"},
                                                               {"tsv", "text/tab-separated-values"},
                                                               {"json", "application/json"},
                                                               {"jsonl", "application/json"},
                                                               {"xml", "application/xml"},
                                                               {"yaml", "application/yaml"},
                                                               {"yml", "application/yaml"},
                                                               {"rst", "text/x-rst"},
                                                               {"py", "text/x-python"},
                                                               {"c", "text/x-c"},
                                                               {"cc", "text/x-c++"},
                                                               {"cpp", "text/x-c++"},
                                                               {"h", "text/x-c"},
                                                               {"js", "text/javascript"},
                                                               {"ts", "text/x-typescript"},
                                                               {"png", "image/png"},
                                                               {"jpg", "image/jpeg"},
                                                               {"jpeg", "image/jpeg"},
                                                               {"gif", "image/gif"},
                                                               {"zip", "application/zip"},
                                                               {"gz", "application/gzip"}};
  for (const auto& [e, type] : kTypes) {
    if (ext == e) return type;
  }
  if (bytes.starts_with("%PDF-")) return "application/pdf";
  const std::string head = lower(bytes.substr(0, 64));
  if (head.starts_with("<!doctype html") || head.starts_with("<html")) return "text/html";
  return "";
}

std::string pdf_text(std::string_view bytes, const std::string& field) {
  // Poppler reports parse problems on stderr by default: not in our logs.
  static const bool quiet = [] {
    poppler::set_debug_error_function([](const std::string&, void*) {}, nullptr);
    return true;
  }();
  (void)quiet;
  std::vector<char> data(bytes.begin(), bytes.end());
  std::unique_ptr<poppler::document> doc(
      poppler::document::load_from_data(&data));  // keeps a pointer to `data`
  if (!doc) throw ApiError::bad_request("Field '" + field + "': not a readable PDF document");
  if (doc->is_locked()) {
    throw ApiError::bad_request("Field '" + field + "': the PDF document is encrypted");
  }
  std::string out;
  for (int i = 0; i < doc->pages(); ++i) {
    std::unique_ptr<poppler::page> page(doc->create_page(i));
    if (!page) continue;
    const poppler::byte_array text = page->text().to_utf8();
    if (!out.empty()) out += '\n';
    out.append(text.begin(), text.end());
  }
  return out;
}

std::string html_to_text(std::string_view html) {
  std::string out;
  std::size_t i = 0;
  const std::string lowered = lower(html);  // for case-insensitive closing tags
  auto skip_element = [&](std::string_view name) {
    const std::size_t end = lowered.find("</" + std::string(name), i);
    i = end == std::string::npos ? html.size() : end;
  };
  while (i < html.size()) {
    if (html[i] == '<') {
      const std::size_t close = html.find('>', i);
      if (close == std::string_view::npos) break;
      std::string tag = lower(html.substr(i + 1, close - i - 1));
      const bool end_tag = !tag.empty() && tag[0] == '/';
      if (end_tag) tag.erase(0, 1);
      const std::string name = tag.substr(0, tag.find_first_of(" \t\r\n/"));
      i = close + 1;
      if (!end_tag && (name == "script" || name == "style" || name == "head")) {
        skip_element(name);
        continue;
      }
      static const char* kBlocks[] = {"p",       "br",      "div", "li",   "tr", "h1",
                                      "h2",      "h3",      "h4",  "h5",   "h6", "title",
                                      "section", "article", "pre", "table"};
      for (const char* b : kBlocks) {
        if (name == b) {
          if (!out.empty() && out.back() != '\n') out += '\n';
          break;
        }
      }
      continue;
    }
    if (html[i] == '&') {
      static const std::pair<const char*, const char*> kEntities[] = {
          {"&amp;", "&"}, {"&lt;", "<"},   {"&gt;", ">"},  {"&quot;", "\""},
          {"&#39;", "'"}, {"&apos;", "'"}, {"&nbsp;", " "}};
      bool matched = false;
      for (const auto& [entity, text] : kEntities) {
        if (html.substr(i).starts_with(entity)) {
          out += text;
          i += std::strlen(entity);
          matched = true;
          break;
        }
      }
      if (matched) continue;
    }
    out += html[i++];
  }
  // Collapse runs of blank space.
  std::string collapsed;
  bool space = false, newline = false;
  for (char c : out) {
    if (c == '\n') {
      newline = true;
      continue;
    }
    if (std::isspace(static_cast<unsigned char>(c))) {
      space = true;
      continue;
    }
    if (newline && !collapsed.empty()) {
      collapsed += '\n';
    } else if (space && !collapsed.empty()) {
      collapsed += ' ';
    }
    space = newline = false;
    collapsed += c;
  }
  return collapsed;
}

}  // namespace llama_stack::providers::utils
