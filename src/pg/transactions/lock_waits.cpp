// Lock waits mapped to distributed transactions; see lock_waits.hpp.
#include "pg/transactions/lock_waits.hpp"

#include <map>
#include <memory>
#include <optional>

#include "core/common/error.hpp"
#include "core/metadata/node_membership.hpp"
#include "pg/guard.hpp"
#include "pg/remote/node_connection.hpp"
#include "pg/spi.hpp"
#include "pg/transactions/backend_transactions.hpp"

extern "C" {
#include "storage/proc.h"
#include "storage/procarray.h"
}

namespace phantom::pg::lock_waits {

namespace {

// Every backend waiting for a heavyweight lock, with each backend blocking
// it. A parallel worker's wait is its leader's (the leader's pid is the one
// that holds a distributed transaction); pid 0 stands for a prepared
// transaction, which holds locks but never waits, so it cannot be on a
// cycle. One status snapshot serves the three reads of pg_stat_activity.
constexpr const char* kLocalWaitsSql =
    "SELECT waits.waiter, waits.blocker, "
    "       (EXTRACT(epoch FROM ws.xact_start) * 1000000)::bigint, "
    "       (EXTRACT(epoch FROM bs.xact_start) * 1000000)::bigint "
    "  FROM (SELECT DISTINCT coalesce(a.leader_pid, a.pid) AS waiter, b.blocker "
    "          FROM pg_catalog.pg_stat_activity a, "
    "               LATERAL pg_catalog.unnest(pg_catalog.pg_blocking_pids(a.pid)) AS b(blocker) "
    "         WHERE a.wait_event_type = 'Lock' AND b.blocker <> 0) waits "
    "  LEFT JOIN pg_catalog.pg_stat_activity ws ON ws.pid = waits.waiter "
    "  LEFT JOIN pg_catalog.pg_stat_activity bs ON bs.pid = waits.blocker "
    " WHERE waits.waiter <> waits.blocker";

constexpr const char* kRemoteWaitsSql =
    "SELECT waiting_pid, waiting_node, waiting_number, waiting_local_xact, waiting_start_us, "
    "       blocking_pid, blocking_node, blocking_number, blocking_local_xact, blocking_start_us "
    "  FROM phantomdb.lock_waits()";

// The local transaction number of a backend, or nullopt when it is gone.
std::optional<uint32_t> LocalXactOf(int pid) {
  bool found = false;
  const uint32_t lxid = PgCall([&] {
    PGPROC* proc = BackendPidGetProc(pid);
    found = proc != nullptr;
    return found ? static_cast<uint32_t>(proc->lxid) : 0u;
  });
  if (!found) return std::nullopt;
  return lxid;
}

struct Node {
  metadata::NodeId node_id;
  std::string host;
  int32_t port;
};

std::vector<Node> OtherNodes(metadata::NodeId local) {
  std::vector<Node> nodes;
  spi::WithSpi([&] {
    spi::Execute("SELECT node_id, host, port FROM phantomdb.nodes WHERE node_id <> $1 ORDER BY node_id",
                 {spi::Int32(local)});
    for (uint64_t row = 0; row < spi::RowCount(); row++)
      nodes.push_back({spi::GetInt32(row, 0), spi::GetText(row, 1), spi::GetInt32(row, 2)});
  });
  return nodes;
}

// Autocommit connections of this backend for reading other nodes' waits:
// never the pooled connection, which may carry the caller's remote
// transaction. Kept across calls; reopened when broken or moved.
struct Kept {
  std::string address;
  std::unique_ptr<NodeConnection> connection;
};
std::map<metadata::NodeId, Kept> connections;

NodeConnection& ConnectionTo(const Node& node) {
  const std::string address = metadata::NodeAddress(node.host, node.port);
  Kept& kept = connections[node.node_id];
  if (kept.connection &&
      (kept.address != address || kept.connection->Broken() || kept.connection->TransactionStatus() != PQTRANS_IDLE))
    kept.connection.reset();
  if (!kept.connection) {
    kept.connection = std::make_unique<NodeConnection>(NodeConnection::Open(node.host, node.port));
    kept.address = address;
  }
  return *kept.connection;
}

int64_t NumberOf(const std::optional<std::string>& text, const std::string& address) {
  if (!text) return 0;
  try {
    size_t used = 0;
    const long long value = std::stoll(*text, &used);
    if (used == text->size()) return value;
  } catch (const std::exception&) {
  }
  throw Error(sqlstate::kDataCorrupted, "node " + address + " reported a malformed lock wait: " + *text);
}

Side SideOf(const RemoteRow& row, size_t first, const std::string& address) {
  Side side;
  side.pid = static_cast<int>(NumberOf(row[first], address));
  side.distributed = row[first + 1].has_value();
  side.node = static_cast<uint32_t>(NumberOf(row[first + 1], address));
  side.number = static_cast<uint64_t>(NumberOf(row[first + 2], address));
  side.local_xact = static_cast<uint32_t>(NumberOf(row[first + 3], address));
  side.start_us = NumberOf(row[first + 4], address);
  return side;
}

}  // namespace

std::vector<Wait> Local() {
  struct Pair {
    int waiter, blocker;
    int64_t waiter_start_us, blocker_start_us;
  };
  std::vector<Pair> pairs;
  spi::WithSpi([&] {
    spi::Execute(kLocalWaitsSql);
    for (uint64_t row = 0; row < spi::RowCount(); row++)
      pairs.push_back({spi::GetInt32(row, 0), spi::GetInt32(row, 1), spi::GetInt64(row, 2), spi::GetInt64(row, 3)});
  });
  if (pairs.empty()) return {};

  // Read once: the slots of every backend in a distributed transaction.
  std::map<int, backend_transactions::DistributedId> distributed;
  for (const backend_transactions::Snapshot& slot : backend_transactions::All()) distributed[slot.pid] = slot.id;

  std::vector<Wait> waits;
  auto side_of = [&](int pid, int64_t start_us) -> std::optional<Side> {
    Side side;
    side.pid = pid;
    if (auto found = distributed.find(pid); found != distributed.end()) {
      side.distributed = true;
      side.node = found->second.node;
      side.number = found->second.number;
      side.start_us = found->second.start_us;
      return side;
    }
    const std::optional<uint32_t> lxid = LocalXactOf(pid);
    if (!lxid) return std::nullopt;  // ended meanwhile: so did its wait
    side.local_xact = *lxid;
    side.start_us = start_us;
    return side;
  };
  for (const Pair& pair : pairs) {
    const std::optional<Side> waiting = side_of(pair.waiter, pair.waiter_start_us);
    const std::optional<Side> blocking = side_of(pair.blocker, pair.blocker_start_us);
    if (waiting && blocking) waits.push_back({*waiting, *blocking});
  }
  return waits;
}

std::vector<NodeWaits> Cluster(metadata::NodeId local, std::vector<std::string>* unreachable) {
  std::vector<NodeWaits> result;
  result.push_back({local, Local()});
  for (const Node& node : OtherNodes(local)) {
    const std::string address = metadata::NodeAddress(node.host, node.port);
    try {
      NodeWaits reported{node.node_id, {}};
      for (const RemoteRow& row : ConnectionTo(node).Query(kRemoteWaitsSql)) {
        if (row.size() != 10)
          throw Error(sqlstate::kDataCorrupted, "node " + address + " reported a malformed lock wait");
        reported.waits.push_back({SideOf(row, 0, address), SideOf(row, 5, address)});
      }
      result.push_back(std::move(reported));
    } catch (const Error& error) {
      // A node that does not answer adds nothing this time; a cycle through
      // it is found once it answers again.
      connections.erase(node.node_id);
      if (unreachable != nullptr) unreachable->push_back(address + ": " + error.Message());
    }
  }
  return result;
}

transactions::TransactionId VertexOf(const Side& side, metadata::NodeId reporter) {
  if (side.distributed) return {side.node, side.number};
  return {kLocalBit | static_cast<uint32_t>(reporter),
          (static_cast<uint64_t>(static_cast<uint32_t>(side.pid)) << 32) | side.local_xact};
}

}  // namespace phantom::pg::lock_waits
