// What phantom_cluster_health concludes from what a node reported about
// itself. The glue connects and asks; this judges.
#pragma once

#include <optional>
#include <string>

#include "core/metadata/command.hpp"
#include "core/metadata/node_membership.hpp"

namespace phantom::metadata {

// From the administering node, about one of its nodes: the problem, or
// nullopt when the node is healthy.
std::optional<std::string> DiagnoseNode(const ClusterRecord& cluster, const NodeRecord& node,
                                        const CandidateIdentity& reported, const std::string& local_extension_version);

// From a member, about the node that administers its cluster.
std::optional<std::string> DiagnoseCoordinator(const ClusterRecord& cluster, const CandidateIdentity& reported);

}  // namespace phantom::metadata
