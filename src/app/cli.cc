#include "app/cli.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <optional>

#include "core/auth/authenticator.h"
#include "core/config/stack_config.h"
#include "core/log/log.h"
#include "core/registry/apis.h"
#include "core/registry/provider_registry.h"
#include "core/server/filters/auth_filter.h"
#include "core/server/filters/metrics_filter.h"
#include "core/server/filters/quota_filter.h"
#include "core/server/filters/rate_limit_filter.h"
#include "core/server/filters/telemetry_filter.h"
#include "core/server/http_server.h"
#include "core/server/routes/routes.h"
#include "core/server/server_core.h"
#include "core/stack.h"
#include "core/storage/open_store.h"
#include "core/util/metrics.h"
#include "llama_stack/async/thread_pool.h"

namespace llama_stack::cli {
namespace {

namespace fs = std::filesystem;

constexpr const char* kMainHelp = R"(usage: llama-stack <command> [options]

A native Llama Stack server.

commands:
  run <config | distribution>   start the server
  validate <config>             check a run.yaml without starting (exit 0 = valid)
  list-providers [api]          list the provider types this build implements

options:
  --version                     print the version and exit
  -h, --help                    show this help (also after any command)

environment:
  LLAMA_STACK_PORT              port when --port is not given (before server.port)
  LLAMA_STACK_CONFIG_DIR        state and distributions folder (default ~/.llama)
  LLAMA_STACK_LOGGING           per-category levels, e.g. "server=debug;core=info"
  LLAMA_STACK_LOG_FILE          also write logs to this file
)";

constexpr const char* kRunHelp =
    R"(usage: llama-stack run <config | distribution> [--port N] [--env KEY=VALUE]... [--image-name NAME]

Start the Llama Stack server.

positional:
  config | distribution   a run.yaml path, or the name of a distribution
                          (e.g. "starter": distributions/starter/run.yaml)

options:
  --port N                port to listen on; wins over LLAMA_STACK_PORT and server.port
  --env KEY=VALUE         set an environment variable for ${env.KEY} substitution (repeatable)
  --image-name NAME       override image_name (names the default state folder)
  -h, --help              show this help
)";

constexpr const char* kValidateHelp = R"(usage: llama-stack validate <config> [--env KEY=VALUE]...

Check a run.yaml completely (syntax, types, environment variables, provider
types and configs, resource references) without starting the server.
Exits 0 when valid, 1 otherwise; errors name file:line:column and key path.
)";

constexpr const char* kListHelp = R"(usage: llama-stack list-providers [api]

List the provider types this build implements, optionally for one api.
)";

struct RunOptions {
  std::string config;
  std::optional<int> port;
  std::optional<std::string> image_name;
  bool help = false;
  std::string error;
};

bool is_help(const std::string& arg) {
  return arg == "-h" || arg == "--help";
}

RunOptions parse_run_options(const std::vector<std::string>& args, bool allow_port) {
  RunOptions options;
  for (std::size_t i = 1; i < args.size(); ++i) {
    const std::string& arg = args[i];
    auto value = [&](const std::string& flag) -> std::optional<std::string> {
      if (arg.starts_with(flag + "=")) return arg.substr(flag.size() + 1);
      if (i + 1 < args.size()) return args[++i];
      options.error = flag + " needs a value";
      return std::nullopt;
    };
    if (is_help(arg)) {
      options.help = true;
    } else if (allow_port && (arg == "--port" || arg.starts_with("--port="))) {
      if (auto v = value("--port")) {
        char* end = nullptr;
        long port = std::strtol(v->c_str(), &end, 10);
        if (v->empty() || *end != '\0' || port < 0 || port > 65535) {
          options.error = "--port must be a number between 0 and 65535, got '" + *v + "'";
        } else {
          options.port = static_cast<int>(port);
        }
      }
    } else if (arg == "--env" || arg.starts_with("--env=")) {
      if (auto v = value("--env")) {
        const auto eq = v->find('=');
        if (eq == std::string::npos || eq == 0) {
          options.error = "--env expects KEY=VALUE, got '" + *v + "'";
        } else {
          ::setenv(v->substr(0, eq).c_str(), v->substr(eq + 1).c_str(), 1);
        }
      }
    } else if (allow_port && (arg == "--image-name" || arg.starts_with("--image-name="))) {
      if (auto v = value("--image-name")) options.image_name = *v;
    } else if (allow_port && (arg == "--image-type" || arg.starts_with("--image-type="))) {
      value("--image-type");  // accepted for compatibility; we run natively
    } else if (!arg.empty() && arg[0] == '-') {
      options.error = "unknown option '" + arg + "'";
    } else if (options.config.empty()) {
      options.config = arg;
    } else {
      options.error = "unexpected argument '" + arg + "'";
    }
    if (!options.error.empty()) break;
  }
  return options;
}

std::string executable_dir() {
  std::error_code ec;
  fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  return ec ? std::string() : exe.parent_path().string();
}

void print_diagnostics(const config::Diagnostics& diagnostics) {
  for (const auto& d : diagnostics.all()) {
    if (!d.is_error) LS_WARN(kCore, "{}", d.format());
  }
  for (const auto& d : diagnostics.all()) {
    if (d.is_error) std::cerr << "error: " << d.format() << "\n";
  }
}

// Loads, parses and validates; nullopt (after printing errors) when invalid.
struct LoadedConfig {
  config::StackRunConfig config;
  security::ServerSecurity security;
};

std::optional<LoadedConfig> load_config(const std::string& path) {
  config::Diagnostics diagnostics;
  config::ConfigNode root = config::load_yaml_file(path, config::process_env(), diagnostics);
  config::StackRunConfig stack_config;
  security::ServerSecurity security;
  if (!diagnostics.has_errors()) {
    stack_config = config::parse_stack_config(root, diagnostics);
    security =
        validate_stack_config(stack_config, registry::ProviderRegistry::builtin(), diagnostics);
    for (const auto* file : {&stack_config.server.tls_certfile, &stack_config.server.tls_keyfile,
                             &stack_config.server.tls_cafile}) {
      if (*file && ::access((*file)->c_str(), R_OK) != 0) {
        const config::ConfigNode* server = root.find("server");
        diagnostics.error(server != nullptr ? *server : root,
                          "TLS file '" + **file + "' cannot be read: " + std::strerror(errno));
      }
    }
  }
  print_diagnostics(diagnostics);
  if (diagnostics.has_errors()) {
    std::cerr << "error: " << path << " is not a valid run configuration ("
              << diagnostics.errors().size() << " error(s))\n";
    return std::nullopt;
  }
  return LoadedConfig{std::move(stack_config), std::move(security)};
}

void configure_logging(const std::vector<std::pair<std::string, std::string>>& config_levels = {}) {
  const char* spec = std::getenv("LLAMA_STACK_LOGGING");
  const char* file = std::getenv("LLAMA_STACK_LOG_FILE");
  log::configure(spec != nullptr ? spec : "", file != nullptr ? file : "", config_levels);
}

// The filter chain, in order: authentication, then quota (counted per
// authenticated principal, so it must come after auth).
std::vector<std::unique_ptr<server::Filter>> build_filters(const Stack& stack, IoRuntime& runtime) {
  const security::ServerSecurity& security = stack.security();
  std::vector<std::unique_ptr<server::Filter>> filters;
  // First: their on_response sees every request, refused ones too.
  if (stack.config().server.metrics.enabled) {
    filters.push_back(std::make_unique<server::MetricsFilter>());
  }
  if (apis::TelemetryApi* telemetry = stack.services().telemetry()) {
    filters.push_back(std::make_unique<server::TelemetryFilter>(*telemetry));
  }
  if (const auto& auth = security.auth) {
    std::optional<std::string> metadata_url;
    if (stack.oauth().stack_uri) {
      std::string base = *stack.oauth().stack_uri;
      while (!base.empty() && base.back() == '/') base.pop_back();
      metadata_url = base + "/.well-known/oauth-protected-resource";
    }
    auto auth_filter = std::make_unique<server::AuthFilter>(
        auth::make_authenticator(*auth, runtime), auth->max_token_bytes, metadata_url);
    auth_filter->set_audit(stack.audit());
    filters.push_back(std::move(auth_filter));
    LS_INFO(
        kAuth, "authentication: {}{}", auth->type,
        auth->type == "oauth2_token" ? (auth->oauth2.jwks ? " (jwks)" : " (introspection)") : "");
  } else {
    LS_WARN(kAuth,
            "authentication is disabled: every route is open to anyone who can reach the port");
  }
  if (security.quota) {
    server::QuotaConfig quota = *security.quota;
    std::shared_ptr<storage::KVStore> store;
    try {
      store = storage::open_kvstore(quota.kvstore);
    } catch (const std::exception& e) {
      throw std::runtime_error("server.quota.kvstore (" + quota.kvstore.describe() +
                               "): " + e.what());
    }
    auto quota_filter =
        std::make_unique<server::QuotaFilter>(std::move(quota), store, !filters.empty());
    quota_filter->set_audit(stack.audit());
    quota_filter->set_telemetry(stack.services().telemetry());
    filters.push_back(std::move(quota_filter));
  }
  if (auto limiter = stack.rate_limiter()) {
    std::vector<std::string> proxies;
    if (security.quota) proxies = security.quota->trusted_proxies;
    auto rate_filter = std::make_unique<server::RateLimitFilter>(stack.oauth(), limiter,
                                                                 std::move(proxies), stack.audit());
    rate_filter->set_telemetry(stack.services().telemetry());
    filters.push_back(std::move(rate_filter));
  }
  if (stack.audit() != nullptr && stack.audit()->strict()) {
    filters.insert(filters.begin(), std::make_unique<server::StrictAuditFilter>(stack.audit()));
  }
  return filters;
}

int command_run(const std::vector<std::string>& args) {
  RunOptions options = parse_run_options(args, true);
  if (options.help) {
    std::cout << kRunHelp;
    return 0;
  }
  if (!options.error.empty()) {
    std::cerr << "error: " << options.error << "\n\n" << kRunHelp;
    return 2;
  }
  if (options.config.empty()) {
    std::cerr << "error: run needs a config file or distribution name\n\n" << kRunHelp;
    return 2;
  }
  configure_logging();
  std::vector<std::string> searched;
  const std::string path = resolve_config_path(options.config, searched);
  if (path.empty()) {
    std::cerr << "error: no config file or distribution named '" << options.config
              << "' (looked in:";
    for (const auto& s : searched) std::cerr << "\n  " << s;
    std::cerr << ")\n";
    return 1;
  }
  LS_INFO(kServer, "Using config file: {}", path);
  auto loaded = load_config(path);
  if (!loaded) return 1;
  config::StackRunConfig stack_config = std::move(loaded->config);
  configure_logging(stack_config.logging_levels);
  if (options.image_name) stack_config.image_name = *options.image_name;

  int port = static_cast<int>(stack_config.server.port);
  if (options.port) {
    port = *options.port;
  } else if (const char* env_port = std::getenv("LLAMA_STACK_PORT"); env_port && *env_port) {
    char* end = nullptr;
    const long value = std::strtol(env_port, &end, 10);
    if (*end != '\0' || value < 0 || value > 65535) {
      std::cerr << "error: LLAMA_STACK_PORT must be a port number (0-65535), got '" << env_port
                << "'\n";
      return 1;
    }
    port = static_cast<int>(value);
  }

  const config::MetricsSettings metrics_settings = stack_config.server.metrics;
  metrics::set_enabled(metrics_settings.enabled);
  metrics::set_principal_labels(metrics_settings.principal_labels);
  if (metrics_settings.enabled) {
    metrics::catalog().build_info.with({LLAMA_STACK_VERSION}).set(1);  // registers every family
  }

  IoRuntime runtime(static_cast<int>(stack_config.server.workers));
  runtime.start();
  Stack stack(std::move(stack_config), std::move(loaded->security),
              registry::ProviderRegistry::builtin(), runtime);
  try {
    stack.initialize();
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }

  const auto& server_config = stack.config().server;
  std::vector<std::unique_ptr<server::Filter>> filters;
  try {
    filters = build_filters(stack, runtime);
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
  server::RouteTable routes = server::routes::build_routes(stack.services());
  // /metrics: on the API port, or alone on server.metrics.port.
  std::optional<server::ServerCore> metrics_core;
  if (metrics_settings.enabled) {
    const bool server_auth = stack.security().auth.has_value();
    if (metrics_settings.port) {
      server::RouteTable metrics_routes;
      server::routes::add_metrics_route(metrics_routes, metrics_settings, false);
      metrics_core.emplace(std::move(metrics_routes),
                           std::vector<std::unique_ptr<server::Filter>>{});
    } else {
      server::routes::add_metrics_route(routes, metrics_settings, server_auth);
    }
  }
  // Synchronous handlers that wait on a store (Route::blocking) run here,
  // off the I/O threads: a shared store is a network round trip away.
  async::ThreadPool store_pool(4);
  server::ServerCore core(std::move(routes), std::move(filters));
  core.set_blocking_executor(&store_pool);
  server::ServerOptions server_options;
  server_options.host = server_config.host;
  server_options.port = static_cast<std::uint16_t>(port);
  server_options.tls_certfile = server_config.tls_certfile;
  server_options.tls_keyfile = server_config.tls_keyfile;
  server_options.tls_cafile = server_config.tls_cafile;
  server_options.max_body_bytes = static_cast<std::size_t>(server_config.max_request_body_bytes);
  server_options.max_header_bytes = static_cast<std::size_t>(server_config.max_header_bytes);
  server_options.idle_timeout = std::chrono::seconds(server_config.idle_timeout_seconds);
  server_options.request_timeout = std::chrono::seconds(server_config.request_timeout_seconds);
  server_options.shutdown_timeout = std::chrono::seconds(server_config.shutdown_timeout_seconds);

  server::HttpServer http(server_options, core, runtime);
  std::optional<server::HttpServer> metrics_http;
  try {
    http.listen();
    if (metrics_core) {
      server::ServerOptions metrics_options;
      metrics_options.host = metrics_settings.host ? metrics_settings.host : server_config.host;
      metrics_options.port = static_cast<std::uint16_t>(*metrics_settings.port);
      metrics_http.emplace(metrics_options, *metrics_core, runtime);
      metrics_http->listen();
    }
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
  if (metrics_http) {
    metrics_http->start(/*handle_signals=*/false);
    LS_INFO(kServer, "Metrics on {} (/metrics)", metrics_http->local_addresses().front());
  }
  std::string addresses;
  for (const auto& a : http.local_addresses()) addresses += (addresses.empty() ? "" : ", ") + a;
  if (stack.audit() != nullptr) {
    stack.audit()->record(
        {"config_loaded", security::AuditLevel::kInfo,
         json::object{{"config", path},
                      {"listening", addresses},
                      {"auth_enabled", stack.security().auth.has_value()},
                      {"rate_limiting", stack.rate_limiter() != nullptr},
                      {"model_permissions", stack.oauth().enforce_model_permissions}}});
  }
  LS_INFO(kServer, "Listening on {} ({})", addresses,
          server_options.tls_certfile ? (server_options.tls_cafile ? "https, mutual TLS" : "https")
                                      : "http");
  http.run(/*handle_signals=*/true);
  if (metrics_http) {
    metrics_http->stop();
    metrics_http->wait();
  }
  stack.shutdown();
  runtime.stop();
  LS_INFO(kServer, "stopped");
  return 0;
}

int command_validate(const std::vector<std::string>& args) {
  RunOptions options = parse_run_options(args, false);
  if (options.help) {
    std::cout << kValidateHelp;
    return 0;
  }
  if (!options.error.empty() || options.config.empty()) {
    std::cerr << "error: "
              << (options.error.empty() ? "validate needs a config file" : options.error) << "\n\n"
              << kValidateHelp;
    return 2;
  }
  configure_logging();
  std::vector<std::string> searched;
  const std::string path = resolve_config_path(options.config, searched);
  if (path.empty()) {
    std::cerr << "error: no config file or distribution named '" << options.config << "'\n";
    return 1;
  }
  if (!load_config(path)) return 1;
  std::cout << path << ": valid\n";
  return 0;
}

int command_list_providers(const std::vector<std::string>& args) {
  std::string api;
  for (std::size_t i = 1; i < args.size(); ++i) {
    if (is_help(args[i])) {
      std::cout << kListHelp;
      return 0;
    }
    if (!api.empty()) {
      std::cerr << "error: unexpected argument '" << args[i] << "'\n\n" << kListHelp;
      return 2;
    }
    api = args[i];
  }
  if (!api.empty() && !registry::is_providable_api(api)) {
    std::cerr << "error: unknown api '" << api << "'\n";
    return 1;
  }
  std::cout << "API            PROVIDER TYPE            DEPENDS ON    DESCRIPTION\n";
  for (const auto* spec : registry::ProviderRegistry::builtin().for_api(api)) {
    std::string deps;
    for (const auto& d : spec->api_dependencies) deps += (deps.empty() ? "" : ",") + d;
    std::printf("%-14s %-24s %-13s %s\n", spec->api.c_str(), spec->provider_type.c_str(),
                deps.empty() ? "-" : deps.c_str(), spec->description.c_str());
  }
  return 0;
}

}  // namespace

std::string resolve_config_path(const std::string& name_or_path,
                                std::vector<std::string>& searched) {
  std::error_code ec;
  const std::string expanded = config::expand_user(name_or_path);
  searched.push_back(expanded);
  if (fs::is_regular_file(expanded, ec)) return expanded;
  if (expanded.ends_with(".yaml") || expanded.ends_with(".yml") ||
      expanded.find('/') != std::string::npos) {
    return {};
  }
  const std::string& name = name_or_path;
  const std::string dir = config::config_dir() + "/distributions";
  std::vector<std::string> candidates = {
      dir + "/" + name + "/" + name + "-run.yaml",
      dir + "/llamastack-" + name + "/" + name + "-run.yaml",
      dir + "/" + name + "/run.yaml",
  };
  if (const std::string exe = executable_dir(); !exe.empty()) {
    candidates.push_back(exe + "/../share/llama-stack/distributions/" + name + "/run.yaml");
  }
  candidates.push_back(std::string(LLAMA_STACK_INSTALL_DATADIR) + "/distributions/" + name +
                       "/run.yaml");
  candidates.push_back(std::string(LLAMA_STACK_SOURCE_DIR) + "/distributions/" + name +
                       "/run.yaml");
  for (const auto& candidate : candidates) {
    searched.push_back(candidate);
    if (fs::is_regular_file(candidate, ec)) return fs::weakly_canonical(candidate, ec).string();
  }
  return {};
}

int main(const std::vector<std::string>& args) {
  if (args.empty() || is_help(args[0])) {
    std::cout << kMainHelp;
    return args.empty() ? 2 : 0;
  }
  const std::string& command = args[0];
  if (command == "--version" || command == "version") {
    std::cout << "llama-stack " << LLAMA_STACK_VERSION << " (C++)\n";
    return 0;
  }
  try {
    if (command == "run") return command_run(args);
    if (command == "validate") return command_validate(args);
    if (command == "list-providers") return command_list_providers(args);
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
  std::cerr << "error: unknown command '" << command << "'\n\n" << kMainHelp;
  return 2;
}

}  // namespace llama_stack::cli
