#include "control.h"

#include <algorithm>
#include <chrono>
#include <thread>

#include "fake_model.h"

namespace llama_stack::fake {
namespace {

using server::Exchange;
using server::HttpResponse;

void sleep_ms(std::int64_t ms) {
  if (ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(ms));
}

std::string default_error_message(int status) {
  return "Injected failure (HTTP " + std::to_string(status) + ")";
}

// OpenAI's error.type for a status (OpenAI itself uses invalid_request_error
// for most 4xx, model_not_found included).
std::string openai_error_type(int status) {
  switch (status) {
    case 401:
      return "authentication_error";
    case 403:
      return "permission_error";
    case 429:
      return "rate_limit_error";
    default:
      return status >= 500 ? "server_error" : "invalid_request_error";
  }
}

json::value optional_string_json(const std::optional<std::string>& s) {
  return s ? json::value(*s) : json::value(nullptr);
}

json::value optional_int_json(const std::optional<std::int64_t>& i) {
  return i ? json::value(*i) : json::value(nullptr);
}

// --- /control field parsing ---

std::int64_t control_int(const json::value& value, std::string_view key, std::int64_t min,
                         std::int64_t max) {
  json::object holder{{key, value}};
  const std::optional<std::int64_t> i = int_field(holder, key);
  if (!i || *i < min || *i > max) {
    throw FakeError(400, "control field '" + std::string(key) + "' must be an integer between " +
                             std::to_string(min) + " and " + std::to_string(max));
  }
  return *i;
}

bool control_bool(const json::value& value, std::string_view key) {
  if (value.is_null()) return false;
  if (!value.is_bool()) {
    throw FakeError(400, "control field '" + std::string(key) + "' must be a boolean");
  }
  return value.get_bool();
}

constexpr std::int64_t kMaxDelayMs = 24 * 3600 * 1000;

void apply_control_field(Faults& f, std::string_view key, const json::value& value) {
  const bool null = value.is_null();
  if (key == "latency_ms") {
    f.latency_ms = null ? 0 : control_int(value, key, 0, kMaxDelayMs);
  } else if (key == "token_delay_ms") {
    f.token_delay_ms = null ? 0 : control_int(value, key, 0, kMaxDelayMs);
  } else if (key == "status") {
    const std::int64_t status = null ? 0 : control_int(value, key, 0, 599);
    if (status != 0 && status < 400) {
      throw FakeError(400, "control field 'status' must be 0 (off) or between 400 and 599");
    }
    f.status = static_cast<int>(status);
  } else if (key == "error_message") {
    if (!null && !value.is_string()) {
      throw FakeError(400, "control field 'error_message' must be a string");
    }
    f.error_message = null ? std::string() : std::string(value.get_string());
  } else if (key == "status_count") {
    f.status_count.reset();
    if (!null) f.status_count = control_int(value, key, 1, INT32_MAX);
  } else if (key == "reset_after_tokens") {
    f.reset_after_tokens.reset();
    if (!null) f.reset_after_tokens = control_int(value, key, 0, INT32_MAX);
  } else if (key == "malformed_body") {
    f.malformed_body = control_bool(value, key);
  } else if (key == "malformed_stream") {
    f.malformed_stream = control_bool(value, key);
  } else if (key == "hang") {
    f.hang = control_bool(value, key);
  } else if (key == "paths") {
    f.paths.clear();
    if (value.is_string()) {
      f.paths.emplace_back(value.get_string());
    } else if (value.is_array()) {
      for (const auto& p : value.get_array()) {
        if (!p.is_string()) throw FakeError(400, "control field 'paths' must list strings");
        f.paths.emplace_back(p.get_string());
      }
    } else if (!null) {
      throw FakeError(400, "control field 'paths' must be a string or an array of strings");
    }
  } else {
    throw FakeError(400, "unknown control field '" + std::string(key) +
                             "' (known: latency_ms, token_delay_ms, status, error_message, "
                             "status_count, reset_after_tokens, malformed_body, "
                             "malformed_stream, hang, paths)");
  }
}

// --- delivery ---

// Applies the content faults (malformed body/stream, reset) to `reply`;
// true when the connection must be dropped at the end instead of finished.
bool apply_content_faults(Reply& reply, const Faults& f, Protocol protocol) {
  if (reply.response) {
    const bool ok = reply.response->status >= 200 && reply.response->status < 300;
    if (!ok) return false;
    if (f.reset_after_tokens) return true;  // no tokens in a plain response: drop at once
    if (f.malformed_body) {
      reply.response->body = R"({"id": "broken")";
      reply.response->content_type = "application/json";
      reply.response->headers.set("content-type", "application/json");
    }
    return false;
  }
  StreamReply& s = *reply.stream;
  if (f.malformed_stream) {
    const char* garbage = protocol == Protocol::kOpenAI ? "data: {not json\n\n" : "{not json\n";
    (s.tokens.empty() ? s.head : s.tokens.front()) += garbage;
  }
  if (f.reset_after_tokens) {
    const auto keep = static_cast<std::size_t>(*f.reset_after_tokens);
    if (keep < s.tokens.size()) s.tokens.resize(keep);
    s.tail.clear();
    return true;
  }
  return false;
}

void send_inline(const std::shared_ptr<State>& state, const std::shared_ptr<Exchange>& exchange,
                 Reply& reply, bool drop) {
  if (reply.response) {
    if (drop) {
      exchange->abort();
    } else {
      exchange->send(std::move(*reply.response));
    }
    return;
  }
  StreamReply& s = *reply.stream;
  exchange->on_cancel([state] { state->count_cancelled_stream(); });
  exchange->start_stream(200, std::move(s.content_type));
  std::size_t size = s.head.size() + s.tail.size();
  for (const auto& t : s.tokens) size += t.size();
  std::string body;
  body.reserve(size);
  body += s.head;
  for (const auto& t : s.tokens) body += t;
  body += s.tail;
  exchange->write_chunk(std::move(body));
  if (drop) {
    exchange->abort();
  } else {
    exchange->end_stream();
  }
}

void send_paced(const std::shared_ptr<State>& state, const std::shared_ptr<Exchange>& exchange,
                Reply& reply, bool drop, std::int64_t latency_ms, std::int64_t token_delay_ms) {
  sleep_ms(latency_ms);
  if (exchange->cancelled()) {
    state->count_cancelled_stream();  // the client left while we "thought"
    return;
  }
  if (reply.response) {
    if (drop) {
      exchange->abort();
    } else {
      exchange->send(std::move(*reply.response));
    }
    return;
  }
  StreamReply& s = *reply.stream;
  std::vector<std::string> chunks;
  chunks.reserve(s.tokens.size() + 2);
  if (!s.head.empty()) chunks.push_back(std::move(s.head));
  for (auto& t : s.tokens) chunks.push_back(std::move(t));
  if (!s.tail.empty()) chunks.push_back(std::move(s.tail));

  exchange->on_cancel([state] { state->count_cancelled_stream(); });
  exchange->start_stream(200, std::move(s.content_type));
  for (std::size_t i = 0; i < chunks.size(); ++i) {
    if (i != 0) sleep_ms(token_delay_ms);
    if (exchange->cancelled()) return;
    exchange->write_chunk(std::move(chunks[i]));
  }
  if (drop) {
    if (!chunks.empty()) sleep_ms(token_delay_ms);
    exchange->abort();
    return;
  }
  if (exchange->cancelled()) return;
  exchange->end_stream();
}

void deliver(const std::shared_ptr<State>& state, const std::shared_ptr<Exchange>& exchange,
             Reply reply, const Faults* faults, Protocol protocol) {
  if (faults == nullptr) {
    send_inline(state, exchange, reply, false);
    return;
  }
  const bool drop = apply_content_faults(reply, *faults, protocol);
  const std::int64_t latency_ms = faults->latency_ms;
  const std::int64_t token_delay_ms = faults->token_delay_ms;
  if (latency_ms == 0 && token_delay_ms == 0) {
    send_inline(state, exchange, reply, drop);
    return;
  }
  // Delays never block the I/O threads: a small thread per delayed request.
  std::thread([state, exchange, reply = std::move(reply), drop, latency_ms,
               token_delay_ms]() mutable {
    send_paced(state, exchange, reply, drop, latency_ms, token_delay_ms);
  }).detach();
}

HttpResponse json_response(int status, const json::value& body) {
  HttpResponse response;
  response.status = status;
  response.body = to_json(body);
  return response;
}

}  // namespace

// --- Faults ---

bool Faults::active() const {
  return latency_ms != 0 || token_delay_ms != 0 || status != 0 || reset_after_tokens ||
         malformed_body || malformed_stream || hang;
}

bool Faults::applies_to(std::string_view path) const {
  return paths.empty() || std::find(paths.begin(), paths.end(), path) != paths.end();
}

json::object Faults::to_json() const {
  json::array path_list;
  for (const auto& p : paths) path_list.emplace_back(p);
  return json::object{
      {"latency_ms", latency_ms},
      {"token_delay_ms", token_delay_ms},
      {"status", status == 0 ? json::value(nullptr) : json::value(status)},
      {"error_message", error_message.empty() ? json::value(nullptr) : json::value(error_message)},
      {"status_count", optional_int_json(status_count)},
      {"reset_after_tokens", optional_int_json(reset_after_tokens)},
      {"malformed_body", malformed_body},
      {"malformed_stream", malformed_stream},
      {"hang", hang},
      {"paths", std::move(path_list)},
  };
}

// --- State ---

std::shared_ptr<const Faults> State::begin(const server::HttpRequest& request) {
  const bool is_post = request.method == "POST";
  std::shared_ptr<const Recorded> recorded;
  if (is_post) {
    auto r = std::make_shared<Recorded>();
    r->method = request.method;
    r->path = request.path;
    r->target = request.target;
    r->headers = request.headers.entries();
    r->body = request.body;
    recorded = std::move(r);
  }
  const auto authorization = request.headers.get("authorization");
  std::string route_key;
  route_key.reserve(request.method.size() + 1 + request.path.size());
  route_key.append(request.method).append(" ").append(request.path);

  std::lock_guard lock(mutex_);
  if (is_post) {
    requests_.fetch_add(1, std::memory_order_relaxed);
    last_request_ = std::move(recorded);
  }
  if (authorization) last_authorization_ = std::string(*authorization);
  ++requests_by_route_[route_key];
  if (!faults_ || !faults_->active() || !faults_->applies_to(request.path)) return nullptr;
  std::shared_ptr<const Faults> current = faults_;
  if (current->status != 0 && current->status_count) {
    // A limited number of injected errors: this request uses one up.
    auto next = std::make_shared<Faults>(*current);
    if (--*next->status_count <= 0) {
      next->status = 0;
      next->status_count.reset();
    }
    faults_ = std::move(next);
  }
  return current;
}

void State::hold(std::shared_ptr<server::Exchange> exchange) {
  std::lock_guard lock(mutex_);
  held_.push_back(std::move(exchange));
}

void State::release_held() {
  std::vector<std::shared_ptr<server::Exchange>> held;
  {
    std::lock_guard lock(mutex_);
    held.swap(held_);
  }
  for (const auto& exchange : held) exchange->abort();
}

json::object State::faults_json() const {
  std::lock_guard lock(mutex_);
  return faults_ ? faults_->to_json() : Faults{}.to_json();
}

json::object State::update_faults(const json::object& changes) {
  json::object result;
  bool release = false;
  {
    std::lock_guard lock(mutex_);
    Faults next = faults_ ? *faults_ : Faults{};
    for (const auto& [key, value] : changes) apply_control_field(next, key, value);
    release = faults_ && faults_->hang && !next.hang;
    result = next.to_json();
    faults_ = std::make_shared<const Faults>(std::move(next));
  }
  if (release) release_held();
  return result;
}

void State::reset() {
  {
    std::lock_guard lock(mutex_);
    faults_.reset();
    requests_ = 0;
    cancelled_streams_ = 0;
    ids_ = 0;
    last_request_.reset();
    last_authorization_.reset();
    requests_by_route_.clear();
  }
  release_held();
}

json::object State::stats() const {
  std::shared_ptr<const Recorded> last;
  json::object by_route;
  json::object out;
  {
    std::lock_guard lock(mutex_);
    last = last_request_;
    for (const auto& [route, count] : requests_by_route_) by_route[route] = count;
    out["requests"] = requests_.load();
    out["cancelled_streams"] = cancelled_streams_.load();
    out["hung_requests"] = held_.size();
    out["last_authorization"] = optional_string_json(last_authorization_);
  }
  out["requests_by_route"] = std::move(by_route);
  if (!last) {
    out["last_request"] = nullptr;
    return out;
  }
  json::object headers;
  for (const auto& [name, value] : last->headers) {
    if (auto* existing = headers.if_contains(name)) {
      std::string joined(existing->get_string());
      joined.append(", ").append(value);
      *existing = joined;
    } else {
      headers[name] = value;
    }
  }
  json::value body;
  try {
    body = parse_json(last->body);
  } catch (const JsonSyntaxError&) {
    body = json::string(last->body);
  }
  out["last_request"] = json::object{
      {"method", last->method},        {"path", last->path},      {"target", last->target},
      {"headers", std::move(headers)}, {"body", std::move(body)},
  };
  return out;
}

// --- handlers ---

server::HttpResponse error_response(Protocol protocol, int status, std::string_view message,
                                    std::string_view param, std::string_view code) {
  HttpResponse response;
  response.status = status;
  std::string& body = response.body;
  if (protocol == Protocol::kOllama) {
    body = R"({"error":)";
    append_json_string(body, message);
    body += '}';
    return response;
  }
  body = R"({"error":{"message":)";
  append_json_string(body, message);
  body += R"(,"type":)";
  append_json_string(body, openai_error_type(status));
  body += R"(,"param":)";
  if (param.empty()) {
    body += "null";
  } else {
    append_json_string(body, param);
  }
  body += R"(,"code":)";
  if (code.empty()) {
    body += "null";
  } else {
    append_json_string(body, code);
  }
  body += "}}";
  return response;
}

server::Handler model_handler(std::shared_ptr<State> state, Protocol protocol, Builder build) {
  return [state = std::move(state), protocol,
          build = std::move(build)](const std::shared_ptr<Exchange>& exchange) {
    const server::HttpRequest& request = exchange->request();
    const std::shared_ptr<const Faults> faults = state->begin(request);
    if (faults && faults->hang) {
      state->hold(exchange);
      return;
    }
    Reply reply;
    if (faults && faults->status != 0) {
      reply.response =
          error_response(protocol, faults->status,
                         faults->error_message.empty() ? default_error_message(faults->status)
                                                       : faults->error_message);
    } else {
      try {
        reply = build(request, *state);
      } catch (const FakeError& e) {
        reply.response = error_response(protocol, e.status, e.what(), e.param, e.code);
      } catch (const std::exception& e) {
        reply.response = error_response(protocol, 500, std::string("fake server bug: ") + e.what());
      }
    }
    deliver(state, exchange, std::move(reply), faults.get(), protocol);
  };
}

void add_control_routes(server::RouteTable& routes, const std::shared_ptr<State>& state) {
  auto route = [&routes](std::string method, std::string path, server::Handler handler) {
    routes.add(server::Route{std::move(method), std::move(path), std::move(handler), "control"});
  };
  route("GET", "/control", [state](const std::shared_ptr<Exchange>& exchange) {
    exchange->send(json_response(200, state->faults_json()));
  });
  route("POST", "/control", [state](const std::shared_ptr<Exchange>& exchange) {
    try {
      const json::object changes = parse_body(exchange->request().body);
      exchange->send(json_response(200, state->update_faults(changes)));
    } catch (const FakeError& e) {
      exchange->send(error_response(Protocol::kOpenAI, e.status, e.what()));
    }
  });
  route("POST", "/control/reset", [state](const std::shared_ptr<Exchange>& exchange) {
    state->reset();
    exchange->send(json_response(200, json::object{{"reset", true}}));
  });
  route("GET", "/control/stats", [state](const std::shared_ptr<Exchange>& exchange) {
    exchange->send(json_response(200, state->stats()));
  });
}

}  // namespace llama_stack::fake
