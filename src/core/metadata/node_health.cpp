// Health verdicts; see node_health.hpp.
#include "core/metadata/node_health.hpp"

#include "core/common/pure.hpp"

namespace phantom::metadata {

std::optional<std::string> DiagnoseNode(const ClusterRecord& cluster, const NodeRecord& node,
                                        const CandidateIdentity& reported, const std::string& local_extension_version) {
  const std::string address = NodeAddress(node.host, node.port);
  if (reported.extension_version != local_extension_version)
    return address + " runs phantomdb " +
           (reported.extension_version.empty() ? "(not installed)" : reported.extension_version) + ", this node runs " +
           local_extension_version;
  const bool is_self = node.node_id == cluster.local_node_id;
  if (is_self && !reported.is_local_node)
    return address + " is not this node: phantomdb.advertise_host or the port is wrong";
  if (!is_self && reported.cluster_id != cluster.cluster_id)
    return address + " does not consider itself a member of this cluster";
  return std::nullopt;
}

std::optional<std::string> DiagnoseCoordinator(const ClusterRecord& cluster, const CandidateIdentity& reported) {
  if (reported.cluster_id != cluster.cluster_id || !reported.is_coordinator)
    return NodeAddress(cluster.coordinator_host, cluster.coordinator_port) +
           " no longer administers this node's cluster";
  return std::nullopt;
}

}  // namespace phantom::metadata
