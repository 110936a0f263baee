// The Raft surface: phantomdb.raft_deliver (how peers hand this node's raft
// worker their messages), phantom_raft_status(), phantomdb.raft_peers() and
// phantom_raft_transfer_leadership().
#include <chrono>
#include <string>

#include "core/common/error.hpp"
#include "core/metadata/node_membership.hpp"
#include "pg/functions/arguments.hpp"
#include "pg/guard.hpp"
#include "pg/latch_nap.hpp"
#include "pg/metadata/metadata_log.hpp"
#include "pg/metadata/spi_catalog_store.hpp"
#include "pg/raft/raft_records.hpp"
#include "pg/raft/raft_shared.hpp"
#include "pg/settings.hpp"
#include "pg/spi.hpp"

extern "C" {
#include "catalog/pg_type.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"
}

namespace phantom::pg {

namespace {

constexpr int64_t kUnixToPostgresEpochUs = 946684800LL * 1000000LL;

raft_shared::Status RunningStatus() { return raft_shared::RunningWorker(); }

// Called by a peer's raft worker over libpq (EXECUTE is revoked from PUBLIC:
// only superusers, i.e. the cluster's internal connections, may call it).
Datum RaftDeliver(FunctionCallInfo fcinfo) {
  const std::string cluster_id = RequiredText(fcinfo, 0, "cluster_id");
  bytea* batch = PG_GETARG_BYTEA_PP(1);
  const raft_shared::Status status = RunningStatus();
  if (status.node_id == 0 || status.cluster_id != cluster_id)
    throw Error(sqlstate::kObjectNotInPrerequisiteState,
                "this node is not a member of cluster " + cluster_id +
                    (status.node_id == 0 ? std::string(" (it belongs to no cluster)")
                                         : " (it belongs to cluster " + status.cluster_id + ")"));
  const std::string_view bytes(VARDATA_ANY(batch), VARSIZE_ANY_EXHDR(batch));
  if (!raft_shared::Push(MyDatabaseId, raft_shared::RecordKind::kMessages, bytes))
    throw Error("53000", "the raft inbox of this node is full", "", "The sender retries.");
  PG_RETURN_VOID();
}

Datum BuildIdArray(const std::vector<int32_t>& ids) {
  return PgCall([&] {
    Datum* items = static_cast<Datum*>(palloc(sizeof(Datum) * (ids.size() + 1)));
    for (size_t i = 0; i < ids.size(); i++) items[i] = Int32GetDatum(ids[i]);
    return PointerGetDatum(construct_array(items, static_cast<int>(ids.size()), INT4OID, 4, true, TYPALIGN_INT));
  });
}

// The worker's status for this incarnation of the extension.
raft_shared::Status CurrentStatus() {
  raft_shared::Status status;
  spi::WithSpi([&] { status = CurrentRaftWorker(); });
  return status;
}

Datum RaftStatus(FunctionCallInfo fcinfo) {
  const raft_shared::Status status = CurrentStatus();
  std::vector<int32_t> voters, learners;
  for (const raft_shared::PeerStatus& peer : status.peers)
    if (peer.member) (peer.voter ? voters : learners).push_back(peer.node_id);
  TupleDesc desc = nullptr;
  if (get_call_result_type(fcinfo, nullptr, &desc) != TYPEFUNC_COMPOSITE)
    throw Error(sqlstate::kInternalError, "phantom_raft_status must return a row");
  desc = PgCall([&] { return BlessTupleDesc(desc); });
  const bool member = status.node_id != 0;
  Datum values[11] = {};
  bool nulls[11] = {};
  values[0] = Int32GetDatum(status.node_id);
  nulls[0] = !member;
  values[1] = member ? PgCall([&] { return CStringGetTextDatum(status.cluster_id.c_str()); }) : Datum(0);
  nulls[1] = !member;
  values[2] = PgCall([&] { return CStringGetTextDatum(status.role.c_str()); });
  values[3] = Int64GetDatum(status.term);
  values[4] = Int32GetDatum(status.leader);
  nulls[4] = status.leader == 0;
  values[5] = Int64GetDatum(status.commit);
  values[6] = Int64GetDatum(status.applied);
  values[7] = Int64GetDatum(status.first_index);
  values[8] = Int64GetDatum(status.last_index);
  values[9] = BuildIdArray(voters);
  values[10] = BuildIdArray(learners);
  for (int i = 3; i < 11; i++) nulls[i] = nulls[i] || !member;
  HeapTuple tuple = PgCall([&] { return heap_form_tuple(desc, values, nulls); });
  return HeapTupleGetDatum(tuple);
}

// No rows when the worker is not running: phantom_nodes must stay readable.
Datum RaftPeers(FunctionCallInfo fcinfo) {
  const raft_shared::Status status = raft_shared::ReadStatus(MyDatabaseId);
  PgCall([&] { InitMaterializedSRF(fcinfo, 0); });
  auto* result = reinterpret_cast<ReturnSetInfo*>(fcinfo->resultinfo);
  for (const raft_shared::PeerStatus& peer : status.peers) {
    PgCall([&] {
      Datum values[4] = {Int32GetDatum(peer.node_id), BoolGetDatum(peer.voter), Int64GetDatum(peer.match),
                         TimestampTzGetDatum(peer.last_heard_us - kUnixToPostgresEpochUs)};
      bool nulls[4] = {false, false, status.leader != status.node_id, peer.last_heard_us == 0};
      tuplestore_putvalues(result->setResult, result->setDesc, values, nulls);
    });
  }
  return Datum(0);
}

Datum TransferLeadership(FunctionCallInfo fcinfo) {
  const raft_shared::Status status = CurrentStatus();
  if (status.node_id == 0) throw Error(sqlstate::kObjectNotInPrerequisiteState, "this node is not part of a cluster");
  if (status.leader == 0)
    throw Error(sqlstate::kObjectNotInPrerequisiteState, "the metadata Raft group has no leader to transfer from", "",
                "Wait for an election; see phantom_raft_status().");
  int32_t target = 0;
  if (PG_ARGISNULL(0)) {
    // The voter the leader knows to be furthest along, lowest id first.
    int64_t best = -1;
    for (const raft_shared::PeerStatus& peer : status.peers)
      if (peer.voter && peer.node_id != status.leader && peer.match > best) {
        best = peer.match;
        target = peer.node_id;
      }
    if (target == 0)
      throw Error(sqlstate::kObjectNotInPrerequisiteState, "no other voter to transfer leadership to", "",
                  "A group with one voter keeps its leader; raise phantomdb.raft_voters and add nodes.");
  } else {
    const std::string node_ref = RequiredText(fcinfo, 0, "node");
    spi::WithSpi([&] {
      SpiCatalogStore store;
      for (const metadata::NodeRecord& node : store.ListNodes())
        if (node.name == node_ref || metadata::NodeAddress(node.host, node.port) == node_ref ||
            std::to_string(node.node_id) == node_ref)
          target = node.node_id;
    });
    if (target == 0) throw Error(sqlstate::kUndefinedObject, "node \"" + node_ref + "\" does not exist");
    bool voter = false;
    for (const raft_shared::PeerStatus& peer : status.peers) voter = voter || (peer.node_id == target && peer.voter);
    if (!voter)
      throw Error(sqlstate::kObjectNotInPrerequisiteState, "node \"" + node_ref + "\" is not a Raft voter", "",
                  "Only a voter can lead; see phantom_raft_status() for the voters.");
    if (target == status.leader) PG_RETURN_INT32(target);
  }
  if (!raft_shared::Push(MyDatabaseId, raft_shared::RecordKind::kTransfer, EncodeNodeId(target)))
    throw Error("53000", "the raft inbox of this node is full", "", "Try again.");
  // Returns once this node sees the new leader: the caller's next admin call
  // goes to it.
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(node_timeout_ms + 2 * raft_election_timeout_ms);
  while (raft_shared::RunningWorker().leader != target) {
    if (std::chrono::steady_clock::now() >= deadline)
      throw Error("57014", "timed out waiting for node " + std::to_string(target) + " to take over the leadership", "",
                  "A transfer needs the target to catch up with the leader's log; see phantom_raft_status().");
    NapOnLatch(10);
  }
  PG_RETURN_INT32(target);
}

// Proposes an entry that changes nothing and returns its index once this
// node applied it: afterwards this node has every metadata change that
// committed before the call.
Datum MetadataBarrierFn(FunctionCallInfo fcinfo) {
  int64_t index = 0;
  spi::WithSpi([&] {
    if (CurrentRaftWorker().node_id == 0)
      throw Error(sqlstate::kObjectNotInPrerequisiteState, "this node is not part of a cluster");
    index = ProposeCommand(metadata::MetadataBarrier{});
  });
  PG_RETURN_INT64(index);
}

}  // namespace

}  // namespace phantom::pg

PHANTOM_FUNCTION(phantom_metadata_barrier, phantom::pg::MetadataBarrierFn)
PHANTOM_FUNCTION(phantom_raft_deliver, phantom::pg::RaftDeliver)
PHANTOM_FUNCTION(phantom_raft_status, phantom::pg::RaftStatus)
PHANTOM_FUNCTION(phantom_raft_peers, phantom::pg::RaftPeers)
PHANTOM_FUNCTION(phantom_raft_transfer_leadership, phantom::pg::TransferLeadership)
