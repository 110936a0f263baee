// A CatalogStore held in memory, for driving command_apply and the membership
// decisions without Postgres. It counts writes so a test can tell that a
// rejected command wrote nothing, not merely that it ended where it began.
// Two catalogs compare equal when their rows are equal (writes aside), and
// print row by row, so a failed before/after comparison shows the difference.
#pragma once

#include <algorithm>
#include <optional>
#include <ostream>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/metadata/catalog_store.hpp"
#include "core/metadata/cluster_id.hpp"

namespace phantom::metadata {

class InMemoryCatalog : public CatalogStore {
 public:
  std::optional<ClusterRecord> GetCluster() override { return cluster; }

  void PutCluster(const ClusterRecord& record) override {
    writes++;
    cluster = record;
  }

  void DeleteCluster() override {
    writes++;
    cluster.reset();
  }

  std::vector<NodeRecord> ListNodes() override { return nodes; }

  // Mirrors the primary key of phantomdb.nodes: a second row with the same id
  // is a bug in the core, which must have checked first.
  void InsertNode(const NodeRecord& node) override {
    writes++;
    auto position = std::lower_bound(nodes.begin(), nodes.end(), node.node_id,
                                     [](const NodeRecord& existing, NodeId id) { return existing.node_id < id; });
    if (position != nodes.end() && position->node_id == node.node_id)
      throw std::logic_error("duplicate node id " + std::to_string(node.node_id));
    nodes.insert(position, node);
  }

  void DeleteNode(NodeId node_id) override {
    writes++;
    std::erase_if(nodes, [&](const NodeRecord& node) { return node.node_id == node_id; });
  }

  void DeleteAllNodes() override {
    writes++;
    nodes.clear();
  }

  bool operator==(const InMemoryCatalog& other) const { return cluster == other.cluster && nodes == other.nodes; }

  std::optional<ClusterRecord> cluster;
  std::vector<NodeRecord> nodes;  // ordered by node_id, as ListNodes promises
  int writes = 0;
};

// Found by GoogleTest through argument-dependent lookup.
inline void PrintTo(const InMemoryCatalog& catalog, std::ostream* out) {
  *out << "{cluster: ";
  if (catalog.cluster) {
    const ClusterRecord& cluster = *catalog.cluster;
    *out << FormatClusterId(cluster.cluster_id) << " local " << cluster.local_node_id << " next "
         << cluster.next_node_id << " coordinator " << cluster.coordinator_host << ":" << cluster.coordinator_port;
  } else {
    *out << "none";
  }
  *out << "; nodes:";
  for (const NodeRecord& node : catalog.nodes)
    *out << " [" << node.node_id << " \"" << node.name << "\" " << node.host << ":" << node.port << " " << node.region
         << " " << NodeRoleName(node.role) << " " << NodeStateName(node.state) << (node.is_raft_voter ? " voter" : "")
         << " hb " << node.last_heartbeat_us << "]";
  *out << "}";
}

}  // namespace phantom::metadata
