// Real PostgreSQL and Redis servers for the shared-store tests, started once
// per test binary with tests/support/dbserver.sh (Debian's packages) on free
// loopback ports, stopped at exit.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <stdexcept>
#include <string>

#include "llama_stack/storage/kvstore.h"
#include "support/temp_dir.h"

namespace llama_stack::testing {

inline int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    ::close(fd);
    throw std::runtime_error("no free port");
  }
  ::close(fd);
  return ntohs(address.sin_port);
}

class DbServer {
 public:
  // `kind` is "postgres" or "redis".
  DbServer(std::string kind, std::string password = "")
      : kind_(std::move(kind)), password_(std::move(password)), port_(free_port()) {
    dir_ = dirs_.file(kind_);
    start();
  }
  ~DbServer() { stop(); }
  DbServer(const DbServer&) = delete;
  DbServer& operator=(const DbServer&) = delete;

  void start() { run("start " + dir_ + " " + std::to_string(port_) + " " + password_); }
  void stop() { run("stop " + dir_, false); }
  int port() const { return port_; }

  storage::PostgresOptions postgres(const std::string& table) const {
    storage::PostgresOptions o;
    o.host = "127.0.0.1";
    o.port = port_;
    o.user = "llama";
    o.password = "secret";
    o.table_name = table;
    o.connect_timeout_seconds = 2;
    return o;
  }
  storage::RedisOptions redis() const {
    storage::RedisOptions o;
    o.host = "127.0.0.1";
    o.port = port_;
    o.password = password_;
    o.timeout_ms = 2000;
    return o;
  }

 private:
  void run(const std::string& args, bool must = true) {
    const std::string command =
        std::string("bash ") + LLAMA_STACK_TEST_SUPPORT_DIR "/dbserver.sh " + kind_ + " " + args;
    if (std::system(command.c_str()) != 0 && must) {
      throw std::runtime_error("failed: " + command);
    }
  }

  TempDir dirs_;
  std::string kind_;
  std::string password_;
  int port_;
  std::string dir_;
};

}  // namespace llama_stack::testing
