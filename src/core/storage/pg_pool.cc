#include "core/storage/pg_pool.h"

#include <chrono>
#include <cstring>

#include "core/log/log.h"

namespace llama_stack::storage {
namespace {

std::uint64_t read_be(const char* p, int length) {
  std::uint64_t v = 0;
  for (int i = 0; i < length; ++i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}

std::string trimmed_error(const char* message) {
  std::string s = message != nullptr ? message : "unknown error";
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

}  // namespace

std::string PostgresOptions::describe() const {
  return "postgres://" + (user.empty() ? std::string() : user + "@") + host + ":" +
         std::to_string(port) + "/" + db;
}

bool is_sql_identifier(std::string_view name) {
  if (name.empty() || name.size() > 63) return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    if (!letter && !(i > 0 && c >= '0' && c <= '9')) return false;
  }
  return true;
}

std::string PgResult::bytes(int row, int column) const {
  const char* p = PQgetvalue(result_.get(), row, column);
  return std::string(p, static_cast<std::size_t>(PQgetlength(result_.get(), row, column)));
}

std::int64_t PgResult::int64(int row, int column) const {
  const int length = PQgetlength(result_.get(), row, column);
  const char* p = PQgetvalue(result_.get(), row, column);
  const std::uint64_t raw = read_be(p, length);
  switch (length) {
    case 1:
      return static_cast<std::int64_t>(raw);  // boolean
    case 2:
      return static_cast<std::int16_t>(raw);
    case 4:
      return static_cast<std::int32_t>(raw);
    case 8:
      return static_cast<std::int64_t>(raw);
    default:
      throw StorageError("postgres: unexpected integer width " + std::to_string(length));
  }
}

double PgResult::float64(int row, int column) const {
  const int length = PQgetlength(result_.get(), row, column);
  const std::uint64_t raw = read_be(PQgetvalue(result_.get(), row, column), length);
  if (length == 8) {
    double d;
    std::memcpy(&d, &raw, sizeof d);
    return d;
  }
  if (length == 4) {
    const auto bits = static_cast<std::uint32_t>(raw);
    float f;
    std::memcpy(&f, &bits, sizeof f);
    return f;
  }
  throw StorageError("postgres: unexpected float width " + std::to_string(length));
}

std::size_t PgResult::affected() const {
  const char* n = PQcmdTuples(result_.get());
  return n != nullptr && *n != '\0' ? static_cast<std::size_t>(std::stoull(n)) : 0;
}

PgPool::PgPool(PostgresOptions options)
    : options_(std::move(options)), address_(options_.describe()) {
  if (options_.pool_size < 1) throw StorageError(address_ + ": pool_size must be at least 1");
  auto first = connect();
  std::lock_guard lock(mutex_);
  ++open_;
  idle_.push_back(std::move(first));
}

PgPool::~PgPool() = default;

std::unique_ptr<PgPool::Connection> PgPool::connect() {
  const std::string port = std::to_string(options_.port);
  const std::string timeout = std::to_string(options_.connect_timeout_seconds);
  std::vector<const char*> keys = {"host", "port", "dbname", "connect_timeout", "application_name"};
  std::vector<const char*> values = {options_.host.c_str(), port.c_str(), options_.db.c_str(),
                                     timeout.c_str(), "llama-stack"};
  if (!options_.user.empty()) {
    keys.push_back("user");
    values.push_back(options_.user.c_str());
  }
  if (!options_.password.empty()) {
    keys.push_back("password");
    values.push_back(options_.password.c_str());
  }
  if (!options_.ssl_mode.empty()) {
    keys.push_back("sslmode");
    values.push_back(options_.ssl_mode.c_str());
  }
  if (!options_.ca_cert_path.empty()) {
    keys.push_back("sslrootcert");
    values.push_back(options_.ca_cert_path.c_str());
  }
  keys.push_back(nullptr);
  values.push_back(nullptr);
  auto connection = std::make_unique<Connection>();
  connection->conn = PQconnectdbParams(keys.data(), values.data(), 0);
  if (connection->conn == nullptr) throw StorageError(address_ + ": out of memory");
  if (PQstatus(connection->conn) != CONNECTION_OK) {
    throw StorageError("cannot connect to " + address_ + ": " +
                       trimmed_error(PQerrorMessage(connection->conn)));
  }
  {
    std::lock_guard lock(mutex_);
    connection->epoch = epoch_;
  }
  return connection;
}

PgPool::Lease PgPool::acquire() {
  std::unique_lock lock(mutex_);
  const auto deadline = std::chrono::steady_clock::now() +
                        std::chrono::seconds(std::max(1, options_.connect_timeout_seconds));
  while (idle_.empty() && open_ >= options_.pool_size) {
    if (available_.wait_until(lock, deadline) == std::cv_status::timeout && idle_.empty() &&
        open_ >= options_.pool_size) {
      throw StorageError(address_ + ": every pooled connection stayed busy");
    }
  }
  while (!idle_.empty()) {
    auto connection = std::move(idle_.back());
    idle_.pop_back();
    // A non-blocking look at the socket: a server that restarted or shut
    // down has closed it (and said so); such a connection is dropped here,
    // before a statement that must not run twice is sent on it.
    if (PQconsumeInput(connection->conn) == 1 && PQstatus(connection->conn) == CONNECTION_OK) {
      return Lease(this, std::move(connection));
    }
    --open_;
    ++epoch_;
    LS_WARN(kCore, "{}: a pooled connection was closed by the server; reconnecting", address_);
  }
  ++open_;
  lock.unlock();
  try {
    return Lease(this, connect());
  } catch (...) {
    lock.lock();
    --open_;
    available_.notify_one();
    throw;
  }
}

void PgPool::release(std::unique_ptr<Connection> connection, bool broken) {
  // A connection left inside a transaction (an exception between BEGIN and
  // COMMIT) is not reusable as is.
  if (!broken && PQtransactionStatus(connection->conn) != PQTRANS_IDLE) broken = true;
  std::vector<std::unique_ptr<Connection>> stale;
  {
    std::lock_guard lock(mutex_);
    if (broken) {
      --open_;
      if (connection->epoch == epoch_) {
        ++epoch_;
        open_ -= static_cast<int>(idle_.size());
        stale.swap(idle_);
      }
    } else if (connection->epoch != epoch_) {
      --open_;  // opened before a break: may be stale too
      stale.push_back(std::move(connection));
    } else {
      idle_.push_back(std::move(connection));
    }
  }
  available_.notify_all();
  // `stale` and a broken `connection` close here, outside the lock.
}

PgPool::Lease::~Lease() {
  if (connection_ && pool_ != nullptr) pool_->release(std::move(connection_), broken_);
}

PgResult PgPool::Lease::check(PGresult* result, std::string_view what) {
  const ExecStatusType status = result == nullptr ? PGRES_FATAL_ERROR : PQresultStatus(result);
  if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) return PgResult(result);
  std::string message = trimmed_error(result != nullptr ? PQresultErrorMessage(result)
                                                        : PQerrorMessage(connection_->conn));
  if (message.empty()) message = trimmed_error(PQerrorMessage(connection_->conn));
  if (result != nullptr) PQclear(result);
  if (PQstatus(connection_->conn) != CONNECTION_OK) broken_ = true;
  throw StorageError(pool_->address() + ": " + std::string(what) + ": " + message);
}

PgResult PgPool::Lease::run(std::string_view name, const char* sql,
                            const std::vector<PgParam>& params) {
  if (!connection_->prepared.contains(name)) {
    const std::string statement(name);
    check(PQprepare(connection_->conn, statement.c_str(), sql, 0, nullptr), "prepare");
    connection_->prepared.insert(statement);
  }
  std::vector<const char*> values(params.size());
  std::vector<int> lengths(params.size());
  std::vector<int> formats(params.size());
  for (std::size_t i = 0; i < params.size(); ++i) {
    values[i] = params[i].is_null ? nullptr : params[i].data.data();
    lengths[i] = static_cast<int>(params[i].data.size());
    formats[i] = params[i].binary ? 1 : 0;
  }
  const std::string statement(name);
  return check(PQexecPrepared(connection_->conn, statement.c_str(), static_cast<int>(params.size()),
                              values.data(), lengths.data(), formats.data(), 1),
               name);
}

void PgPool::Lease::migrate(const std::vector<std::string>& statements) {
  exec("BEGIN");
  try {
    exec("SELECT pg_advisory_xact_lock(hashtext('llama_stack.schema'))");
    for (const auto& statement : statements) exec(statement.c_str());
    exec("COMMIT");
  } catch (...) {
    if (!broken_) {
      try {
        exec("ROLLBACK");
      } catch (const StorageError&) {  // dropped on release
      }
    }
    throw;
  }
}

PgResult PgPool::Lease::exec(const char* sql) {
  return check(PQexecParams(connection_->conn, sql, 0, nullptr, nullptr, nullptr, nullptr, 1), sql);
}

}  // namespace llama_stack::storage
