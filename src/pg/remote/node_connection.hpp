// A libpq connection from this backend to another node. Connecting and
// querying are asynchronous underneath: the backend waits on its latch and
// the socket, so a query cancel or a deadline interrupts the wait instead of
// hanging the session on a dead peer.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/common/error.hpp"
#include "pg/postgres.hpp"

extern "C" {
#include "storage/latch.h"
}

extern "C" {
#include "libpq-fe.h"
}

namespace phantom::pg {

using RemoteRow = std::vector<std::optional<std::string>>;

// Starts a non-blocking connection to a node (PQconnectStartParams) with
// phantomdb.node_conninfo applied; the caller drives PQconnectPoll.
PGconn* StartNodeConnection(const std::string& host, int32_t port, const char* user, const char* database,
                            const std::string& options, const char* application_name);

class NodeConnection {
 public:
  // Connects to host:port, to the database of the same name as the current
  // one, as the current user, with phantomdb.node_conninfo applied. Throws
  // phantom::Error 08001 naming the node when it is refused or does not
  // answer within phantomdb.node_timeout_ms.
  // `options` is libpq's options setting (server settings for the session).
  static NodeConnection Open(const std::string& host, int32_t port, const std::string& options = "");

  NodeConnection(NodeConnection&& other) noexcept;
  NodeConnection& operator=(NodeConnection&&) = delete;
  NodeConnection(const NodeConnection&) = delete;
  ~NodeConnection();  // PQfinish: libpq only, never Postgres

  // Runs one statement with text parameters and returns its rows as text.
  // A remote ERROR is rethrown with the remote SQLSTATE, its message
  // prefixed by the node's address. Bounded by phantomdb.node_timeout_ms.
  // Without parameters it goes as a simple query, which may hold several
  // statements separated by semicolons (their rows come back together).
  std::vector<RemoteRow> Query(const std::string& sql, const std::vector<std::optional<std::string>>& params = {});
  // Query in two halves, for sending a command to several nodes before
  // waiting for any: SendCommand sends (simple protocol, no parameters);
  // Await reads every result within phantomdb.node_timeout_ms, even while
  // interrupts are held (the deadline ends the wait, throwing 08006).
  void SendCommand(const std::string& sql);
  std::vector<RemoteRow> Await();

  // The asynchronous pieces Query is made of, for callers that keep several
  // nodes busy at once or stream COPY data. Waits have no deadline (a query
  // may legitimately run long) but are interrupted by cancel and
  // statement_timeout, which throw; the caller then discards the connection.
  // Parameter types may be null (0 = let the node infer each type).
  void SendQuery(const std::string& sql, const std::vector<const char*>& values, const Oid* types = nullptr);
  // SendQuery in libpq's single-row mode: NextResult then gives one row per
  // result (PGRES_SINGLE_TUPLE), and a last PGRES_TUPLES_OK without rows.
  void SendQueryRowByRow(const std::string& sql, const std::vector<const char*>& values, const Oid* types = nullptr);
  void SendPrepare(const std::string& name, const std::string& sql, int param_count, const Oid* types);
  void SendPrepared(const std::string& name, const std::vector<const char*>& values);
  // The next result of the statement sent last (nullptr once all are read).
  // Does not throw for a remote ERROR: see ThrowIfError.
  struct ResultDeleter {
    void operator()(PGresult* result) const { PQclear(result); }
  };
  using Result = std::unique_ptr<PGresult, ResultDeleter>;
  Result NextResult();
  // Reads every remaining result; throws the first remote ERROR among them.
  void Drain();
  // Throws phantom::Error for a result that is neither rows nor command OK,
  // with the remote SQLSTATE, message, detail and hint.
  void ThrowIfError(const PGresult* result) const;
  // COPY FROM STDIN: data already in COPY format, then the end marker.
  void PutCopyData(const char* data, size_t size);
  void PutCopyEnd();
  // Non-blocking pieces for COPY streams that keep several nodes busy from
  // one loop (distributed_copy.cpp). FlushSome sends what the socket takes
  // and says whether everything went; FlushAll waits until it did.
  // SendCopyEnd queues the end marker without waiting for the send.
  // ResultReady reads what arrived and says whether NextResult would return
  // without waiting. All throw 08006 naming the node when it is gone.
  bool FlushSome();
  void FlushAll();
  void SendCopyEnd();
  bool ResultReady();
  pgsocket Socket() const { return PQsocket(conn_); }
  // COPY TO STDOUT: the next CopyData message (waiting for it), or nullptr
  // at the end of the data (then NextResult gives the COPY's result).
  struct CopyDataDeleter {
    void operator()(char* buffer) const { PQfreemem(buffer); }
  };
  using CopyData = std::unique_ptr<char, CopyDataDeleter>;
  CopyData GetCopyData(int& size);
  // Statements (BEGIN, SAVEPOINT) to run before the next one, which saves a
  // round trip: SendPrepared sends them in one libpq pipeline with its own
  // statement, and NextResult reads their results first (throwing their
  // error, if any); every other way of sending runs them first on their own.
  void Defer(std::vector<std::string> statements);
  bool HasDeferred() const noexcept { return !deferred_.empty(); }
  // Forgets deferred statements that were never sent, returning them.
  std::vector<std::string> DropDeferred() noexcept { return std::exchange(deferred_, {}); }
  // Asks the node to cancel what it is running (best effort, never throws).
  void Cancel() noexcept;
  PGTransactionStatusType TransactionStatus() const { return PQtransactionStatus(conn_); }
  bool Broken() const { return PQstatus(conn_) == CONNECTION_BAD; }

  const std::string& Address() const { return address_; }

 private:
  using Clock = std::chrono::steady_clock;
  NodeConnection(PGconn* conn, std::string address) : conn_(conn), address_(std::move(address)) {}
  phantom::Error Failure(const char* what) const;
  void Flush(Clock::time_point deadline);
  Result NextResult(Clock::time_point deadline);
  std::vector<RemoteRow> Await(Clock::time_point deadline);
  // Runs the deferred statements now, as one simple query.
  void RunDeferred();

  // Waits until the socket is ready for events (WL_SOCKET_*) or the deadline
  // passes (false). Interrupts throw.
  bool Wait(int events, Clock::time_point deadline);

  PGconn* conn_;
  std::string address_;
  WaitEventSet* wait_set_ = nullptr;    // created on first wait, freed with the connection
  pgsocket socket_ = PGINVALID_SOCKET;  // the socket wait_set_ watches
  int socket_position_ = -1;
  int socket_events_ = 0;
  std::vector<std::string> deferred_;
  // In pipeline mode: results of deferred statements still to read before
  // the statement's own, and whether the pipeline's sync is still to read.
  int pipeline_prefix_ = 0;
  bool in_pipeline_ = false;
  std::optional<Error> prefix_error_;
};

}  // namespace phantom::pg
