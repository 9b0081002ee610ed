// The one visible route table: method + path template → handler. It also
// feeds GET /v1/inspect/routes.
//
// Templates use Llama Stack's syntax: "/v1/models/{model_id:path}" where
// {name} matches one segment and {name:path} the rest of the path.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace llama_stack::server {

class Exchange;

// Answers one request. May reply synchronously or later from any thread
// (through the exchange); exceptions thrown synchronously become error
// responses in the dispatcher.
using Handler = std::function<void(const std::shared_ptr<Exchange>& exchange)>;

struct Route {
  std::string method;
  std::string path;  // template
  Handler handler;
  std::string api;         // Llama Stack API name, for /v1/inspect/routes
  bool is_public = false;  // served without authentication (health, version)
  // > 0: an upload route — the transport writes the body to a temporary file
  // (HttpRequest::body_file), up to this many bytes, instead of holding it in
  // memory under the general body limit.
  std::int64_t upload_bytes = 0;
  // The handler is synchronous and waits on a store (registry writes,
  // stored completions): the dispatcher runs it on the store pool, never on
  // an I/O thread, since a shared store (PostgreSQL, Redis) is a network
  // round trip away.
  bool blocking = false;
};

// `route`, marked blocking.
inline Route blocking(Route route) {
  route.blocking = true;
  return route;
}

struct RouteMatch {
  enum class Kind { kFound, kNotFound, kMethodNotAllowed };
  Kind kind = Kind::kNotFound;
  const Route* route = nullptr;
  std::map<std::string, std::string> params;  // percent-decoded
  std::vector<std::string> allowed_methods;   // for kMethodNotAllowed
};

class RouteTable {
 public:
  void add(Route route);
  // Literal segments beat parameters; among equals, the first added wins.
  RouteMatch match(std::string_view method, std::string_view path) const;
  const std::vector<Route>& routes() const { return routes_; }

 private:
  struct Segment {
    std::string text;
    bool is_param = false;
    bool is_rest = false;  // {name:path}
  };
  struct Compiled {
    std::vector<Segment> segments;
  };
  static Compiled compile(const std::string& path);
  static bool match_one(const Compiled& compiled, const std::vector<std::string_view>& parts,
                        std::map<std::string, std::string>& params, int& score);

  std::vector<Route> routes_;
  std::vector<Compiled> compiled_;
};

// Percent-decodes `text` ("%2F" → "/"); invalid escapes are kept as is.
std::string percent_decode(std::string_view text, bool plus_as_space = false);

}  // namespace llama_stack::server
