// fake-model-server: a deterministic stand-in for OpenAI-compatible and
// Ollama inference servers, with fault injection, for tests and benchmarks.
// It runs on our own server stack: IoRuntime → ServerCore → HttpServer.
//
//   fake-model-server [--host 127.0.0.1] [--port N] [--threads N] [--tls-cert F --tls-key F]
//
// Prints "listening on <host>:<port>" once bound; exits 0 on SIGTERM/SIGINT.
#include <pthread.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

#include "apis.h"
#include "core/log/log.h"
#include "core/runtime/io_runtime.h"
#include "core/server/http_server.h"
#include "core/server/server_core.h"

namespace llama_stack::fake {

server::RouteTable make_routes(const std::shared_ptr<State>& state) {
  server::RouteTable routes;
  add_openai_routes(routes, state);
  add_ollama_routes(routes, state);
  add_control_routes(routes, state);
  return routes;
}

namespace {

constexpr const char* kUsage =
    R"(usage: fake-model-server [--host HOST] [--port N] [--threads N] [--tls-cert F --tls-key F]

A deterministic fake of OpenAI-compatible and Ollama inference servers, with
fault injection through POST /control (see tests/support/fake_model_server/README.md).

options:
  --host HOST    address to bind (default 127.0.0.1)
  --port N       port to listen on; 0 picks a free one (default 0)
  --threads N    I/O threads; 0 = one per core (default 0)
  --tls-cert F   serve HTTPS with this certificate chain (with --tls-key)
  --tls-key F    private key for --tls-cert
  -h, --help     show this help
)";

bool parse_int(std::string_view text, long min, long max, long& out) {
  if (text.empty()) return false;
  char* end = nullptr;
  const std::string copy(text);
  const long value = std::strtol(copy.c_str(), &end, 10);
  if (*end != '\0' || value < min || value > max) return false;
  out = value;
  return true;
}

int run(int argc, char** argv) {
  std::string host = "127.0.0.1";
  long port = 0;
  long threads = 0;
  std::optional<std::string> tls_cert, tls_key;  // serve HTTPS (for client TLS tests)
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    auto value = [&](std::string_view flag, std::string& out) {
      if (arg.size() > flag.size() && arg.substr(0, flag.size()) == flag &&
          arg[flag.size()] == '=') {
        out = std::string(arg.substr(flag.size() + 1));
        return true;
      }
      if (arg != flag) return false;
      if (i + 1 >= argc) {
        std::cerr << "error: " << flag << " needs a value\n";
        std::exit(2);
      }
      out = argv[++i];
      return true;
    };
    std::string v;
    if (arg == "-h" || arg == "--help") {
      std::cout << kUsage;
      return 0;
    } else if (value("--host", v)) {
      host = v;
    } else if (value("--port", v)) {
      if (!parse_int(v, 0, 65535, port)) {
        std::cerr << "error: --port must be a number between 0 and 65535, got '" << v << "'\n";
        return 2;
      }
    } else if (value("--tls-cert", v)) {
      tls_cert = v;
    } else if (value("--tls-key", v)) {
      tls_key = v;
    } else if (value("--threads", v)) {
      if (!parse_int(v, 0, 256, threads)) {
        std::cerr << "error: --threads must be a number between 0 and 256, got '" << v << "'\n";
        return 2;
      }
    } else {
      std::cerr << "error: unexpected argument '" << arg << "'\n\n" << kUsage;
      return 2;
    }
  }

  // Quiet whatever LLAMA_STACK_LOGGING says: no access log lines.
  log::set_level(log::Category::kServer, spdlog::level::warn);
  log::set_level(log::Category::kCore, spdlog::level::warn);

  // SIGINT/SIGTERM are taken by a sigwait() thread, blocked everywhere else
  // (threads inherit the mask), so a signal that arrives before the server
  // runs still ends in a graceful stop and exit status 0.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  IoRuntime runtime(static_cast<int>(threads));
  runtime.start();
  auto state = std::make_shared<State>();
  server::ServerCore core(make_routes(state), {});
  server::ServerOptions options;
  options.host = host;
  options.port = static_cast<std::uint16_t>(port);
  options.tls_certfile = tls_cert;
  options.tls_keyfile = tls_key;
  // Held (hung) exchanges and paced streams must not delay a test's teardown for long.
  options.shutdown_timeout = std::chrono::seconds(2);
  server::HttpServer http(options, core, runtime);
  try {
    http.listen();
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
  const bool v6 = host.find(':') != std::string::npos;
  std::cout << "listening on " << (v6 ? "[" + host + "]" : host) << ":" << http.port() << std::endl;
  std::thread([&signals, &http, state] {
    int signal = 0;
    sigwait(&signals, &signal);
    state->release_held();  // hung requests would only delay the shutdown
    http.stop();
  }).detach();
  http.run(/*handle_signals=*/false);
  // Detached pacing threads may still hold exchanges: leave without running
  // destructors under them.
  std::cout.flush();
  std::fflush(nullptr);
  std::_Exit(0);
}

}  // namespace
}  // namespace llama_stack::fake

int main(int argc, char** argv) {
  return llama_stack::fake::run(argc, argv);
}
