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
#include "pg/executor/statement_nesting.hpp"
#include "pg/settings.hpp"
#include "pg/transactions/backend_transactions.hpp"

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
  bool wrote = false;                                     // ...and a statement that may write ran in it
  std::vector<SubTransactionId> savepoints;               // the local savepoints mirrored there, outermost first
  std::unordered_map<std::string, std::string> prepared;  // statement text -> name
  std::string settings;                                   // the formatting settings last sent (see SyncSettings)
};

std::map<metadata::NodeId, Session> sessions;
// Extra read-only connections per node for parallel reads (autocommit).
std::map<metadata::NodeId, std::vector<Session>> extra_sessions;
// Connections for streaming reads, and those a stream holds now.
std::map<metadata::NodeId, std::vector<Session>> stream_sessions;
std::set<const NodeConnection*> streaming;
std::vector<SubTransactionId> open_savepoints;  // the local subtransactions open now, outermost first
std::optional<std::string> lost_on;             // a node whose remote transaction (with writes) was lost
uint64_t next_statement_name = 1;

// The remote session resolves names like the deparsed SQL expects (it
// qualifies every name, so search_path is pg_catalog only) and keeps float
// text exact for the trip back.
const char* kSessionOptions = "-c search_path=pg_catalog -c extra_float_digits=3 -c phantomdb.node_session=on";

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
  // Not a setting of this session: the metadata this session routes by,
  // which the node fences its shard commands with (metadata_fence.hpp).
  values += std::to_string(metadata_cache::AppliedIndex()) + '\n';
  return values;
}

void SyncSettings(Session& session) {
  const std::string wanted = CurrentSettings();
  if (session.settings == wanted) return;
  std::vector<std::optional<std::string>> values;
  size_t start = 0;
  for (size_t i = 0; i <= std::size(kFollowedSettings); i++) {
    const size_t end = wanted.find('\n', start);
    values.emplace_back(wanted.substr(start, end - start));
    start = end + 1;
  }
  session.connection->Query(
      "SELECT pg_catalog.set_config('DateStyle', $1, false), pg_catalog.set_config('IntervalStyle', $2, false), "
      "pg_catalog.set_config('TimeZone', $3, false), pg_catalog.set_config('phantomdb.metadata_index', $4, false)",
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

// The participant's backend takes the distributed transaction's id, so
// deadlock detection can follow its lock waits (backend_transactions.hpp).
std::string JoinCommand(metadata::NodeId local) {
  const backend_transactions::DistributedId id = backend_transactions::Coordinate(local);
  return "SELECT phantomdb.join_transaction(" + std::to_string(id.node) + ", " + std::to_string(id.number) + ", " +
         std::to_string(id.start_us) + ")";
}

// Whether the local transaction is more than the statement running now: a
// transaction block, a statement inside a function, trigger, DO or CALL, or
// inside a subtransaction (a PL/pgSQL exception block). Remote work then
// joins one remote transaction per node, committed with the local one.
bool InMultiStatementTransaction() {
  return statement_nesting::Nested() ||
         PgCall([] { return IsTransactionBlock() || GetCurrentTransactionNestLevel() > 1; });
}

std::string SavepointName(SubTransactionId id) { return "phantom_savepoint_" + std::to_string(id); }

// SAVEPOINT commands that bring session up to the local savepoints open now.
std::vector<std::string> MirrorSavepoints(Session& session) {
  std::vector<std::string> commands;
  for (size_t i = session.savepoints.size(); i < open_savepoints.size(); i++) {
    commands.push_back("SAVEPOINT " + SavepointName(open_savepoints[i]));
    session.savepoints.push_back(open_savepoints[i]);
  }
  return commands;
}

// A remote transaction whose BEGIN never left (deferred, and the statement
// that would have carried it was not sent) does not exist: forget it.
bool ForgetUnsent(Session& session) noexcept {
  if (!session.connection || !session.connection->HasDeferred()) return false;
  const std::vector<std::string> dropped = session.connection->DropDeferred();
  if (session.connection->TransactionStatus() == PQTRANS_IDLE) {
    session.in_transaction = false;
    session.wrote = false;
    session.savepoints.clear();
    return true;
  }
  // Only savepoints were waiting (the innermost ones): forget those.
  for (const std::string& statement : dropped)
    if (statement.rfind("SAVEPOINT ", 0) == 0 && !session.savepoints.empty()) session.savepoints.pop_back();
  return false;
}

void ThrowIfLost() {
  if (lost_on)
    throw Error(sqlstate::kConnectionFailure,
                "this transaction lost its connection to node " + *lost_on + " after writing there", "",
                "Roll back the whole transaction and retry it.");
}

void Close(Session& session) noexcept {
  if (session.in_transaction && session.wrote && !lost_on) lost_on = session.address;
  if (session.connection) session.connection->Cancel();
  session.connection.reset();
  session.in_transaction = false;
  session.wrote = false;
  session.savepoints.clear();
  session.prepared.clear();
  session.settings.clear();
}

// Brings a connection that an error left mid-statement to rest: cancels
// what runs and reads what is left. False when that fails (then close it).
bool Settle(NodeConnection& connection) noexcept {
  try {
    if (connection.Broken()) return false;
    if (connection.TransactionStatus() == PQTRANS_ACTIVE) {
      connection.Cancel();
      try {
        connection.Await();
      } catch (const Error&) {
        // The cancellation's own error, or the statement's.
      }
    }
    return connection.TransactionStatus() != PQTRANS_ACTIVE && !connection.Broken();
  } catch (...) {
    return false;
  }
}

// A local ROLLBACK TO (or a failed statement in a savepoint or PL/pgSQL
// block) undoes the same work on every node: the remote transaction rolls
// back to the mirrored savepoint. Never throws (runs inside the local
// subtransaction abort); a node where that fails loses its remote
// transaction, which dooms the local one (ThrowIfLost).
void RollbackToSavepoint(SubTransactionId id) noexcept {
  for (auto& [node_id, session] : sessions) {
    ForgetUnsent(session);
    auto it = std::find(session.savepoints.begin(), session.savepoints.end(), id);
    if (it == session.savepoints.end()) continue;
    session.savepoints.erase(it, session.savepoints.end());
    if (!session.connection || !Settle(*session.connection)) {
      Close(session);
      continue;
    }
    try {
      session.connection->Query("ROLLBACK TO SAVEPOINT " + SavepointName(id));
    } catch (...) {
      Close(session);
    }
  }
}

void SubXactCallback(SubXactEvent event, SubTransactionId id, SubTransactionId, void*) {
  switch (event) {
    case SUBXACT_EVENT_START_SUB:
      open_savepoints.push_back(id);
      break;
    case SUBXACT_EVENT_COMMIT_SUB:
      // The remote savepoint stays: released or not, a rollback to an
      // outer one undoes its work there too.
      if (!open_savepoints.empty()) open_savepoints.pop_back();
      for (auto& [node_id, session] : sessions)
        if (!session.savepoints.empty() && session.savepoints.back() == id) session.savepoints.pop_back();
      break;
    case SUBXACT_EVENT_ABORT_SUB:
      if (!open_savepoints.empty()) open_savepoints.pop_back();
      RollbackToSavepoint(id);
      break;
    case SUBXACT_EVENT_PRE_COMMIT_SUB:
      break;
  }
}

// A node the Raft leader declared failed is not waited for: the query fails
// at once, naming it, instead of after phantomdb.node_timeout_ms.
NodeConnection OpenNode(const CachedNode& node) {
  if (node.state == metadata::NodeState::kFailed)
    throw Error(sqlstate::kConnectionFailure,
                "node \"" + node.name + "\" (" + metadata::NodeAddress(node.host, node.port) + ") has failed", "",
                "The cluster stopped hearing from it; queries of its shards work again once it is back (see "
                "phantom_nodes).");
  return NodeConnection::Open(node.host, node.port, kSessionOptions);
}

}  // namespace

NodeConnection& Acquire(const CachedNode& node, Access access) {
  const bool transactional = access == Access::kWriteInTransaction;
  ThrowIfLost();
  Session& session = sessions[node.node_id];
  if (session.connection && session.connection->Broken()) Close(session);
  if (!session.connection) {
    session.address = metadata::NodeAddress(node.host, node.port);
    session.connection = std::make_unique<NodeConnection>(OpenNode(node));
    session.settings.clear();
  }
  try {
    SyncSettings(session);
  } catch (...) {
    Close(session);
    throw;
  }
  const bool in_block = InMultiStatementTransaction();
  // BEGIN and savepoints wait for the statement that needs them and go with
  // it (NodeConnection::Defer): a remote transaction exists once they ran.
  std::vector<std::string> commands;
  if ((transactional || in_block) && !session.in_transaction) {
    commands.push_back(BeginCommand());
    const metadata::NodeId local = metadata_cache::LocalNodeId();
    if (local != 0) commands.push_back(JoinCommand(local));
    session.in_transaction = true;
    backend_transactions::AddParticipant(node.node_id);
  }
  if (session.in_transaction)
    for (std::string& savepoint : MirrorSavepoints(session)) commands.push_back(std::move(savepoint));
  if (!commands.empty()) session.connection->Defer(std::move(commands));
  if (session.in_transaction && access != Access::kRead) session.wrote = true;
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
    session.connection = std::make_unique<NodeConnection>(OpenNode(node));
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
  return !InMultiStatementTransaction();
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

void DiscardAll() noexcept {
  streaming.clear();
  for (auto& [node_id, session] : sessions) Close(session);
  for (auto* pool : {&extra_sessions, &stream_sessions})
    for (auto& [node_id, extras] : *pool)
      for (Session& session : extras) Close(session);
}

std::string Prepare(const CachedNode& node, NodeConnection& connection, const std::string& sql, int param_count,
                    const Oid* param_types) {
  Session& session = sessions[node.node_id];
  // The same text may come with other parameter lists (a PL/pgSQL block
  // passes all its variables): the key holds their types too.
  std::string key = sql;
  for (int i = 0; i < param_count; i++) key += '\0' + std::to_string(param_types == nullptr ? 0 : param_types[i]);
  auto it = session.prepared.find(key);
  if (it != session.prepared.end()) return it->second;
  std::string name = "phantom_" + std::to_string(next_statement_name++);
  connection.SendPrepare(name, sql, param_count, param_types);
  connection.Drain();
  session.prepared.emplace(std::move(key), name);
  return name;
}

std::vector<RemoteTransaction> OpenTransactions() {
  std::vector<RemoteTransaction> open;
  for (auto& [node_id, session] : sessions) ForgetUnsent(session);
  for (auto& [node_id, session] : sessions)
    if (session.in_transaction && session.connection)
      open.push_back({node_id, session.address, session.connection.get(), session.wrote});
  return open;
}

void EndTransaction(metadata::NodeId node_id) noexcept {
  auto it = sessions.find(node_id);
  if (it == sessions.end()) return;
  it->second.in_transaction = false;
  it->second.wrote = false;
  it->second.savepoints.clear();
}

void ThrowIfTransactionLost() { ThrowIfLost(); }

void RollbackOpenTransactions() noexcept {
  for (auto& [node_id, session] : sessions) {
    ForgetUnsent(session);
    const bool open = session.in_transaction;
    EndTransaction(node_id);
    if (!session.connection) continue;
    if (!open && session.connection->TransactionStatus() == PQTRANS_IDLE) continue;
    try {
      if (!Settle(*session.connection)) {
        Close(session);
        continue;
      }
      if (session.connection->TransactionStatus() != PQTRANS_IDLE) session.connection->Query("ROLLBACK");
    } catch (...) {
      Close(session);
    }
  }
}

void ResetTransactionState() noexcept {
  open_savepoints.clear();
  lost_on.reset();
}

void Register() { RegisterSubXactCallback(SubXactCallback, nullptr); }

}  // namespace phantom::pg::connection_pool
