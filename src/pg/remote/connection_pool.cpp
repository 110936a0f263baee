// Per-backend node connections and remote transactions; see connection_pool.hpp.
#include "pg/remote/connection_pool.hpp"

#include <algorithm>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <unordered_map>
#include <vector>

#include "core/common/error.hpp"
#include "core/metadata/node_membership.hpp"
#include "pg/guard.hpp"
#include "pg/settings.hpp"

extern "C" {
#include "access/xact.h"
#include "utils/guc.h"
}

namespace phantom::pg::connection_pool {

namespace {

struct Session {
  std::unique_ptr<NodeConnection> connection;
  std::string address;
  bool in_transaction = false;                            // a remote transaction of the current local one is open
  std::unordered_map<std::string, std::string> prepared;  // statement text -> name
  std::string settings;                                   // the formatting settings last sent (see SyncSettings)
};

std::map<metadata::NodeId, Session> sessions;
// Extra read-only connections per node for parallel reads (autocommit).
std::map<metadata::NodeId, std::vector<Session>> extra_sessions;
// Connections for streaming reads, and those a stream holds now.
std::map<metadata::NodeId, std::vector<Session>> stream_sessions;
std::set<const NodeConnection*> streaming;
uint64_t remote_writes = 0;              // writes sent inside remote transactions, this transaction
std::vector<uint64_t> savepoint_marks;   // remote_writes at each open subtransaction's start
std::optional<std::string> poisoned_by;  // the node whose work a ROLLBACK TO could not undo
uint64_t next_statement_name = 1;

// The remote session resolves names like the deparsed SQL expects (it
// qualifies every name, so search_path is pg_catalog only) and keeps float
// text exact for the trip back.
const char* kSessionOptions = "-c search_path=pg_catalog -c extra_float_digits=3";

// Settings that change what an expression computes or how a value is
// written as text (now()::date, t::text, a timestamptz read back). They
// follow this session: sent when they differ from what the connection has.
constexpr const char* kFollowedSettings[] = {"DateStyle", "IntervalStyle", "TimeZone"};

std::string CurrentSettings() {
  std::string values;
  for (const char* name : kFollowedSettings) {
    values += PgCall([&] { return GetConfigOption(name, false, false); });
    values += '\n';
  }
  return values;
}

void SyncSettings(Session& session) {
  const std::string wanted = CurrentSettings();
  if (session.settings == wanted) return;
  std::vector<std::optional<std::string>> values;
  size_t start = 0;
  for (size_t i = 0; i < std::size(kFollowedSettings); i++) {
    const size_t end = wanted.find('\n', start);
    values.emplace_back(wanted.substr(start, end - start));
    start = end + 1;
  }
  session.connection->Query(
      "SELECT pg_catalog.set_config('DateStyle', $1, false), pg_catalog.set_config('IntervalStyle', $2, false), "
      "pg_catalog.set_config('TimeZone', $3, false)",
      values);
  session.settings = wanted;
}

std::string BeginCommand() {
  std::string begin = "BEGIN ISOLATION LEVEL ";
  switch (XactIsoLevel) {
    case XACT_SERIALIZABLE:
      begin += "SERIALIZABLE";
      break;
    case XACT_REPEATABLE_READ:
      begin += "REPEATABLE READ";
      break;
    default:
      begin += "READ COMMITTED";
  }
  if (XactReadOnly) begin += " READ ONLY";
  return begin;
}

void ThrowIfPoisoned() {
  if (poisoned_by)
    throw Error("25P02",
                "this transaction rolled back to a savepoint after writing on node " + *poisoned_by +
                    ", where that work cannot be undone separately",
                "", "Roll back the whole transaction.");
}

void Close(Session& session) noexcept {
  if (session.connection) session.connection->Cancel();
  session.connection.reset();
  session.in_transaction = false;
  session.prepared.clear();
  session.settings.clear();
}

void CommitRemote() {
  ThrowIfPoisoned();
  for (auto& [node_id, session] : sessions) {
    if (!session.in_transaction) continue;
    session.in_transaction = false;
    try {
      session.connection->Query("COMMIT");
    } catch (...) {
      Close(session);
      throw;
    }
  }
}

// Never throws: runs inside the local abort, where interrupts are held, so
// the waits below end only by answer or phantomdb.node_timeout_ms.
void RollbackRemote() noexcept {
  for (auto& [node_id, session] : sessions) {
    session.in_transaction = false;
    if (!session.connection) continue;
    try {
      switch (session.connection->TransactionStatus()) {
        case PQTRANS_IDLE:
          break;
        case PQTRANS_INTRANS:
        case PQTRANS_INERROR:
          session.connection->Query("ROLLBACK");
          break;
        default:
          Close(session);  // still running a statement, or broken: dropping the connection ends it
      }
    } catch (...) {
      Close(session);
    }
  }
}

void ResetTransactionState() {
  remote_writes = 0;
  savepoint_marks.clear();
  poisoned_by.reset();
}

void XactCallback(XactEvent event, void*) {
  switch (event) {
    case XACT_EVENT_PRE_COMMIT:
    case XACT_EVENT_PARALLEL_PRE_COMMIT:
      GuardHook([] { CommitRemote(); });
      break;
    case XACT_EVENT_PRE_PREPARE:
      GuardHook([] {
        for (auto& [node_id, session] : sessions) {
          if (session.in_transaction)
            throw Error(sqlstate::kFeatureNotSupported,
                        "cannot PREPARE a transaction that has done work on node " + session.address);
        }
      });
      break;
    case XACT_EVENT_ABORT:
    case XACT_EVENT_PARALLEL_ABORT:
      RollbackRemote();
      ResetTransactionState();
      break;
    case XACT_EVENT_COMMIT:
    case XACT_EVENT_PARALLEL_COMMIT:
    case XACT_EVENT_PREPARE:
      ResetTransactionState();
      break;
  }
}

void SubXactCallback(SubXactEvent event, SubTransactionId, SubTransactionId, void*) {
  switch (event) {
    case SUBXACT_EVENT_START_SUB:
      savepoint_marks.push_back(remote_writes);
      break;
    case SUBXACT_EVENT_COMMIT_SUB:
      if (!savepoint_marks.empty()) savepoint_marks.pop_back();
      break;
    case SUBXACT_EVENT_ABORT_SUB:
      if (!savepoint_marks.empty()) {
        if (savepoint_marks.back() != remote_writes && !poisoned_by) {
          for (auto& [node_id, session] : sessions) {
            if (session.in_transaction) {
              poisoned_by = session.address;
              break;
            }
          }
        }
        savepoint_marks.pop_back();
      }
      break;
    case SUBXACT_EVENT_PRE_COMMIT_SUB:
      break;
  }
}

}  // namespace

NodeConnection& Acquire(const CachedNode& node, Access access) {
  const bool transactional = access == Access::kWriteInTransaction;
  ThrowIfPoisoned();
  Session& session = sessions[node.node_id];
  if (session.connection && session.connection->Broken()) Close(session);
  if (!session.connection) {
    session.address = metadata::NodeAddress(node.host, node.port);
    session.connection = std::make_unique<NodeConnection>(NodeConnection::Open(node.host, node.port, kSessionOptions));
    session.settings.clear();
  }
  try {
    SyncSettings(session);
  } catch (...) {
    Close(session);
    throw;
  }
  const bool in_block = PgCall([] { return IsTransactionBlock(); });
  if ((transactional || in_block) && !session.in_transaction) {
    try {
      session.connection->Query(BeginCommand());
    } catch (...) {
      Close(session);
      throw;
    }
    session.in_transaction = true;
  }
  // Reads need no undoing: only writes make a ROLLBACK TO fatal.
  if (session.in_transaction && access != Access::kRead) remote_writes++;
  return *session.connection;
}

void Discard(metadata::NodeId node_id) noexcept {
  auto it = sessions.find(node_id);
  if (it != sessions.end()) Close(it->second);
}

size_t ParallelReadConnections() {
  return ExtraConnectionsAllowed() ? static_cast<size_t>(std::max(1, max_connections_per_node)) : 1;
}

// The connection of session (opened when it has none), its settings in
// step with this session.
NodeConnection* Ready(Session& session, const CachedNode& node) {
  if (session.connection && session.connection->Broken()) Close(session);
  if (!session.connection) {
    session.address = metadata::NodeAddress(node.host, node.port);
    session.connection = std::make_unique<NodeConnection>(NodeConnection::Open(node.host, node.port, kSessionOptions));
  }
  try {
    SyncSettings(session);
  } catch (...) {
    Close(session);
    throw;
  }
  return session.connection.get();
}

std::vector<NodeConnection*> AcquireForParallelRead(const CachedNode& node, size_t count) {
  std::vector<NodeConnection*> connections;
  connections.push_back(&Acquire(node, Access::kRead));
  std::vector<Session>& extras = extra_sessions[node.node_id];
  for (size_t i = 0; connections.size() < count; i++) {
    if (i == extras.size()) extras.emplace_back();
    connections.push_back(Ready(extras[i], node));
  }
  return connections;
}

bool ExtraConnectionsAllowed() {
  // A remote transaction (a block's, or one a multi-node write opened in
  // this statement) holds writes only its own connection sees.
  for (const auto& [node_id, session] : sessions)
    if (session.in_transaction) return false;
  return !PgCall([] { return IsTransactionBlock(); });
}

std::vector<NodeConnection*> AcquireForStream(const CachedNode& node, size_t count) {
  std::vector<NodeConnection*> connections;
  std::vector<Session>& pool = stream_sessions[node.node_id];
  for (size_t i = 0; connections.size() < count; i++) {
    if (i == pool.size()) pool.emplace_back();
    if (pool[i].connection && streaming.count(pool[i].connection.get()) > 0) continue;
    connections.push_back(Ready(pool[i], node));
  }
  for (NodeConnection* connection : connections) streaming.insert(connection);
  return connections;
}

void ReleaseStream(NodeConnection* connection) noexcept { streaming.erase(connection); }

void DiscardConnection(NodeConnection* connection) noexcept {
  streaming.erase(connection);
  for (auto& [node_id, session] : sessions)
    if (session.connection.get() == connection) Close(session);
  for (auto* pool : {&extra_sessions, &stream_sessions})
    for (auto& [node_id, extras] : *pool)
      for (Session& session : extras)
        if (session.connection.get() == connection) Close(session);
}

std::string Prepare(const CachedNode& node, NodeConnection& connection, const std::string& sql, int param_count,
                    const Oid* param_types) {
  Session& session = sessions[node.node_id];
  auto it = session.prepared.find(sql);
  if (it != session.prepared.end()) return it->second;
  std::string name = "phantom_" + std::to_string(next_statement_name++);
  connection.SendPrepare(name, sql, param_count, param_types);
  connection.Drain();
  session.prepared.emplace(sql, name);
  return name;
}

void Register() {
  RegisterXactCallback(XactCallback, nullptr);
  RegisterSubXactCallback(SubXactCallback, nullptr);
}

}  // namespace phantom::pg::connection_pool
