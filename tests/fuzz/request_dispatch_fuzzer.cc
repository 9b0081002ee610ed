// Every API's request validation, as the server runs it: a Stack built from
// a run.yaml with every API (inference on a model server that is not there,
// code-scanner safety, faiss, meta-reference agents, localfs files, rag
// runtime, meta-reference telemetry), its route table, and ServerCore. Each
// input is one request: the first byte picks the route (POST bodies and GET
// query strings are the rest), {agent}, {session} and {store} name resources
// made at startup. The answer must be exactly one response (or one stream).
#include <unistd.h>

#include <condition_variable>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <memory>
#include <mutex>
#include <string>

#include "core/config/config_node.h"
#include "core/config/stack_config.h"
#include "core/log/log.h"
#include "core/registry/provider_registry.h"
#include "core/runtime/io_runtime.h"
#include "core/server/exchange.h"
#include "core/server/routes/routes.h"
#include "core/server/server_core.h"
#include "core/stack.h"
#include "core/util/json.h"
#include "fuzz/fuzz_support.h"
#include "llama_stack/async/thread_pool.h"

using namespace llama_stack;

namespace {

struct RouteCase {
  const char* method;
  const char* path;
};

constexpr RouteCase kRoutes[] = {
    {"POST", "/v1/openai/v1/chat/completions"},
    {"POST", "/v1/openai/v1/completions"},
    {"POST", "/v1/openai/v1/embeddings"},
    {"POST", "/v1/inference/chat-completion"},
    {"POST", "/v1/inference/completion"},
    {"POST", "/v1/inference/embeddings"},
    {"POST", "/v1/models"},
    {"POST", "/v1/shields"},
    {"POST", "/v1/vector-dbs"},
    {"POST", "/v1/toolgroups"},
    {"POST", "/v1/safety/run-shield"},
    {"POST", "/v1/openai/v1/moderations"},
    {"POST", "/v1/vector-io/insert"},
    {"POST", "/v1/vector-io/query"},
    {"POST", "/v1/openai/v1/vector_stores"},
    {"POST", "/v1/openai/v1/vector_stores/{store}"},
    {"POST", "/v1/openai/v1/vector_stores/{store}/search"},
    {"POST", "/v1/openai/v1/vector_stores/{store}/files"},
    {"POST", "/v1/openai/v1/vector_stores/{store}/file_batches"},
    {"POST", "/v1/agents"},
    {"POST", "/v1/agents/{agent}/session"},
    {"POST", "/v1/agents/{agent}/session/{session}/turn"},
    {"POST", "/v1/openai/v1/responses"},
    {"POST", "/v1/conversations"},
    {"POST", "/v1/telemetry/events"},
    {"POST", "/v1/telemetry/traces"},
    {"POST", "/v1/telemetry/spans"},
    {"POST", "/v1/telemetry/spans/0000000000000001/tree"},
    {"POST", "/v1/telemetry/metrics/prompt_tokens"},
    {"POST", "/v1/tool-runtime/invoke"},
    {"POST", "/v1/tool-runtime/rag-tool/insert"},
    {"POST", "/v1/tool-runtime/rag-tool/query"},
    {"GET", "/v1/openai/v1/chat/completions"},
    {"GET", "/v1/openai/v1/vector_stores"},
    {"GET", "/v1/openai/v1/vector_stores/{store}/files"},
    {"GET", "/v1/agents"},
    {"GET", "/v1/agents/{agent}/sessions"},
    {"GET", "/v1/agents/{agent}/session/{session}"},
    {"GET", "/v1/openai/v1/files"},
    {"GET", "/v1/openai/v1/responses"},
    {"GET", "/v1/tool-runtime/list-tools"},
    {"GET", "/v1/tools"},
    {"GET", "/v1/models"},
};

// One exchange's answer: a response, or a stream that ended or was dropped.
class FuzzSink final : public server::ResponseSink {
 public:
  void send(server::HttpResponse response) override {
    {
      std::lock_guard lock(mutex_);
      body_ = response.body;
    }
    answer(response.status, true);
  }
  void start_stream(int status, server::Headers, std::string) override { answer(status, false); }
  void write_chunk(std::string) override {}
  void end_stream() override { finish(); }
  void abort() override { finish(); }
  bool cancelled() const override { return false; }
  void on_cancel(std::function<void()>) override {}

  // Waits for the end of the exchange; false when it hangs (a generous guard).
  bool wait() {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, std::chrono::seconds(20), [&] { return done_; });
  }
  int status() const {
    std::lock_guard lock(mutex_);
    return status_;
  }
  std::string body() const {
    std::lock_guard lock(mutex_);
    return body_;
  }

 private:
  void answer(int status, bool complete) {
    std::lock_guard lock(mutex_);
    if (answers_++ > 0) __builtin_trap();  // two responses to one request
    status_ = status;
    if (complete) done_ = true;
    changed_.notify_all();
  }
  void finish() {
    std::lock_guard lock(mutex_);
    done_ = true;
    changed_.notify_all();
  }

  mutable std::mutex mutex_;
  std::condition_variable changed_;
  int answers_ = 0;
  int status_ = 0;
  bool done_ = false;
  std::string body_;
};

struct Harness {
  std::string dir;
  std::unique_ptr<IoRuntime> runtime;
  std::unique_ptr<Stack> stack;
  std::unique_ptr<async::ThreadPool> pool;
  std::unique_ptr<server::ServerCore> core;
  std::string agent, session, store;

  Harness() {
    char pattern[] = "/tmp/fuzz-dispatch-XXXXXX";
    dir = ::mkdtemp(pattern);
    static std::string removed_at_exit;
    removed_at_exit = dir;
    std::atexit([] {
      std::error_code ignored;
      std::filesystem::remove_all(removed_at_exit, ignored);
    });
    for (std::size_t i = 0; i < log::kCategoryNames.size(); ++i) {
      log::set_level(static_cast<log::Category>(i), spdlog::level::off);
    }
    const std::string yaml = R"(
version: 2
image_name: fuzz
apis: [inference, safety, vector_io, agents, tool_runtime, files, telemetry]
providers:
  inference:
  - {provider_id: vllm, provider_type: remote::vllm, config: {url: "http://127.0.0.1:1/v1", timeout_seconds: 2}}
  safety:
  - {provider_id: code-scanner, provider_type: inline::code-scanner, config: {}}
  vector_io:
  - {provider_id: faiss, provider_type: inline::faiss, config: {kvstore: {type: sqlite, db_path: "DIR/faiss.db"}}}
  agents:
  - {provider_id: meta-reference, provider_type: inline::meta-reference, config: {persistence_store: {type: sqlite, db_path: "DIR/agents.db"}}}
  tool_runtime:
  - {provider_id: rag-runtime, provider_type: inline::rag-runtime, config: {}}
  files:
  - {provider_id: localfs, provider_type: inline::localfs, config: {storage_dir: "DIR/files", metadata_store: {type: sqlite, db_path: "DIR/files.db"}}}
  telemetry:
  - {provider_id: meta-reference, provider_type: inline::meta-reference, config: {sinks: sqlite, sqlite_db_path: "DIR/trace.db"}}
metadata_store: {type: sqlite, db_path: "DIR/registry.db"}
inference_store: {type: sqlite, db_path: "DIR/inference.db"}
models:
- {model_id: llama3.2:3b, provider_id: vllm}
- {model_id: embed, provider_id: vllm, model_type: embedding, metadata: {embedding_dimension: 8}}
shields:
- {shield_id: code-scanner, provider_id: code-scanner}
vector_dbs:
- {vector_db_id: kb, embedding_model: embed, embedding_dimension: 8, provider_id: faiss}
tool_groups:
- {toolgroup_id: builtin::rag, provider_id: rag-runtime}
)";
    std::string text = yaml;
    for (std::size_t at; (at = text.find("DIR")) != std::string::npos;) text.replace(at, 3, dir);
    config::Diagnostics diagnostics;
    const config::ConfigNode root = config::load_yaml(
        text, "run.yaml", [](const std::string&) { return std::nullopt; }, diagnostics);
    config::StackRunConfig stack_config = config::parse_stack_config(root, diagnostics);
    security::ServerSecurity security =
        validate_stack_config(stack_config, registry::ProviderRegistry::builtin(), diagnostics);
    if (diagnostics.has_errors()) {
      for (const auto& d : diagnostics.errors()) std::cerr << d.message << "\n";
      std::abort();
    }
    runtime = std::make_unique<IoRuntime>(1);
    runtime->start();
    stack = std::make_unique<Stack>(std::move(stack_config), std::move(security),
                                    registry::ProviderRegistry::builtin(), *runtime);
    stack->initialize();
    pool = std::make_unique<async::ThreadPool>(1);
    core = std::make_unique<server::ServerCore>(server::routes::build_routes(stack->services()),
                                                std::vector<std::unique_ptr<server::Filter>>{});
    core->set_blocking_executor(pool.get());
    agent = created("POST", "/v1/agents",
                    R"({"agent_config":{"model":"llama3.2:3b","instructions":"x"}})", "agent_id");
    session = created("POST", "/v1/agents/" + agent + "/session", R"({"session_name":"s"})",
                      "session_id");
    store = created("POST", "/v1/openai/v1/vector_stores",
                    R"({"name":"s","embedding_model":"embed","embedding_dimension":8})", "id");
  }

  std::string created(const std::string& method, const std::string& path, std::string body,
                      const char* field) {
    std::string answer;
    run(method, path, std::move(body), &answer);
    const json::value value = parse_json(answer);
    return std::string(value.at(field).as_string());
  }

  int run(const std::string& method, const std::string& target, std::string body,
          std::string* answer = nullptr) {
    server::HttpRequest request;
    request.method = method;
    request.target = target;
    const std::size_t q = target.find('?');
    request.path = target.substr(0, q);
    if (q != std::string::npos) {
      std::string_view query = std::string_view(target).substr(q + 1);
      while (!query.empty()) {
        const auto [pair, rest] = fuzz::split_once(query, '&');
        const auto [key, value] = fuzz::split_once(pair, '=');
        request.query.emplace_back(std::string(key), std::string(value));
        query = rest;
      }
    }
    request.headers.set("content-type", "application/json");
    request.body = std::move(body);
    request.remote_address = "10.0.0.1";
    auto sink = std::make_shared<FuzzSink>();
    auto exchange = std::make_shared<server::Exchange>(std::move(request), sink);
    core->dispatch(exchange);
    if (!sink->wait()) __builtin_trap();  // a request that never ends
    if (answer != nullptr) *answer = sink->body();
    return sink->status();
  }
};

std::string expand(std::string path, const Harness& h) {
  for (const auto& [name, value] : {std::pair<std::string, std::string>{"{agent}", h.agent},
                                    {"{session}", h.session},
                                    {"{store}", h.store}}) {
    for (std::size_t at; (at = path.find(name)) != std::string::npos;) {
      path.replace(at, name.size(), value);
    }
  }
  return path;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static Harness* harness = new Harness();  // lives for the process
  if (size == 0) return 0;
  const RouteCase& route = kRoutes[data[0] % std::size(kRoutes)];
  const std::string rest(fuzz::as_text(data + 1, size - 1));
  std::string target = expand(route.path, *harness);
  const bool get = std::string_view(route.method) == "GET";
  if (get) target += "?" + rest;
  const int status = harness->run(route.method, target, get ? std::string() : rest);
  if (status < 200 || status > 599) __builtin_trap();
  if (status == 500) __builtin_trap();  // an unexpected exception escaped a handler
  return 0;
}
