// Decisions behind phantom_add_node and phantom_remove_node: given what the
// catalog holds and what the glue learned over libpq, decide which command to
// propose, or throw phantom::Error with the message, detail and hint the user
// sees. The glue does the I/O; this decides.
//
// The metadata is replicated by Raft (proposal.hpp): every node holds the
// same catalog and any node may administer the cluster. A node decides on its
// own replica and proposes the command with the log index it decided on, so a
// decision made on a catalog that changed meanwhile is refused on apply.
// Which cluster a server belongs to, and which node it is, are node-local
// facts the glue keeps outside the replicated catalog. Which nodes vote in
// the Raft group is Raft's business (voter_policy.hpp), not the catalog's.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/metadata/command.hpp"

namespace phantom::metadata {

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

// What this node registers itself as when `request` is the call that first
// uses the cluster: the request itself when it names this node's address
// (so its name, region and role are kept), else `self` from the settings.
AddNodeRequest FoundingRequest(const AddNodeRequest& self, const AddNodeRequest& request);

// The CreateCluster command that registers this node when the cluster is
// first used: self gets node id 1 and is active (it is the whole cluster).
Command DecideCreateCluster(const ClusterId& new_cluster_id, const AddNodeRequest& self, int64_t now_us);

// The id of the node already registered at request.host:port, if any: adding
// it again is a no-op that returns that id. Throws 42710 if request.name is
// given and the node is registered under another name.
std::optional<NodeId> FindRegisteredNode(const std::vector<NodeRecord>& nodes, const AddNodeRequest& request);

// What the candidate node reported about itself over libpq.
struct CandidateIdentity {
  std::string extension_version;        // "" when the extension is not installed
  std::optional<ClusterId> cluster_id;  // the cluster the candidate believes it belongs to, if any
  bool is_local_node = false;           // it is the node running phantom_add_node
};

// The AddNode command for a node not yet registered (FindRegisteredNode
// found none). The new node gets id cluster.next_node_id and state joining:
// the Raft leader makes it active once it has caught up with the metadata log
// (failure_detector.hpp). Errors, in this order: the candidate is this node
// under another address (42710); duplicate name (42710); the extension
// missing on the candidate (55000) or at another version (55000); the
// candidate in another cluster (55000). A candidate that believes it belongs
// to this cluster but is not registered was removed without being told, and
// may come back.
Command DecideAddNode(const ClusterRecord& cluster, const std::vector<NodeRecord>& nodes, const AddNodeRequest& request,
                      const CandidateIdentity& candidate, const std::string& local_extension_version, int64_t now_us);

// The RemoveNode command for `node_ref` (a node name, or "host:port"; a name
// wins when both match). Errors: unknown node (42704); the last node (55000);
// a node holding shard placements of `tables` (55000, counting them). Any
// node may be removed, the one deciding included: the others hold the same
// catalog. `cluster` is the catalog's cluster record; no rule needs it now.
RemoveNode DecideRemoveNode(const ClusterRecord& cluster, const std::vector<NodeRecord>& nodes,
                            const std::vector<TableRecord>& tables, const std::string& node_ref);

}  // namespace phantom::metadata
