// phantom_add_node and phantom_remove_node, callable on any node: read the
// catalog, ask the other node, let the core decide, and propose the command
// to the metadata Raft group. The first call on a node in no cluster founds
// one, with this node as its first member.
#include <chrono>

#include "core/common/error.hpp"
#include "core/metadata/cluster_id.hpp"
#include "core/metadata/node_membership.hpp"
#include "pg/functions/arguments.hpp"
#include "pg/guard.hpp"
#include "pg/latch_nap.hpp"
#include "pg/local_node.hpp"
#include "pg/metadata/metadata_cache.hpp"
#include "pg/metadata/metadata_log.hpp"
#include "pg/metadata/spi_catalog_store.hpp"
#include "pg/raft/raft_records.hpp"
#include "pg/raft/raft_shared.hpp"
#include "pg/remote/node_connection.hpp"
#include "pg/remote/node_identity.hpp"
#include "pg/settings.hpp"
#include "pg/sharding/shard_ddl.hpp"
#include "pg/spi.hpp"

extern "C" {
#include "access/xact.h"
#include "miscadmin.h"
}

namespace phantom::pg {

namespace {

using metadata::AddNodeRequest;
using metadata::ClusterRecord;
using metadata::NodeRecord;

metadata::ClusterId NewClusterId() {
  metadata::ClusterId random{};
  if (!pg_strong_random(random.data(), random.size()))
    throw Error(sqlstate::kInternalError, "could not generate a random cluster id");
  return metadata::MakeClusterId(random);
}

// The id a cluster founded here gets: a founding that stopped after the raft
// worker took the identity (before the CreateCluster entry applied) resumes
// with that identity.
metadata::ClusterId FoundingClusterId() {
  const raft_shared::Status status = raft_shared::RunningWorker();
  return status.node_id == 1 && !status.cluster_id.empty() ? metadata::ParseClusterId(status.cluster_id)
                                                           : NewClusterId();
}

// Founds the cluster with this node as node 1, on the cluster's first use.
ClusterRecord CreateCluster(SpiCatalogStore& store, const metadata::Command& create) {
  FoundCluster(metadata::FormatClusterId(std::get<metadata::CreateCluster>(create).cluster_id));
  ProposeCommand(create);
  return *store.GetCluster();
}

std::string PeerList(const std::vector<NodeRecord>& nodes) {
  std::string peers;
  for (const NodeRecord& node : nodes)
    peers += std::to_string(node.node_id) + " " + node.host + " " + std::to_string(node.port) + "\n";
  return peers;
}

// Waits (bounded) until the new node caught up with the metadata and the
// leader marked it active, so that tables created next place shards on it.
void WaitUntilActive(const NodeRecord& node) {
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(node_timeout_ms + 3 * raft_election_timeout_ms);
  while (std::chrono::steady_clock::now() < deadline) {
    spi::Execute("SELECT state FROM phantomdb.nodes WHERE node_id = $1", {spi::Int32(node.node_id)});
    if (spi::RowCount() > 0 && spi::GetText(0, 0) == "active") return;
    NapOnLatch(10);
  }
  const std::string message = "node \"" + node.name + "\" was added but is not active yet";
  Report(WARNING, message.c_str(), "It has not caught up with the cluster's metadata.",
         "It takes shards of new tables once phantom_nodes shows it active; check that its raft worker runs.");
}

// Every node holds the shells of the distributed and reference tables (so
// that it can plan queries on them): a new node gets those it lacks, each
// in a transaction of its own, so a retried add completes the set.
void CreateMissingShells(NodeConnection& connection) {
  for (const auto& table : metadata_cache::AllTables()) {
    const auto present = connection.Query(
        "SELECT 1 FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = $1 AND c.relname = $2",
        {table->record.schema_name, table->record.table_name});
    if (!present.empty()) continue;
    connection.Query("BEGIN");
    for (const std::string& statement : ShellTableDdl(table->relid)) connection.Query(statement);
    connection.Query("COMMIT");
  }
}

// Adds the node (founding the cluster on first use) and returns its id;
// with wait_until_active, returns once it caught up and is active.
metadata::NodeId AddNodeTo(const AddNodeRequest& request, bool wait_until_active) {
  metadata::ValidateAddNodeRequest(request);
  metadata::NodeId node_id = 0;
  spi::WithSpi([&] {
    LockMetadata();
    SpiCatalogStore store;
    std::optional<ClusterRecord> cluster = store.GetCluster();
    const LocalNode self = DescribeLocalNode();
    std::vector<NodeRecord> nodes = store.ListNodes();
    if (auto registered = metadata::FindRegisteredNode(nodes, request)) {
      node_id = *registered;
      return;
    }
    NodeConnection connection = NodeConnection::Open(request.host, request.port);
    const metadata::CandidateIdentity candidate = FetchNodeIdentity(connection, self);
    // On first use the candidate is judged against the cluster about to be
    // founded, so that a refused add founds nothing.
    std::optional<metadata::Command> create;
    if (!cluster) {
      create = metadata::DecideCreateCluster(FoundingClusterId(), metadata::FoundingRequest(self.AsRequest(), request),
                                             spi::NowUnixUs());
      const metadata::CreateCluster& founding = std::get<metadata::CreateCluster>(*create);
      if (!candidate.is_local_node) {
        ClusterRecord provisional;
        provisional.cluster_id = founding.cluster_id;
        provisional.next_node_id = founding.self.node_id + 1;
        metadata::DecideAddNode(provisional, {founding.self}, request, candidate, self.extension_version,
                                spi::NowUnixUs());
      }
      cluster = CreateCluster(store, *create);
      nodes = store.ListNodes();
      // Adding this node itself founds the cluster and is done.
      if (auto registered = metadata::FindRegisteredNode(nodes, request)) {
        node_id = *registered;
        return;
      }
    }
    // Checked before the shells go there; DecideAddNode says why it refuses.
    const metadata::Command command =
        metadata::DecideAddNode(*cluster, nodes, request, candidate, self.extension_version, spi::NowUnixUs());
    CreateMissingShells(connection);
    ProposeCommand(command);
    const NodeRecord added = std::get<metadata::AddNode>(command).node;
    node_id = added.node_id;
    // Told last: if this fails, the node is registered but idle, and adding
    // it again (or its own seeds) tells it.
    connection.Query(
        "SELECT phantomdb.join_cluster($1, $2, $3)",
        {metadata::FormatClusterId(cluster->cluster_id), std::to_string(node_id), PeerList(store.ListNodes())});
    if (wait_until_active) WaitUntilActive(added);
  });
  return node_id;
}

// Membership changes commit through Raft at once; a transaction block
// could not roll them back, so it may not hold them.
void RefuseTransactionBlock(const char* function) {
  PgCall([&] { PreventInTransactionBlock(true, function); });
}

Datum AddNode(FunctionCallInfo fcinfo) {
  RefuseTransactionBlock("phantom_add_node()");
  AddNodeRequest request;
  request.host = RequiredText(fcinfo, 0, "host");
  request.port = RequiredInt32(fcinfo, 1, "port");
  request.name = OptionalText(fcinfo, 2);
  request.region = RequiredText(fcinfo, 3, "region");
  request.role = RequiredText(fcinfo, 4, "role");
  PG_RETURN_INT32(AddNodeTo(request, true));
}

// Called by a node that found this one through its seeds: the same as
// phantom_add_node, except that it does not wait for the new node, whose
// raft worker is the caller and only starts once this returns.
Datum RequestJoin(FunctionCallInfo fcinfo) {
  AddNodeRequest request;
  request.host = RequiredText(fcinfo, 0, "host");
  request.port = RequiredInt32(fcinfo, 1, "port");
  request.name = OptionalText(fcinfo, 2);
  request.region = RequiredText(fcinfo, 3, "region");
  request.role = "primary";
  PG_RETURN_INT32(AddNodeTo(request, false));
}

// Tells a removed node it is free; a node that cannot be told (it may be the
// reason it is being removed) is removed all the same, with a warning.
void ReleaseRemovedNode(const ClusterRecord& cluster, const NodeRecord& node) {
  try {
    NodeConnection connection = NodeConnection::Open(node.host, node.port);
    connection.Query("SELECT phantomdb.leave_cluster($1)", {metadata::FormatClusterId(cluster.cluster_id)});
  } catch (const Error& error) {
    std::string message = "node \"" + node.name + "\" was removed, but could not be told so";
    std::string detail = error.Message() + (error.Detail().empty() ? "" : ": " + error.Detail());
    Report(WARNING, message.c_str(), detail.c_str(),
           "Until it is told, it keeps its copy of the metadata and refuses to join another cluster: drop and "
           "re-create the extension there.");
  }
}

// Waits (bounded) until the node left the Raft group: a voter must be out
// of the group before it goes, or the group could lose its majority.
void WaitUntilOutOfGroup(const NodeRecord& node) {
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(node_timeout_ms + 3 * raft_election_timeout_ms);
  for (;;) {
    bool member = false;
    for (const raft_shared::PeerStatus& peer : raft_shared::RunningWorker().peers)
      member = member || (peer.node_id == node.node_id && peer.member);
    if (!member) return;
    if (std::chrono::steady_clock::now() >= deadline) {
      const std::string message = "node \"" + node.name + "\" was removed but is still in the metadata Raft group";
      Report(WARNING, message.c_str(), nullptr, "The leader takes it out once a majority of voters is reachable.");
      return;
    }
    NapOnLatch(10);
  }
}

Datum RemoveNode(FunctionCallInfo fcinfo) {
  RefuseTransactionBlock("phantom_remove_node()");
  const std::string node_ref = RequiredText(fcinfo, 0, "node");
  spi::WithSpi([&] {
    LockMetadata();
    SpiCatalogStore store;
    std::optional<ClusterRecord> cluster = store.GetCluster();
    if (!cluster)
      throw Error(sqlstate::kObjectNotInPrerequisiteState, "this node is not part of a cluster", "",
                  "Add nodes with phantom_add_node(host, port) first.");
    const std::vector<NodeRecord> nodes = store.ListNodes();
    const metadata::RemoveNode command = metadata::DecideRemoveNode(*cluster, nodes, store.ListTables(), node_ref);
    const metadata::NodeId local = metadata_cache::LocalNodeId();
    // The node running this call would leave the cluster under its own
    // feet, before it could see the group let it go.
    if (command.node_id == local)
      throw Error(sqlstate::kObjectNotInPrerequisiteState,
                  "cannot remove node \"" + node_ref + "\": it is the node running phantom_remove_node", "",
                  "Remove it from another node of the cluster.");
    ProposeCommand(command);
    for (const NodeRecord& node : nodes) {
      if (node.node_id != command.node_id) continue;
      WaitUntilOutOfGroup(node);
      ReleaseRemovedNode(*cluster, node);
    }
  });
  PG_RETURN_VOID();
}

}  // namespace

}  // namespace phantom::pg

PHANTOM_FUNCTION(phantom_add_node, phantom::pg::AddNode)
PHANTOM_FUNCTION(phantom_request_join, phantom::pg::RequestJoin)
PHANTOM_FUNCTION(phantom_remove_node, phantom::pg::RemoveNode)
