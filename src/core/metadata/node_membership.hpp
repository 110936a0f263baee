// Decisions behind phantom_add_node / phantom_remove_node and the join/leave
// calls one node makes on another: given what the catalog holds and what the
// glue learned over libpq, decide which command to propose, or throw
// phantom::Error with the message, detail and hint the user sees. The glue
// does the I/O; this decides.
//
// Until Raft replicates the metadata (docs/architecture.md), the node where
// the cluster was first used is its coordinator: it holds the metadata log
// and administers membership. Added nodes record only which cluster they
// joined and where it is administered.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/metadata/command.hpp"

namespace phantom::metadata {

inline constexpr int kMaxRaftVoters = 5;
inline constexpr size_t kMaxNameBytes = 63;  // like a Postgres identifier

// What phantom_add_node was asked for, as the user typed it.
struct AddNodeRequest {
  std::string host;
  int32_t port = 0;
  std::optional<std::string> name;  // nullopt: "host:port"
  std::string region;
  std::string role;  // "primary" or "replica"
};

// Throws 22023 for an empty or over-long host, a port outside 1..65535, an
// empty or over-long name or region, an unknown role. Runs before any I/O.
void ValidateAddNodeRequest(const AddNodeRequest& request);

// "host:port", the form used in messages and accepted by phantom_remove_node.
std::string NodeAddress(const std::string& host, int32_t port);

// Throws 55000 (with a hint naming the coordinator) when this node is a
// member of a cluster administered elsewhere.
void CheckIsCoordinator(const std::optional<ClusterRecord>& cluster);

// What this node registers itself as when `request` is the call that first
// uses the cluster: the request itself when it names this node's address
// (so its name, region and role are kept), else `self` from the settings.
AddNodeRequest FoundingRequest(const AddNodeRequest& self, const AddNodeRequest& request);

// The CreateCluster command that registers this node when the cluster is
// first used: self gets node id 1 and is a Raft voter.
Command DecideCreateCluster(const ClusterId& new_cluster_id, const AddNodeRequest& self, int64_t now_us);

// The id of the node already registered at request.host:port, if any: adding
// it again is a no-op that returns that id. Throws 42710 if request.name is
// given and the node is registered under another name.
std::optional<NodeId> FindRegisteredNode(const std::vector<NodeRecord>& nodes, const AddNodeRequest& request);

// What the candidate node reported about itself over libpq.
struct CandidateIdentity {
  std::string extension_version;        // "" when the extension is not installed
  std::optional<ClusterId> cluster_id;  // the cluster it belongs to, if any
  bool is_coordinator = false;          // it administers that cluster itself
  bool coordinates_others = false;      // ... and the cluster has nodes besides it
  std::string cluster_coordinator;      // "host:port" administering its cluster
  bool is_local_node = false;           // it is the node running phantom_add_node
};

// The AddNode command for a node not yet registered. cluster must be this
// node's (coordinator) cluster. Errors: duplicate name (42710); the candidate
// is this node under another address (42710); the extension missing on the
// candidate (55000) or at another version (55000); the candidate in another
// cluster (55000). A candidate alone in a cluster of its own may join, and
// so may one whose cluster is administered from this node's address (left
// over from a rolled-back add or an earlier incarnation of this catalog):
// this catalog is the authority for that address. The new node is a Raft voter while fewer than
// kMaxRaftVoters nodes are.
Command DecideAddNode(const ClusterRecord& cluster, const std::vector<NodeRecord>& nodes, const AddNodeRequest& request,
                      const CandidateIdentity& candidate, const std::string& local_extension_version, int64_t now_us);

// The RemoveNode command for `node_ref` (a node name, or "host:port").
// Errors: unknown node (42704); the last node (55000); the coordinator while
// other nodes remain (55000); a node holding shard placements of `tables`
// (55000, counting them).
RemoveNode DecideRemoveNode(const ClusterRecord& cluster, const std::vector<NodeRecord>& nodes,
                            const std::vector<TableRecord>& tables, const std::string& node_ref);

// On the node being added: nullopt when it already belongs to that cluster
// (a retried add), else the JoinCluster command. Throws 55000 when it belongs
// to another cluster, unless it is alone in a cluster of its own or its
// cluster is administered from the same coordinator address as `join`.
std::optional<Command> DecideJoinCluster(const std::optional<ClusterRecord>& cluster,
                                         const std::vector<NodeRecord>& nodes, const JoinCluster& join);

// On the node being removed: nullopt when it is not in that cluster (already
// left), else the LeaveCluster command.
std::optional<Command> DecideLeaveCluster(const std::optional<ClusterRecord>& cluster, const ClusterId& cluster_id);

}  // namespace phantom::metadata
