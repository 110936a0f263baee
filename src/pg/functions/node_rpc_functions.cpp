// Internal functions one node calls on another (EXECUTE is revoked from
// PUBLIC): the node being added learns its identity and starts its Raft
// member, the node being removed forgets its cluster. Both hand the request
// to this node's raft worker, which owns the node's identity, and wait for it.
#include <chrono>
#include <sstream>

#include "core/common/error.hpp"
#include "core/metadata/cluster_id.hpp"
#include "pg/functions/arguments.hpp"
#include "pg/guard.hpp"
#include "pg/latch_nap.hpp"
#include "pg/metadata/metadata_log.hpp"
#include "pg/raft/raft_records.hpp"
#include "pg/spi.hpp"
#include "pg/raft/raft_shared.hpp"
#include "pg/settings.hpp"

extern "C" {
#include "miscadmin.h"
}

namespace phantom::pg {

namespace {

raft_shared::Status RunningStatus() { return raft_shared::RunningWorker(); }

// Waits until the raft worker's status satisfies done, or throws.
template <typename Done>
void WaitFor(Done done, const char* what) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(node_timeout_ms);
  while (!done(RunningStatus())) {
    if (std::chrono::steady_clock::now() >= deadline)
      throw Error("57014", std::string("timed out waiting for this node's raft worker to ") + what);
    NapOnLatch(10);
  }
}

Datum JoinCluster(FunctionCallInfo fcinfo) {
  JoinRecord join;
  join.cluster_id = metadata::FormatClusterId(metadata::ParseClusterId(RequiredText(fcinfo, 0, "cluster_id")));
  join.node_id = RequiredInt32(fcinfo, 1, "node_id");
  std::istringstream peers(RequiredText(fcinfo, 2, "peers"));
  for (JoinRecord::Peer peer; peers >> peer.node_id >> peer.host >> peer.port;) join.peers.push_back(peer);
  raft_shared::Status status;
  spi::WithSpi([&] { status = CurrentRaftWorker(); });
  if (status.node_id != 0 && status.cluster_id == join.cluster_id && status.node_id != join.node_id) {
    // Removed from this cluster without being told, and added again under
    // a new id: forget the old membership first.
    if (!raft_shared::Push(MyDatabaseId, raft_shared::RecordKind::kLeave, status.cluster_id))
      throw Error("53000", "the raft inbox of this node is full", "", "Try again.");
    WaitFor([&](const raft_shared::Status& now) { return now.node_id == 0; }, "leave its old membership");
    status = RunningStatus();
  }
  if (status.node_id != 0) {
    if (status.cluster_id == join.cluster_id && status.node_id == join.node_id) PG_RETURN_VOID();  // a retried add
    throw Error(
        sqlstate::kObjectNotInPrerequisiteState,
        "this node already belongs to cluster " + status.cluster_id + " as node " + std::to_string(status.node_id), "",
        "Remove it from that cluster first, or drop and re-create the extension here.");
  }
  if (!raft_shared::Push(MyDatabaseId, raft_shared::RecordKind::kJoin, EncodeJoinRecord(join)))
    throw Error("53000", "the raft inbox of this node is full", "", "Try again.");
  WaitFor([&](const raft_shared::Status& now) { return now.node_id == join.node_id; }, "join the cluster");
  PG_RETURN_VOID();
}

Datum LeaveCluster(FunctionCallInfo fcinfo) {
  const std::string cluster_id =
      metadata::FormatClusterId(metadata::ParseClusterId(RequiredText(fcinfo, 0, "cluster_id")));
  raft_shared::Status status;
  spi::WithSpi([&] { status = CurrentRaftWorker(); });
  if (status.cluster_id != cluster_id) PG_RETURN_VOID();  // already left
  if (!raft_shared::Push(MyDatabaseId, raft_shared::RecordKind::kLeave, cluster_id))
    throw Error("53000", "the raft inbox of this node is full", "", "Try again.");
  WaitFor([&](const raft_shared::Status& now) { return now.cluster_id != cluster_id; }, "leave the cluster");
  PG_RETURN_VOID();
}

}  // namespace

}  // namespace phantom::pg

PHANTOM_FUNCTION(phantom_join_cluster, phantom::pg::JoinCluster)
PHANTOM_FUNCTION(phantom_leave_cluster, phantom::pg::LeaveCluster)
