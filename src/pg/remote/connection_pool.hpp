// This backend's connections to the other nodes, and the remote transactions
// that ride on them.
//
// One connection per node, opened on first use and kept for the life of the
// backend, so statements after the first pay no connection setup. Inside a
// transaction block every node the transaction touches gets a remote
// transaction (BEGIN on first use) on that same connection: later statements
// see earlier ones' writes. Local savepoints are mirrored on it, so ROLLBACK
// TO undoes the same work everywhere. How the remote transactions end is
// transactions/distributed_commit.hpp's business.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "pg/metadata/metadata_cache.hpp"
#include "pg/remote/node_connection.hpp"

namespace phantom::pg::connection_pool {

// What a statement does on a node, which decides its remote transaction.
enum class Access : uint8_t {
  kRead,   // in a transaction block it joins the block's remote transaction
  kWrite,  // the same, and the remote transaction then commits with the local one
  // A write that must commit with the local transaction even outside a
  // block: one statement writing on several nodes or copies, DDL.
  kWriteInTransaction,
};

// The connection to node, with a remote transaction open when the local
// transaction is a transaction block or the access asks for one. Throws
// 08001 when the node cannot be reached, and 08006 once a remote transaction
// that wrote was lost (its connection failed): the local transaction can
// then only roll back.
NodeConnection& Acquire(const CachedNode& node, Access access);

// Closes the connection to node, cancelling what runs on it; for a
// connection that an error or interrupt left in the middle of a statement.
void Discard(metadata::NodeId node_id) noexcept;

// How many connections a read may use per node now: phantomdb.
// max_connections_per_node, or 1 inside a transaction block or while a
// remote transaction is open (only its connection sees its writes).
size_t ParallelReadConnections();

// count connections to node for reads (count <= ParallelReadConnections()):
// the one Acquire gives, then extra ones opened on first use and kept for
// the backend's life. Extra connections never hold a remote transaction.
std::vector<NodeConnection*> AcquireForParallelRead(const CachedNode& node, size_t count);

// Closes one connection (the node's own or an extra one), as Discard.
void DiscardConnection(NodeConnection* connection) noexcept;

// Closes every connection of this backend. Only between transactions (none
// may hold a remote transaction): the saga runner uses it so that a step
// never inherits connections opened as another user (connections are
// opened as the user of the moment and kept).
void DiscardAll() noexcept;

// Whether a read may use connections other than the node's own (extra ones
// for parallel reads, streams): outside a transaction block and with no
// remote transaction open.
bool ExtraConnectionsAllowed();

// count connections to node that are nobody else's until released: a
// streaming read keeps its statements running across executor calls, while
// the same backend may run other statements (a function called per row).
// Kept for the backend's life like the others; never in a transaction.
std::vector<NodeConnection*> AcquireForStream(const CachedNode& node, size_t count);
void ReleaseStream(NodeConnection* connection) noexcept;

// Runs fn(connection). If fn throws while a statement may still be running
// on the connection, the connection is discarded; one at rest (the node
// reported an error and the remote transaction waits for a ROLLBACK [TO])
// is kept, so a savepoint can recover from the error.
template <typename Fn>
auto Run(const CachedNode& node, Access access, Fn&& fn) -> decltype(fn(std::declval<NodeConnection&>())) {
  NodeConnection& connection = Acquire(node, access);
  try {
    return fn(connection);
  } catch (...) {
    if (connection.Broken() || connection.TransactionStatus() == PQTRANS_ACTIVE) Discard(node.node_id);
    throw;
  }
}

// A remote transaction of the current local transaction.
struct RemoteTransaction {
  metadata::NodeId node_id;
  std::string address;
  NodeConnection* connection;
  bool wrote;  // a statement that may write ran in it
};
// The remote transactions open now, by node id.
std::vector<RemoteTransaction> OpenTransactions();
// The node's remote transaction has ended (committed, prepared, rolled back).
void EndTransaction(metadata::NodeId node_id) noexcept;
// Rolls back every remote transaction still open; never throws (a node
// that does not answer loses its connection, which ends its transaction).
void RollbackOpenTransactions() noexcept;
// Throws 08006 when a remote transaction with writes was lost.
void ThrowIfTransactionLost();
// Forgets the local transaction's savepoints and losses, at its end.
void ResetTransactionState() noexcept;

// The name of a statement prepared as sql on node's connection, preparing it
// on first use (one extra round trip per connection and statement text).
std::string Prepare(const CachedNode& node, NodeConnection& connection, const std::string& sql, int param_count,
                    const Oid* param_types);

// Registers the subtransaction callback; from _PG_init.
void Register();

}  // namespace phantom::pg::connection_pool
