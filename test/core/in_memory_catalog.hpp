// A CatalogStore held in memory, for driving command_apply and the membership
// decisions without Postgres. It counts writes so a test can tell that a
// rejected command wrote nothing, not merely that it ended where it began.
#pragma once

#include <algorithm>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/metadata/catalog_store.hpp"

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

}  // namespace phantom::metadata
