// Membership decisions; see node_membership.hpp for the rules and errors.
#include "core/metadata/node_membership.hpp"

#include <algorithm>

#include "core/common/error.hpp"
#include "core/common/pure.hpp"

namespace phantom::metadata {

namespace {

constexpr size_t kMaxHostBytes = 255;

void ValidateName(const std::optional<std::string>& value, const char* what, const char* plural) {
  if (!value) return;
  if (value->empty()) throw Error(sqlstate::kInvalidParameterValue, std::string("node ") + what + " must not be empty");
  if (value->size() > kMaxNameBytes)
    throw Error(sqlstate::kInvalidParameterValue, std::string("node ") + what + " \"" + *value + "\" is too long",
                std::string(plural) + " are at most " + std::to_string(kMaxNameBytes) + " bytes.");
}

std::string NameFor(const AddNodeRequest& request) {
  return request.name.value_or(NodeAddress(request.host, request.port));
}

const NodeRecord* FindById(const std::vector<NodeRecord>& nodes, NodeId node_id) {
  for (const NodeRecord& node : nodes)
    if (node.node_id == node_id) return &node;
  return nullptr;
}

}  // namespace

std::string NodeAddress(const std::string& host, int32_t port) {
  if (host.find(':') != std::string::npos) return "[" + host + "]:" + std::to_string(port);
  return host + ":" + std::to_string(port);
}

void ValidateAddNodeRequest(const AddNodeRequest& request) {
  if (request.host.empty()) throw Error(sqlstate::kInvalidParameterValue, "node host must not be empty");
  if (request.host.size() > kMaxHostBytes)
    throw Error(sqlstate::kInvalidParameterValue, "node host is too long", "Host names are at most 255 bytes.");
  if (request.port < 1 || request.port > 65535)
    throw Error(sqlstate::kInvalidParameterValue, "invalid node port " + std::to_string(request.port),
                "A port must be between 1 and 65535.");
  ValidateName(request.name, "name", "Node names");
  ValidateName(request.region, "region", "Region names");
  ParseNodeRole(request.role);
}

void CheckIsCoordinator(const std::optional<ClusterRecord>& cluster) {
  if (!cluster || cluster->local_node_id != 0) return;
  const std::string coordinator = NodeAddress(cluster->coordinator_host, cluster->coordinator_port);
  throw Error(sqlstate::kObjectNotInPrerequisiteState,
              "this node is a member of a cluster administered from " + coordinator,
              "Until metadata is replicated, one node holds the cluster metadata and administers membership.",
              "Run this function on " + coordinator + ".");
}

AddNodeRequest FoundingRequest(const AddNodeRequest& self, const AddNodeRequest& request) {
  return (request.host == self.host && request.port == self.port) ? request : self;
}

Command DecideCreateCluster(const ClusterId& new_cluster_id, const AddNodeRequest& self, int64_t now_us) {
  CreateCluster create;
  create.cluster_id = new_cluster_id;
  create.self.node_id = 1;
  create.self.name = NameFor(self);
  create.self.host = self.host;
  create.self.port = self.port;
  create.self.region = self.region;
  create.self.role = ParseNodeRole(self.role);
  create.self.state = NodeState::kActive;
  create.self.is_raft_voter = true;
  create.self.last_heartbeat_us = now_us;
  return create;
}

std::optional<NodeId> FindRegisteredNode(const std::vector<NodeRecord>& nodes, const AddNodeRequest& request) {
  for (const NodeRecord& node : nodes) {
    if (node.host != request.host || node.port != request.port) continue;
    if (request.name && *request.name != node.name)
      throw Error(sqlstate::kDuplicateObject,
                  "node " + NodeAddress(node.host, node.port) + " is already registered as \"" + node.name + "\"", "",
                  "Call phantom_add_node without node_name, or with node_name => '" + node.name + "'.");
    return node.node_id;
  }
  return std::nullopt;
}

Command DecideAddNode(const ClusterRecord& cluster, const std::vector<NodeRecord>& nodes, const AddNodeRequest& request,
                      const CandidateIdentity& candidate, const std::string& local_extension_version, int64_t now_us) {
  const std::string address = NodeAddress(request.host, request.port);
  const std::string name = NameFor(request);

  if (candidate.is_local_node) {
    const NodeRecord* self = FindById(nodes, cluster.local_node_id);
    throw Error(sqlstate::kDuplicateObject, address + " is this node, already registered as " +
                                                (self ? NodeAddress(self->host, self->port) : std::string("?")));
  }
  for (const NodeRecord& node : nodes)
    if (node.name == name)
      throw Error(sqlstate::kDuplicateObject, "a node named \"" + name + "\" already exists",
                  "Node \"" + name + "\" is " + NodeAddress(node.host, node.port) + ".");
  if (candidate.extension_version.empty())
    throw Error(sqlstate::kObjectNotInPrerequisiteState, "extension \"phantomdb\" is not installed on node " + address,
                "", "Run CREATE EXTENSION phantomdb there, in the database of the same name as here.");
  if (candidate.extension_version != local_extension_version)
    throw Error(sqlstate::kObjectNotInPrerequisiteState,
                "node " + address + " runs phantomdb " + candidate.extension_version + ", this node runs " +
                    local_extension_version,
                "", "Install the same version on every node, then ALTER EXTENSION phantomdb UPDATE.");
  // A stale member whose recorded coordinator is this node's address may
  // come back; a coordinator claiming this node's address is another server
  // advertising the same address, and is refused like any other cluster.
  const bool stale_member_of_ours =
      !candidate.is_coordinator &&
      candidate.cluster_coordinator == NodeAddress(cluster.coordinator_host, cluster.coordinator_port);
  const bool alone_in_own_cluster = candidate.is_coordinator && !candidate.coordinates_others;
  const bool other_cluster = candidate.cluster_id && *candidate.cluster_id != cluster.cluster_id &&
                             !stale_member_of_ours && !alone_in_own_cluster;
  if (other_cluster)
    throw Error(sqlstate::kObjectNotInPrerequisiteState, "node " + address + " already belongs to another cluster",
                "That cluster is administered from " + candidate.cluster_coordinator + ".",
                "Remove the node there with phantom_remove_node first.");

  const auto voters =
      std::count_if(nodes.begin(), nodes.end(), [](const NodeRecord& node) { return node.is_raft_voter; });
  AddNode add;
  add.node.node_id = cluster.next_node_id;
  add.node.name = name;
  add.node.host = request.host;
  add.node.port = request.port;
  add.node.region = request.region;
  add.node.role = ParseNodeRole(request.role);
  add.node.state = NodeState::kActive;
  add.node.is_raft_voter = voters < kMaxRaftVoters;
  add.node.last_heartbeat_us = now_us;
  return add;
}

RemoveNode DecideRemoveNode(const ClusterRecord& cluster, const std::vector<NodeRecord>& nodes,
                            const std::vector<TableRecord>& tables, const std::string& node_ref) {
  const NodeRecord* target = nullptr;
  for (const NodeRecord& node : nodes)
    if (node.name == node_ref) target = &node;
  if (target == nullptr)
    for (const NodeRecord& node : nodes)
      if (NodeAddress(node.host, node.port) == node_ref) target = &node;
  if (target == nullptr)
    throw Error(sqlstate::kUndefinedObject, "node \"" + node_ref + "\" does not exist", "",
                "SELECT node_name, host, port FROM phantom_nodes lists the nodes.");
  if (nodes.size() == 1)
    throw Error(sqlstate::kObjectNotInPrerequisiteState,
                "cannot remove node \"" + target->name + "\": it is the last node of the cluster");
  if (target->node_id == cluster.local_node_id)
    throw Error(sqlstate::kObjectNotInPrerequisiteState,
                "cannot remove node \"" + target->name + "\": it holds the cluster metadata",
                "Until metadata is replicated, the node where the cluster was first used administers it.",
                "Remove the other nodes first.");
  size_t placements = 0;
  size_t holding_tables = 0;
  for (const TableRecord& table : tables) {
    size_t here = 0;
    for (const ShardRecord& shard : table.shards)
      here += static_cast<size_t>(std::count(shard.placements.begin(), shard.placements.end(), target->node_id));
    placements += here;
    holding_tables += here > 0 ? 1 : 0;
  }
  if (placements > 0)
    throw Error(sqlstate::kObjectNotInPrerequisiteState,
                "cannot remove node \"" + target->name + "\": it holds " + std::to_string(placements) +
                    " shard placement(s) of " + std::to_string(holding_tables) + " table(s)",
                "", "Drop or undistribute those tables first; moving shards off a node is not available yet.");
  return RemoveNode{target->node_id};
}

std::optional<Command> DecideJoinCluster(const std::optional<ClusterRecord>& cluster,
                                         const std::vector<NodeRecord>& nodes, const JoinCluster& join) {
  if (cluster && cluster->cluster_id == join.cluster_id) return std::nullopt;
  if (cluster) {
    const std::string coordinator = NodeAddress(cluster->coordinator_host, cluster->coordinator_port);
    const bool alone = cluster->local_node_id != 0 &&
                       std::all_of(nodes.begin(), nodes.end(),
                                   [&](const NodeRecord& node) { return node.node_id == cluster->local_node_id; });
    // Only a member can be stale: a coordinator's recorded coordinator is
    // itself, and a join naming that address comes from another server.
    const bool same_coordinator =
        cluster->local_node_id == 0 && coordinator == NodeAddress(join.coordinator_host, join.coordinator_port);
    if (!alone && !same_coordinator)
      throw Error(sqlstate::kObjectNotInPrerequisiteState, "this node already belongs to another cluster",
                  "That cluster is administered from " + coordinator + ".");
  }
  return join;
}

std::optional<Command> DecideLeaveCluster(const std::optional<ClusterRecord>& cluster, const ClusterId& cluster_id) {
  if (cluster && cluster->cluster_id == cluster_id && cluster->local_node_id == 0) return LeaveCluster{cluster_id};
  return std::nullopt;
}

}  // namespace phantom::metadata
