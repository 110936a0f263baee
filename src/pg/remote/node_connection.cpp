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

// Waits until the socket is ready for `events` or the deadline passes;
// returns false on the deadline. Interrupts (cancel, terminate) throw.
bool WaitForSocket(PGconn* conn, int events, Clock::time_point deadline) {
  for (;;) {
    CheckForInterrupts();
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) return false;
    pgsocket socket = PQsocket(conn);
    int rc = PgCall([&] {
      return WaitLatchOrSocket(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH | events, socket,
                               static_cast<long>(left), PG_WAIT_EXTENSION);
    });
    if (rc & WL_LATCH_SET) {
      ResetLatch(MyLatch);
      continue;
    }
    if (rc & events) return true;
  }
}

}  // namespace

NodeConnection NodeConnection::Open(const std::string& host, int32_t port) {
  const std::string address = metadata::NodeAddress(host, port);
  const std::string port_text = std::to_string(port);
  const char* database = PgCall([] { return get_database_name(MyDatabaseId); });
  const char* user = PgCall([] { return GetUserNameFromId(GetUserId(), false); });

  // Order matters: libpq lets later keys override earlier ones, and expands
  // only the first "dbname" as a connection string. So node_conninfo rides in
  // that first dbname and may override user and application_name; host, port
  // and the real database name come after it and win (its check hook forbids
  // them anyway). The database name itself is never expanded.
  const char* keywords[] = {"user", "application_name", "dbname", "host", "port", "dbname", nullptr};
  const char* values[] = {user, "phantomdb", node_conninfo, host.c_str(), port_text.c_str(), database, nullptr};
  PGconn* conn = PQconnectStartParams(keywords, values, /*expand_dbname=*/1);
  if (conn == nullptr) throw std::bad_alloc();
  NodeConnection connection(conn, address);

  const auto deadline = Clock::now() + std::chrono::milliseconds(node_timeout_ms);
  if (PQstatus(conn) != CONNECTION_BAD) {
    for (PostgresPollingStatusType poll = PGRES_POLLING_WRITING;;) {
      if (poll == PGRES_POLLING_OK || poll == PGRES_POLLING_FAILED) break;
      int events = poll == PGRES_POLLING_READING ? WL_SOCKET_READABLE : WL_SOCKET_WRITEABLE;
      if (!WaitForSocket(conn, events, deadline)) ThrowTimeout(address);
      poll = PQconnectPoll(conn);
    }
  }
  if (PQstatus(conn) != CONNECTION_OK)
    throw Error(sqlstate::kSqlclientUnableToEstablishSqlconnection, "could not connect to node " + address,
                FirstLine(PQerrorMessage(conn)), "Check that the node is running and accepts connections from here.");
  if (PQsetnonblocking(conn, 1) != 0)
    throw Error(sqlstate::kConnectionFailure, "could not set up connection to node " + address,
                FirstLine(PQerrorMessage(conn)));
  return connection;
}

NodeConnection::NodeConnection(NodeConnection&& other) noexcept
    : conn_(other.conn_), address_(std::move(other.address_)) {
  other.conn_ = nullptr;
}

NodeConnection::~NodeConnection() {
  if (conn_ != nullptr) PQfinish(conn_);
}

std::vector<RemoteRow> NodeConnection::Query(const std::string& sql,
                                             const std::vector<std::optional<std::string>>& params) {
  std::vector<const char*> values;
  for (const auto& param : params) values.push_back(param ? param->c_str() : nullptr);
  const auto deadline = Clock::now() + std::chrono::milliseconds(node_timeout_ms);
  auto fail = [&](const char* what) -> Error {
    return Error(sqlstate::kConnectionFailure, std::string(what) + " node " + address_,
                 FirstLine(PQerrorMessage(conn_)));
  };

  if (!PQsendQueryParams(conn_, sql.c_str(), static_cast<int>(values.size()), nullptr, values.data(), nullptr, nullptr,
                         0))
    throw fail("could not send a query to");
  for (;;) {
    int flushed = PQflush(conn_);
    if (flushed == 0) break;
    if (flushed < 0) throw fail("could not send a query to");
    if (!WaitForSocket(conn_, WL_SOCKET_READABLE | WL_SOCKET_WRITEABLE, deadline)) ThrowTimeout(address_);
    if (!PQconsumeInput(conn_)) throw fail("lost the connection to");
  }

  std::vector<RemoteRow> rows;
  std::optional<Error> remote_error;
  for (;;) {
    while (PQisBusy(conn_)) {
      if (!WaitForSocket(conn_, WL_SOCKET_READABLE, deadline)) ThrowTimeout(address_);
      if (!PQconsumeInput(conn_)) throw fail("lost the connection to");
    }
    PGresult* result = PQgetResult(conn_);
    if (result == nullptr) break;
    ExecStatusType status = PQresultStatus(result);
    if (status == PGRES_TUPLES_OK) {
      for (int row = 0; row < PQntuples(result); row++) {
        RemoteRow values_of_row;
        for (int column = 0; column < PQnfields(result); column++) {
          if (PQgetisnull(result, row, column))
            values_of_row.emplace_back(std::nullopt);
          else
            values_of_row.emplace_back(std::string(PQgetvalue(result, row, column), PQgetlength(result, row, column)));
        }
        rows.push_back(std::move(values_of_row));
      }
    } else if (status != PGRES_COMMAND_OK && !remote_error) {
      const char* sqlstate = PQresultErrorField(result, PG_DIAG_SQLSTATE);
      const char* message = PQresultErrorField(result, PG_DIAG_MESSAGE_PRIMARY);
      const char* detail = PQresultErrorField(result, PG_DIAG_MESSAGE_DETAIL);
      const char* hint = PQresultErrorField(result, PG_DIAG_MESSAGE_HINT);
      remote_error.emplace(sqlstate ? sqlstate : sqlstate::kConnectionFailure,
                           "node " + address_ + ": " + (message ? message : FirstLine(PQerrorMessage(conn_))),
                           detail ? detail : "", hint ? hint : "");
    }
    PQclear(result);
  }
  if (remote_error) throw *remote_error;
  return rows;
}

}  // namespace phantom::pg
