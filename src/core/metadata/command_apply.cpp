// Applying metadata commands to the catalog; see command_apply.hpp. Each
// command is checked against the catalog before the first write, so a
// command that does not fit throws having changed nothing.
#include "core/metadata/command_apply.hpp"

#include <algorithm>
#include <limits>

#include "core/common/error.hpp"
#include "core/metadata/node_membership.hpp"
#include "core/common/pure.hpp"

namespace phantom::metadata {

namespace {

[[noreturn]] void Conflict(const Command& command, const std::string& problem) {
  throw Error(sqlstate::kObjectNotInPrerequisiteState,
              std::string("metadata command ") + CommandName(command) + " conflicts with the catalog: " + problem);
}

// Ids are positive and leave room for next_node_id = id + 1.
void CheckNodeId(const Command& command, NodeId node_id) {
  if (node_id < 1 || node_id == std::numeric_limits<NodeId>::max())
    Conflict(command, "node id " + std::to_string(node_id) + " is out of range");
}

class Applier {
 public:
  Applier(CatalogStore& store, const Command& command) : store_(store), command_(command) {}

  void operator()(const CreateCluster& create) {
    CheckNodeId(command_, create.self.node_id);
    if (store_.GetCluster()) Conflict(command_, "this node already belongs to a cluster");
    ClusterRecord cluster;
    cluster.cluster_id = create.cluster_id;
    cluster.local_node_id = create.self.node_id;
    cluster.next_node_id = create.self.node_id + 1;
    cluster.coordinator_host = create.self.host;
    cluster.coordinator_port = create.self.port;
    store_.PutCluster(cluster);
    store_.InsertNode(create.self);
  }

  void operator()(const AddNode& add) {
    std::optional<ClusterRecord> cluster = store_.GetCluster();
    CheckNodeId(command_, add.node.node_id);
    if (!cluster || cluster->local_node_id == 0) Conflict(command_, "this node does not administer a cluster");
    for (const NodeRecord& node : store_.ListNodes()) {
      if (node.node_id == add.node.node_id) Conflict(command_, "node id " + std::to_string(node.node_id) + " is taken");
      if (node.name == add.node.name) Conflict(command_, "node name \"" + node.name + "\" is taken");
      if (node.host == add.node.host && node.port == add.node.port)
        Conflict(command_, NodeAddress(node.host, node.port) + " is already registered");
    }
    store_.InsertNode(add.node);
    cluster->next_node_id = std::max(cluster->next_node_id, add.node.node_id + 1);
    store_.PutCluster(*cluster);
  }

  void operator()(const RemoveNode& remove) {
    std::vector<NodeRecord> nodes = store_.ListNodes();
    bool found =
        std::any_of(nodes.begin(), nodes.end(), [&](const NodeRecord& node) { return node.node_id == remove.node_id; });
    if (!found)
      throw Error(sqlstate::kUndefinedObject,
                  std::string("metadata command RemoveNode names unknown node id ") + std::to_string(remove.node_id));
    if (nodes.size() == 1) Conflict(command_, "node id " + std::to_string(remove.node_id) + " is the last node");
    store_.DeleteNode(remove.node_id);
  }

  void operator()(const JoinCluster& join) {
    std::optional<ClusterRecord> cluster = store_.GetCluster();
    if (cluster && cluster->cluster_id == join.cluster_id) return;
    // The same rule the node applies before proposing the join.
    if (!DecideJoinCluster(cluster, store_.ListNodes(), join)) return;
    ClusterRecord joined;
    joined.cluster_id = join.cluster_id;
    joined.local_node_id = 0;
    joined.next_node_id = 1;
    joined.coordinator_host = join.coordinator_host;
    joined.coordinator_port = join.coordinator_port;
    store_.DeleteAllNodes();
    store_.PutCluster(joined);
  }

  void operator()(const LeaveCluster& leave) {
    std::optional<ClusterRecord> cluster = store_.GetCluster();
    if (!cluster || cluster->cluster_id != leave.cluster_id || cluster->local_node_id != 0)
      Conflict(command_, "this node is not a member of that cluster");
    store_.DeleteCluster();
  }

 private:
  CatalogStore& store_;
  const Command& command_;
};

}  // namespace

void ApplyCommand(CatalogStore& store, const Command& command) { std::visit(Applier(store, command), command); }

}  // namespace phantom::metadata
