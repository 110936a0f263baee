// Node-to-node libpq connections; see node_connection.hpp.
#include "pg/remote/node_connection.hpp"

#include <chrono>

#include "core/common/error.hpp"
#include "core/metadata/node_membership.hpp"
#include "pg/guard.hpp"
#include "pg/settings.hpp"

extern "C" {
#include "commands/dbcommands.h"
#include "storage/latch.h"
#include "utils/wait_event.h"
}

namespace phantom::pg {

namespace {

using Clock = std::chrono::steady_clock;

std::string FirstLine(const char* text) {
  std::string line = text ? text : "";
  size_t end = line.find('\n');
  if (end != std::string::npos) line.resize(end);
  return line;
}

[[noreturn]] void ThrowTimeout(const std::string& address) {
  throw Error(sqlstate::kSqlclientUnableToEstablishSqlconnection,
              "node " + address + " did not answer within " + std::to_string(node_timeout_ms) + " ms", "",
              "Check that the node is running and reachable, or raise phantomdb.node_timeout_ms.");
}

}  // namespace

PGconn* StartNodeConnection(const std::string& host, int32_t port, const char* user, const char* database,
                            const std::string& options, const char* application_name) {
  const std::string port_text = std::to_string(port);
  // Order matters: libpq lets later keys override earlier ones, and expands
  // only the first "dbname" as a connection string. So node_conninfo rides in
  // that first dbname and may override user and application_name; host, port
  // and the real database name come after it and win (its check hook forbids
  // them anyway). The database name itself is never expanded.
  const char* keywords[] = {"user", "application_name", "dbname", "host", "port", "dbname", "options", nullptr};
  const char* values[] = {user,     application_name, node_conninfo, host.c_str(), port_text.c_str(),
                          database, options.c_str(),  nullptr};
  PGconn* conn = PQconnectStartParams(keywords, values, /*expand_dbname=*/1);
  if (conn == nullptr) throw std::bad_alloc();
  return conn;
}

NodeConnection NodeConnection::Open(const std::string& host, int32_t port, const std::string& options) {
  const std::string address = metadata::NodeAddress(host, port);
  const char* database = PgCall([] { return get_database_name(MyDatabaseId); });
  const char* user = PgCall([] { return GetUserNameFromId(GetUserId(), false); });
  PGconn* conn = StartNodeConnection(host, port, user, database, options, "phantomdb");
  NodeConnection connection(conn, address);

  const auto deadline = Clock::now() + std::chrono::milliseconds(node_timeout_ms);
  if (PQstatus(conn) != CONNECTION_BAD) {
    for (PostgresPollingStatusType poll = PGRES_POLLING_WRITING;;) {
      if (poll == PGRES_POLLING_OK || poll == PGRES_POLLING_FAILED) break;
      int events = poll == PGRES_POLLING_READING ? WL_SOCKET_READABLE : WL_SOCKET_WRITEABLE;
      if (!connection.Wait(events, deadline)) ThrowTimeout(address);
      poll = PQconnectPoll(conn);
    }
  }
  if (PQstatus(conn) != CONNECTION_OK)
    throw Error(sqlstate::kSqlclientUnableToEstablishSqlconnection, "could not connect to node " + address,
                FirstLine(PQerrorMessage(conn)), "Check that the node is running and accepts connections from here.");
  // A node's NOTICEs (e.g. "already exists, skipping" per shard) would go to
  // this server's log through libpq's default processor; the user's own
  // statement reports what matters.
  PQsetNoticeProcessor(
      conn, [](void*, const char*) {}, nullptr);
  if (PQsetnonblocking(conn, 1) != 0)
    throw Error(sqlstate::kConnectionFailure, "could not set up connection to node " + address,
                FirstLine(PQerrorMessage(conn)));
  return connection;
}

NodeConnection::NodeConnection(NodeConnection&& other) noexcept
    : conn_(other.conn_),
      address_(std::move(other.address_)),
      wait_set_(other.wait_set_),
      socket_(other.socket_),
      socket_position_(other.socket_position_),
      socket_events_(other.socket_events_) {
  other.conn_ = nullptr;
  other.wait_set_ = nullptr;
}

NodeConnection::~NodeConnection() {
  // FreeWaitEventSet closes the epoll descriptor and pfrees; it does not raise.
  if (wait_set_ != nullptr) FreeWaitEventSet(wait_set_);
  if (conn_ != nullptr) PQfinish(conn_);
}

bool NodeConnection::Wait(int events, Clock::time_point deadline) {
  // One wait set for the life of the connection: building one per wait
  // (what WaitLatchOrSocket does) costs an epoll_create, three epoll_ctl and
  // a close per round trip, several percent of a point query's CPU. While
  // connecting, libpq may move to another socket (another address of the
  // host); the set follows it.
  if (wait_set_ != nullptr && socket_ != PQsocket(conn_)) {
    FreeWaitEventSet(wait_set_);
    wait_set_ = nullptr;
  }
  if (wait_set_ == nullptr) {
    PgCall([&] {
      WaitEventSet* set = CreateWaitEventSet(TopMemoryContext, 3);
      AddWaitEventToSet(set, WL_LATCH_SET, PGINVALID_SOCKET, MyLatch, nullptr);
      AddWaitEventToSet(set, WL_EXIT_ON_PM_DEATH, PGINVALID_SOCKET, nullptr, nullptr);
      socket_ = PQsocket(conn_);
      socket_position_ = AddWaitEventToSet(set, events, socket_, nullptr, nullptr);
      wait_set_ = set;
    });
    socket_events_ = events;
  } else if (socket_events_ != events) {
    PgCall([&] { ModifyWaitEvent(wait_set_, socket_position_, events, nullptr); });
    socket_events_ = events;
  }
  const bool bounded = deadline != Clock::time_point::max();
  for (;;) {
    CheckForInterrupts();
    long left = -1;
    if (bounded) {
      left = static_cast<long>(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count());
      if (left <= 0) return false;
    }
    WaitEvent event;
    const int count = PgCall([&] { return WaitEventSetWait(wait_set_, left, &event, 1, PG_WAIT_EXTENSION); });
    if (count == 0) continue;  // timeout: the deadline check above decides
    if (event.events & WL_LATCH_SET) {
      ResetLatch(MyLatch);
      continue;
    }
    if (event.events & events) return true;
  }
}

namespace {

// The waits of a running statement have no deadline of their own.
const Clock::time_point kNoDeadline = Clock::time_point::max();

}  // namespace

Error NodeConnection::Failure(const char* what) const {
  return Error(sqlstate::kConnectionFailure, std::string(what) + " node " + address_, FirstLine(PQerrorMessage(conn_)),
               "The node may have gone away; retry once it is back.");
}

void NodeConnection::Flush(Clock::time_point deadline) {
  for (;;) {
    int flushed = PQflush(conn_);
    if (flushed == 0) return;
    if (flushed < 0) throw Failure("could not send to");
    if (!Wait(WL_SOCKET_READABLE | WL_SOCKET_WRITEABLE, deadline)) ThrowTimeout(address_);
    if (!PQconsumeInput(conn_)) throw Failure("lost the connection to");
  }
}

void NodeConnection::Defer(std::vector<std::string> statements) {
  for (std::string& statement : statements) deferred_.push_back(std::move(statement));
}

void NodeConnection::RunDeferred() {
  if (deferred_.empty()) return;
  std::string sql;
  for (const std::string& statement : deferred_) sql += (sql.empty() ? "" : "; ") + statement;
  deferred_.clear();
  SendCommand(sql);
  Await();
}

void NodeConnection::SendQuery(const std::string& sql, const std::vector<const char*>& values, const Oid* types) {
  RunDeferred();
  if (!PQsendQueryParams(conn_, sql.c_str(), static_cast<int>(values.size()), types, values.data(), nullptr, nullptr,
                         0))
    throw Failure("could not send a query to");
  Flush(kNoDeadline);
}

void NodeConnection::SendQueryRowByRow(const std::string& sql, const std::vector<const char*>& values,
                                       const Oid* types) {
  RunDeferred();
  if (!PQsendQueryParams(conn_, sql.c_str(), static_cast<int>(values.size()), types, values.data(), nullptr, nullptr,
                         0))
    throw Failure("could not send a query to");
  // Must come before anything reads from the connection (Flush may).
  PQsetSingleRowMode(conn_);
  Flush(kNoDeadline);
}

void NodeConnection::SendPrepare(const std::string& name, const std::string& sql, int param_count, const Oid* types) {
  RunDeferred();
  if (!PQsendPrepare(conn_, name.c_str(), sql.c_str(), param_count, types)) throw Failure("could not send a query to");
  Flush(kNoDeadline);
}

void NodeConnection::SendPrepared(const std::string& name, const std::vector<const char*>& values) {
  if (deferred_.empty()) {
    if (!PQsendQueryPrepared(conn_, name.c_str(), static_cast<int>(values.size()), values.data(), nullptr, nullptr, 0))
      throw Failure("could not send a query to");
    Flush(kNoDeadline);
    return;
  }
  // One round trip for BEGIN (and savepoints) and the statement.
  std::vector<std::string> prefix;
  prefix.swap(deferred_);
  if (!PQenterPipelineMode(conn_)) throw Failure("could not send a query to");
  in_pipeline_ = true;
  prefix_error_.reset();
  for (const std::string& statement : prefix) {
    if (!PQsendQueryParams(conn_, statement.c_str(), 0, nullptr, nullptr, nullptr, nullptr, 0))
      throw Failure("could not send a query to");
  }
  pipeline_prefix_ = static_cast<int>(prefix.size());
  if (!PQsendQueryPrepared(conn_, name.c_str(), static_cast<int>(values.size()), values.data(), nullptr, nullptr, 0) ||
      !PQpipelineSync(conn_))
    throw Failure("could not send a query to");
  Flush(kNoDeadline);
}

NodeConnection::Result NodeConnection::NextResult(Clock::time_point deadline) {
  const auto next = [&] {
    while (PQisBusy(conn_)) {
      if (!Wait(WL_SOCKET_READABLE, deadline)) ThrowTimeout(address_);
      if (!PQconsumeInput(conn_)) throw Failure("lost the connection to");
    }
    Result result(PQgetResult(conn_));
    if (result == nullptr && PQstatus(conn_) == CONNECTION_BAD) throw Failure("lost the connection to");
    return result;
  };
  if (!in_pipeline_) return next();
  // The deferred statements' results come first, each ended by a null.
  while (pipeline_prefix_ > 0) {
    Result result = next();
    if (result == nullptr) {
      pipeline_prefix_--;
      continue;
    }
    if (!prefix_error_) {
      try {
        ThrowIfError(result.get());
      } catch (const Error& error) {
        prefix_error_ = error;
      }
    }
  }
  Result result = next();
  if (result != nullptr && PQresultStatus(result.get()) != PGRES_PIPELINE_SYNC) {
    // The statement's own result (aborted when a deferred one failed).
    if (!prefix_error_) return result;
    return NextResult(deadline);
  }
  if (result == nullptr) {
    // End of the statement's results: the sync comes next.
    result = next();
  }
  if (result != nullptr && PQresultStatus(result.get()) == PGRES_PIPELINE_SYNC) {
    in_pipeline_ = false;
    if (!PQexitPipelineMode(conn_)) throw Failure("lost the connection to");
    if (prefix_error_) {
      Error error = *prefix_error_;
      prefix_error_.reset();
      throw error;
    }
    return nullptr;
  }
  return result;
}

NodeConnection::Result NodeConnection::NextResult() { return NextResult(kNoDeadline); }

void NodeConnection::ThrowIfError(const PGresult* result) const {
  ExecStatusType status = PQresultStatus(result);
  if (status == PGRES_TUPLES_OK || status == PGRES_COMMAND_OK || status == PGRES_COPY_IN || status == PGRES_COPY_OUT ||
      status == PGRES_SINGLE_TUPLE)
    return;
  const char* sqlstate = PQresultErrorField(result, PG_DIAG_SQLSTATE);
  const char* message = PQresultErrorField(result, PG_DIAG_MESSAGE_PRIMARY);
  const char* detail = PQresultErrorField(result, PG_DIAG_MESSAGE_DETAIL);
  const char* hint = PQresultErrorField(result, PG_DIAG_MESSAGE_HINT);
  throw Error(sqlstate ? sqlstate : sqlstate::kConnectionFailure,
              "node " + address_ + ": " + (message ? message : FirstLine(PQerrorMessage(conn_))), detail ? detail : "",
              hint ? hint : "");
}

void NodeConnection::Drain() {
  std::optional<Error> first_error;
  while (Result result = NextResult()) {
    try {
      ThrowIfError(result.get());
    } catch (const Error& error) {
      if (!first_error) first_error = error;
    }
  }
  if (first_error) throw *first_error;
}

void NodeConnection::PutCopyData(const char* data, size_t size) {
  for (;;) {
    int rc = PQputCopyData(conn_, data, static_cast<int>(size));
    if (rc == 1) break;
    if (rc < 0) throw Failure("could not send COPY data to");
    if (!Wait(WL_SOCKET_WRITEABLE, kNoDeadline)) ThrowTimeout(address_);
  }
  // Keep the socket moving without waiting for the whole buffer to drain.
  if (PQflush(conn_) < 0) throw Failure("could not send COPY data to");
}

void NodeConnection::PutCopyEnd() {
  for (;;) {
    int rc = PQputCopyEnd(conn_, nullptr);
    if (rc == 1) break;
    if (rc < 0) throw Failure("could not end COPY on");
    if (!Wait(WL_SOCKET_WRITEABLE, kNoDeadline)) ThrowTimeout(address_);
  }
  Flush(kNoDeadline);
}

bool NodeConnection::FlushSome() {
  int flushed = PQflush(conn_);
  if (flushed < 0) throw Failure("could not send to");
  return flushed == 0;
}

void NodeConnection::FlushAll() { Flush(kNoDeadline); }

void NodeConnection::SendCopyEnd() {
  for (;;) {
    int rc = PQputCopyEnd(conn_, nullptr);
    if (rc == 1) return;
    if (rc < 0) throw Failure("could not end COPY on");
    if (!Wait(WL_SOCKET_WRITEABLE, kNoDeadline)) ThrowTimeout(address_);
  }
}

bool NodeConnection::ResultReady() {
  if (!PQconsumeInput(conn_)) throw Failure("lost the connection to");
  return !PQisBusy(conn_);
}

NodeConnection::CopyData NodeConnection::GetCopyData(int& size) {
  for (;;) {
    char* buffer = nullptr;
    size = PQgetCopyData(conn_, &buffer, /*async=*/1);
    if (size > 0) return CopyData(buffer);
    if (size == -1) return nullptr;
    if (size < -1) throw Failure("lost the connection to");
    if (!Wait(WL_SOCKET_READABLE, kNoDeadline)) ThrowTimeout(address_);
    if (!PQconsumeInput(conn_)) throw Failure("lost the connection to");
  }
}

void NodeConnection::Cancel() noexcept {
  PGcancel* cancel = PQgetCancel(conn_);
  if (cancel == nullptr) return;
  char error[256];
  PQcancel(cancel, error, sizeof(error));
  PQfreeCancel(cancel);
}

std::vector<RemoteRow> NodeConnection::Query(const std::string& sql,
                                             const std::vector<std::optional<std::string>>& params) {
  if (params.empty()) {
    SendCommand(sql);
    return Await();
  }
  RunDeferred();
  std::vector<const char*> values;
  for (const auto& param : params) values.push_back(param ? param->c_str() : nullptr);
  const auto deadline = Clock::now() + std::chrono::milliseconds(node_timeout_ms);
  if (!PQsendQueryParams(conn_, sql.c_str(), static_cast<int>(values.size()), nullptr, values.data(), nullptr, nullptr,
                         0))
    throw Failure("could not send a query to");
  Flush(deadline);
  return Await(deadline);
}

void NodeConnection::SendCommand(const std::string& sql) {
  RunDeferred();
  if (!PQsendQuery(conn_, sql.c_str())) throw Failure("could not send a query to");
  Flush(Clock::now() + std::chrono::milliseconds(node_timeout_ms));
}

std::vector<RemoteRow> NodeConnection::Await() {
  return Await(Clock::now() + std::chrono::milliseconds(node_timeout_ms));
}

std::vector<RemoteRow> NodeConnection::Await(Clock::time_point deadline) {
  std::vector<RemoteRow> rows;
  std::optional<Error> remote_error;
  while (Result result = NextResult(deadline)) {
    if (PQresultStatus(result.get()) == PGRES_TUPLES_OK) {
      for (int row = 0; row < PQntuples(result.get()); row++) {
        RemoteRow values_of_row;
        for (int column = 0; column < PQnfields(result.get()); column++) {
          if (PQgetisnull(result.get(), row, column))
            values_of_row.emplace_back(std::nullopt);
          else
            values_of_row.emplace_back(
                std::string(PQgetvalue(result.get(), row, column), PQgetlength(result.get(), row, column)));
        }
        rows.push_back(std::move(values_of_row));
      }
    } else if (!remote_error) {
      try {
        ThrowIfError(result.get());
      } catch (const Error& error) {
        remote_error = error;
      }
    }
  }
  if (remote_error) throw *remote_error;
  return rows;
}

}  // namespace phantom::pg
