// A CatalogStore held in memory, for driving command_apply and the membership
// decisions without Postgres. It counts writes so a test can tell that a
// rejected command wrote nothing, not merely that it ended where it began.
// Two catalogs compare equal when their rows are equal (writes aside), and
// print row by row, so a failed before/after comparison shows the difference.
#pragma once

#include <algorithm>
#include <cstdint>
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

  // An UPDATE that finds no row is a bug in the core, which must have checked.
  void UpdateNodeState(NodeId node_id, NodeState state, int64_t last_heartbeat_us) override {
    writes++;
    for (NodeRecord& node : nodes) {
      if (node.node_id != node_id) continue;
      node.state = state;
      node.last_heartbeat_us = last_heartbeat_us;
      return;
    }
    throw std::logic_error("no node id " + std::to_string(node_id) + " to update");
  }

  std::vector<ColocationRecord> ListColocationGroups() override { return groups; }

  void InsertColocationGroup(const ColocationRecord& group) override {
    writes++;
    auto position =
        std::lower_bound(groups.begin(), groups.end(), group.colocation_id,
                         [](const ColocationRecord& existing, ColocationId id) { return existing.colocation_id < id; });
    if (position != groups.end() && position->colocation_id == group.colocation_id)
      throw std::logic_error("duplicate colocation id " + std::to_string(group.colocation_id));
    groups.insert(position, group);
  }

  void DeleteColocationGroup(ColocationId colocation_id) override {
    writes++;
    std::erase_if(groups, [&](const ColocationRecord& group) { return group.colocation_id == colocation_id; });
  }

  void DeleteAllColocationGroups() override {
    writes++;
    groups.clear();
  }

  std::vector<TableRecord> ListTables() override { return tables; }

  // Mirrors the keys of phantomdb.tables and phantomdb.shards.
  void InsertTable(const TableRecord& table) override {
    writes++;
    for (const TableRecord& existing : tables) {
      if (existing.table_id == table.table_id)
        throw std::logic_error("duplicate table id " + std::to_string(table.table_id));
      if (existing.schema_name == table.schema_name && existing.table_name == table.table_name)
        throw std::logic_error("duplicate table name " + table.schema_name + "." + table.table_name);
      for (const ShardRecord& shard : existing.shards)
        for (const ShardRecord& added : table.shards)
          if (shard.shard_id == added.shard_id)
            throw std::logic_error("duplicate shard id " + std::to_string(shard.shard_id));
    }
    auto position = std::lower_bound(tables.begin(), tables.end(), table.table_id,
                                     [](const TableRecord& existing, TableId id) { return existing.table_id < id; });
    tables.insert(position, table);
  }

  void DeleteTable(TableId table_id) override {
    writes++;
    std::erase_if(tables, [&](const TableRecord& table) { return table.table_id == table_id; });
  }

  void DeleteAllTables() override {
    writes++;
    tables.clear();
  }

  void RenameTable(TableId table_id, const std::string& schema_name, const std::string& table_name,
                   const std::string& distribution_column) override {
    writes++;
    for (TableRecord& table : tables) {
      if (table.table_id != table_id) continue;
      table.schema_name = schema_name;
      table.table_name = table_name;
      table.distribution_column = distribution_column;
    }
  }

  bool operator==(const InMemoryCatalog& other) const {
    return cluster == other.cluster && nodes == other.nodes && groups == other.groups && tables == other.tables;
  }

  std::optional<ClusterRecord> cluster;
  std::vector<NodeRecord> nodes;         // ordered by node_id, as ListNodes promises
  std::vector<ColocationRecord> groups;  // ordered by colocation_id
  std::vector<TableRecord> tables;       // ordered by table_id
  int writes = 0;
};

// Found by GoogleTest through argument-dependent lookup.
inline void PrintTo(const InMemoryCatalog& catalog, std::ostream* out) {
  *out << "{cluster: ";
  if (catalog.cluster) {
    const ClusterRecord& cluster = *catalog.cluster;
    *out << FormatClusterId(cluster.cluster_id) << " version " << cluster.metadata_version << " next node "
         << cluster.next_node_id << " next table " << cluster.next_table_id << " next shard " << cluster.next_shard_id
         << " next colocation " << cluster.next_colocation_id;
  } else {
    *out << "none";
  }
  *out << "; nodes:";
  for (const NodeRecord& node : catalog.nodes)
    *out << " [" << node.node_id << " \"" << node.name << "\" " << node.host << ":" << node.port << " " << node.region
         << " " << NodeRoleName(node.role) << " " << NodeStateName(node.state) << " hb " << node.last_heartbeat_us
         << "]";
  *out << "; groups:";
  for (const ColocationRecord& group : catalog.groups)
    *out << " [" << group.colocation_id << " " << group.shard_count << "x " << group.distribution_type << " rf "
         << group.replication_factor << "]";
  *out << "; tables:";
  for (const TableRecord& table : catalog.tables) {
    *out << " [" << table.table_id << " \"" << table.schema_name << "\".\"" << table.table_name << "\" "
         << DistributionMethodName(table.method) << " (" << table.distribution_column << ") group "
         << table.colocation_id << " shards:";
    for (const ShardRecord& shard : table.shards) {
      *out << " " << shard.shard_id << "#" << shard.shard_index << " " << shard.hash_min << ".." << shard.hash_max
           << " on";
      for (NodeId node : shard.placements) *out << " " << node;
    }
    *out << "]";
  }
  *out << "}";
}

}  // namespace phantom::metadata
