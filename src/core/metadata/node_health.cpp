// Health verdicts; see node_health.hpp.
#include "core/metadata/node_health.hpp"

#include "core/common/pure.hpp"

namespace phantom::metadata {

std::optional<std::string> DiagnoseNode(const ClusterRecord& cluster, const NodeRecord& node,
                                        const CandidateIdentity& reported, const std::string& local_extension_version,
                                        NodeId local_node_id) {
  const std::string address = NodeAddress(node.host, node.port);
  if (reported.extension_version != local_extension_version)
    return address + " runs phantomdb " +
           (reported.extension_version.empty() ? "(not installed)" : reported.extension_version) + ", this node runs " +
           local_extension_version;
  const bool is_self = node.node_id == local_node_id;
  if (is_self && !reported.is_local_node)
    return address + " is not this node: phantomdb.advertise_host or the port is wrong";
  // Another node's address reaching this server would pass the cluster check
  // below while that node is not reached at all.
  if (!is_self && reported.is_local_node) return address + " reaches this node, not node \"" + node.name + "\"";
  if (reported.cluster_id != cluster.cluster_id) return address + " does not consider itself a member of this cluster";
  return std::nullopt;
}

}  // namespace phantom::metadata
