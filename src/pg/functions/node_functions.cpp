// phantom_add_node and phantom_remove_node: read the catalog, ask the other
// node, let the core decide, and propose the command to the metadata log.
#include "core/common/error.hpp"
#include "core/metadata/cluster_id.hpp"
#include "core/metadata/node_membership.hpp"
#include "pg/functions/arguments.hpp"
#include "pg/guard.hpp"
#include "pg/local_node.hpp"
#include "pg/metadata/metadata_log.hpp"
#include "pg/metadata/spi_catalog_store.hpp"
#include "pg/remote/node_connection.hpp"
#include "pg/remote/node_identity.hpp"
#include "pg/spi.hpp"

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

// Registers this node on the cluster's first use.
ClusterRecord CreateCluster(SpiCatalogStore& store, const LocalNode& self, const AddNodeRequest& request) {
  const AddNodeRequest founder = metadata::FoundingRequest(self.AsRequest(), request);
  ProposeCommand(metadata::DecideCreateCluster(NewClusterId(), founder, spi::NowUnixUs()));
  return *store.GetCluster();
}

Datum AddNode(FunctionCallInfo fcinfo) {
  AddNodeRequest request;
  request.host = RequiredText(fcinfo, 0, "host");
  request.port = RequiredInt32(fcinfo, 1, "port");
  request.name = OptionalText(fcinfo, 2);
  request.region = RequiredText(fcinfo, 3, "region");
  request.role = RequiredText(fcinfo, 4, "role");
  metadata::ValidateAddNodeRequest(request);

  metadata::NodeId node_id = 0;
  spi::WithSpi([&] {
    LockMetadata();
    SpiCatalogStore store;
    std::optional<ClusterRecord> cluster = store.GetCluster();
    metadata::CheckIsCoordinator(cluster);
    const LocalNode self = DescribeLocalNode();
    if (!cluster) cluster = CreateCluster(store, self, request);

    const std::vector<NodeRecord> nodes = store.ListNodes();
    if (auto registered = metadata::FindRegisteredNode(nodes, request)) {
      node_id = *registered;
      return;
    }
    NodeConnection connection = NodeConnection::Open(request.host, request.port);
    const metadata::CandidateIdentity candidate = FetchNodeIdentity(connection, self);
    const metadata::Command command =
        metadata::DecideAddNode(*cluster, nodes, request, candidate, self.extension_version, spi::NowUnixUs());
    ProposeCommand(command);
    node_id = std::get<metadata::AddNode>(command).node.node_id;
    // The node learns which cluster it is in last: if this transaction still
    // fails, a retry finds it already in this cluster and goes through.
    connection.Query("SELECT phantomdb.join_cluster($1, $2, $3)",
                     {metadata::FormatClusterId(cluster->cluster_id), cluster->coordinator_host,
                      std::to_string(cluster->coordinator_port)});
  });
  PG_RETURN_INT32(node_id);
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
           "Until it is told, it refuses to join another cluster: add it back and remove it again once it is "
           "reachable, or drop and re-create the extension there.");
  }
}

Datum RemoveNode(FunctionCallInfo fcinfo) {
  const std::string node_ref = RequiredText(fcinfo, 0, "node");
  spi::WithSpi([&] {
    LockMetadata();
    SpiCatalogStore store;
    std::optional<ClusterRecord> cluster = store.GetCluster();
    metadata::CheckIsCoordinator(cluster);
    const std::vector<NodeRecord> nodes = store.ListNodes();
    const metadata::RemoveNode command =
        metadata::DecideRemoveNode(cluster.value_or(ClusterRecord{}), nodes, store.ListTables(), node_ref);
    ProposeCommand(command);
    for (const NodeRecord& node : nodes)
      if (node.node_id == command.node_id && node.node_id != cluster->local_node_id) ReleaseRemovedNode(*cluster, node);
  });
  PG_RETURN_VOID();
}

}  // namespace

}  // namespace phantom::pg

PHANTOM_FUNCTION(phantom_add_node, phantom::pg::AddNode)
PHANTOM_FUNCTION(phantom_remove_node, phantom::pg::RemoveNode)
