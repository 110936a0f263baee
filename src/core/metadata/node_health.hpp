// What phantom_cluster_health concludes from what a node reported about
// itself. The glue connects and asks; this judges. Every node holds the
// replicated catalog, so any node can judge any other: there is no
// coordinator to check, only whether each node is the server its catalog
// row names and believes it belongs to this cluster.
#pragma once

#include <optional>
#include <string>

#include "core/metadata/command.hpp"
#include "core/metadata/node_membership.hpp"

namespace phantom::metadata {

// About `node`, as judged on the node `local_node_id` (the node-local fact of
// which catalog row is this server): the problem, or nullopt when the node is
// healthy, i.e. runs this extension version, is this server exactly when its
// row is this node's, and reports the same cluster id.
std::optional<std::string> DiagnoseNode(const ClusterRecord& cluster, const NodeRecord& node,
                                        const CandidateIdentity& reported, const std::string& local_extension_version,
                                        NodeId local_node_id);

}  // namespace phantom::metadata
