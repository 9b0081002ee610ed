#include "core/server/route_table.h"

#include <algorithm>

namespace llama_stack::server {
namespace {

std::vector<std::string_view> split_path(std::string_view path) {
  std::vector<std::string_view> parts;
  std::size_t pos = 0;
  if (!path.empty() && path.front() == '/') pos = 1;
  while (pos <= path.size()) {
    std::size_t next = path.find('/', pos);
    if (next == std::string_view::npos) next = path.size();
    parts.push_back(path.substr(pos, next - pos));
    pos = next + 1;
  }
  return parts;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::string percent_decode(std::string_view text, bool plus_as_space) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '%' && i + 2 < text.size()) {
      int hi = hex_value(text[i + 1]);
      int lo = hex_value(text[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    out.push_back(plus_as_space && c == '+' ? ' ' : c);
  }
  return out;
}

RouteTable::Compiled RouteTable::compile(const std::string& path) {
  Compiled compiled;
  for (std::string_view part : split_path(path)) {
    Segment segment;
    if (part.size() >= 2 && part.front() == '{' && part.back() == '}') {
      std::string_view name = part.substr(1, part.size() - 2);
      segment.is_param = true;
      if (auto colon = name.find(':'); colon != std::string_view::npos) {
        segment.is_rest = name.substr(colon + 1) == "path";
        name = name.substr(0, colon);
      }
      segment.text = std::string(name);
    } else {
      segment.text = std::string(part);
    }
    compiled.segments.push_back(std::move(segment));
  }
  return compiled;
}

void RouteTable::add(Route route) {
  compiled_.push_back(compile(route.path));
  routes_.push_back(std::move(route));
}

bool RouteTable::match_one(const Compiled& compiled, const std::vector<std::string_view>& parts,
                           std::map<std::string, std::string>& params, int& score) {
  score = 0;
  std::size_t i = 0;
  for (const Segment& segment : compiled.segments) {
    if (segment.is_rest) {
      if (i >= parts.size()) return false;
      std::string rest;
      for (std::size_t j = i; j < parts.size(); ++j) {
        if (j > i) rest += '/';
        rest += parts[j];
      }
      if (rest.empty()) return false;
      params[segment.text] = percent_decode(rest);
      return true;
    }
    if (i >= parts.size()) return false;
    if (segment.is_param) {
      if (parts[i].empty()) return false;
      params[segment.text] = percent_decode(parts[i]);
    } else {
      if (segment.text != parts[i]) return false;
      score += 2;
    }
    ++i;
  }
  return i == parts.size();
}

RouteMatch RouteTable::match(std::string_view method, std::string_view path) const {
  const auto parts = split_path(path);
  RouteMatch result;
  int best_score = -1;
  for (std::size_t idx = 0; idx < routes_.size(); ++idx) {
    std::map<std::string, std::string> params;
    int score = 0;
    if (!match_one(compiled_[idx], parts, params, score)) continue;
    const Route& route = routes_[idx];
    if (route.method != method && !(method == "HEAD" && route.method == "GET")) {
      if (std::find(result.allowed_methods.begin(), result.allowed_methods.end(), route.method) ==
          result.allowed_methods.end()) {
        result.allowed_methods.push_back(route.method);
      }
      continue;
    }
    if (score > best_score) {
      best_score = score;
      result.kind = RouteMatch::Kind::kFound;
      result.route = &route;
      result.params = std::move(params);
    }
  }
  if (result.kind != RouteMatch::Kind::kFound && !result.allowed_methods.empty()) {
    result.kind = RouteMatch::Kind::kMethodNotAllowed;
  }
  return result;
}

}  // namespace llama_stack::server
