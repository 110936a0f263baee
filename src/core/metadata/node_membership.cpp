// Membership decisions; see node_membership.hpp for the rules and errors.
#include "core/metadata/node_membership.hpp"

#include <algorithm>

#include "core/common/error.hpp"
#include "core/metadata/cluster_id.hpp"
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

  // FindRegisteredNode found no node at this address, so this node is
  // registered under another one: a second row would make two nodes of one.
  if (candidate.is_local_node)
    throw Error(sqlstate::kDuplicateObject, address + " is this node, already registered under another address", "",
                "SELECT node_name, host, port FROM phantom_nodes lists the nodes.");
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
  // Its catalog describes another cluster, which may still count on it. A
  // node that believes it is in this cluster was removed while unreachable
  // (or its add rolled back): this catalog is the authority, so it may come back.
  if (candidate.cluster_id && *candidate.cluster_id != cluster.cluster_id)
    throw Error(sqlstate::kObjectNotInPrerequisiteState, "node \"" + address + "\" already belongs to another cluster",
                "It belongs to cluster " + FormatClusterId(*candidate.cluster_id) + ", this node to cluster " +
                    FormatClusterId(cluster.cluster_id) + ".",
                "Remove it from that cluster with phantom_remove_node, or drop and re-create the extension "
                "phantomdb on it so that it forgets that cluster.");

  AddNode add;
  add.node.node_id = cluster.next_node_id;
  add.node.name = name;
  add.node.host = request.host;
  add.node.port = request.port;
  add.node.region = request.region;
  add.node.role = ParseNodeRole(request.role);
  add.node.state = NodeState::kJoining;
  add.node.last_heartbeat_us = now_us;
  return add;
}

RemoveNode DecideRemoveNode(const ClusterRecord& /*cluster*/, const std::vector<NodeRecord>& nodes,
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

}  // namespace phantom::metadata
