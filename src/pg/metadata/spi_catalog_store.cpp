// Rows of phantomdb.cluster and phantomdb.nodes <-> core records.
#include "pg/metadata/spi_catalog_store.hpp"

#include <string>

#include "core/common/error.hpp"
#include "core/metadata/cluster_id.hpp"
#include "pg/spi.hpp"

namespace phantom::pg {

using metadata::ClusterRecord;
using metadata::ColocationRecord;
using metadata::DistributionMethod;
using metadata::NodeRecord;
using metadata::NodeRole;
using metadata::NodeState;
using metadata::ShardRecord;
using metadata::TableRecord;

namespace {

NodeState StateFromName(const std::string& name) {
  for (uint8_t value = 0; value <= static_cast<uint8_t>(NodeState::kDrained); value++) {
    auto state = static_cast<NodeState>(value);
    if (name == metadata::NodeStateName(state)) return state;
  }
  throw Error(sqlstate::kDataCorrupted, "phantomdb.nodes holds an unknown node state \"" + name + "\"");
}

}  // namespace

std::optional<ClusterRecord> SpiCatalogStore::GetCluster() {
  spi::Execute(
      "SELECT cluster_id::text, next_node_id, next_table_id, next_shard_id, next_colocation_id, metadata_version "
      "FROM phantomdb.cluster");
  if (spi::RowCount() == 0) return std::nullopt;
  ClusterRecord cluster;
  cluster.cluster_id = metadata::ParseClusterId(spi::GetText(0, 0));
  cluster.next_node_id = spi::GetInt32(0, 1);
  cluster.next_table_id = spi::GetInt64(0, 2);
  cluster.next_shard_id = spi::GetInt64(0, 3);
  cluster.next_colocation_id = spi::GetInt32(0, 4);
  cluster.metadata_version = spi::GetInt64(0, 5);
  return cluster;
}

void SpiCatalogStore::PutCluster(const ClusterRecord& cluster) {
  spi::Execute(
      "INSERT INTO phantomdb.cluster AS c (cluster_id, next_node_id, next_table_id, next_shard_id, "
      "next_colocation_id, metadata_version) VALUES ($1::uuid, $2, $3, $4, $5, $6) "
      "ON CONFLICT (singleton) DO UPDATE SET cluster_id = EXCLUDED.cluster_id, "
      "next_node_id = EXCLUDED.next_node_id, next_table_id = EXCLUDED.next_table_id, "
      "next_shard_id = EXCLUDED.next_shard_id, next_colocation_id = EXCLUDED.next_colocation_id, "
      "metadata_version = EXCLUDED.metadata_version",
      {spi::Text(metadata::FormatClusterId(cluster.cluster_id)), spi::Int32(cluster.next_node_id),
       spi::Int64(cluster.next_table_id), spi::Int64(cluster.next_shard_id), spi::Int32(cluster.next_colocation_id),
       spi::Int64(cluster.metadata_version)});
}

void SpiCatalogStore::DeleteCluster() { spi::Execute("DELETE FROM phantomdb.cluster"); }

std::vector<NodeRecord> SpiCatalogStore::ListNodes() {
  spi::Execute(
      "SELECT node_id, node_name, host, port, region, role, state, last_heartbeat "
      "FROM phantomdb.nodes ORDER BY node_id");
  std::vector<NodeRecord> nodes;
  for (uint64_t row = 0; row < spi::RowCount(); row++) {
    NodeRecord node;
    node.node_id = spi::GetInt32(row, 0);
    node.name = spi::GetText(row, 1);
    node.host = spi::GetText(row, 2);
    node.port = spi::GetInt32(row, 3);
    node.region = spi::GetText(row, 4);
    node.role = metadata::ParseNodeRole(spi::GetText(row, 5));
    node.state = StateFromName(spi::GetText(row, 6));
    node.last_heartbeat_us = spi::GetTimestampUs(row, 7);
    nodes.push_back(std::move(node));
  }
  return nodes;
}

void SpiCatalogStore::InsertNode(const NodeRecord& node) {
  spi::Execute(
      "INSERT INTO phantomdb.nodes (node_id, node_name, host, port, region, role, state, last_heartbeat) "
      "VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
      {spi::Int32(node.node_id), spi::Text(node.name), spi::Text(node.host), spi::Int32(node.port),
       spi::Text(node.region), spi::Text(metadata::NodeRoleName(node.role)),
       spi::Text(metadata::NodeStateName(node.state)), spi::TimestampUs(node.last_heartbeat_us)});
}

void SpiCatalogStore::DeleteNode(metadata::NodeId node_id) {
  spi::Execute("DELETE FROM phantomdb.nodes WHERE node_id = $1", {spi::Int32(node_id)});
}

void SpiCatalogStore::DeleteAllNodes() { spi::Execute("DELETE FROM phantomdb.nodes"); }

void SpiCatalogStore::UpdateNodeState(metadata::NodeId node_id, NodeState state, int64_t last_heartbeat_us) {
  spi::Execute("UPDATE phantomdb.nodes SET state = $2, last_heartbeat = $3 WHERE node_id = $1",
               {spi::Int32(node_id), spi::Text(metadata::NodeStateName(state)), spi::TimestampUs(last_heartbeat_us)});
}

std::vector<ColocationRecord> SpiCatalogStore::ListColocationGroups() {
  spi::Execute(
      "SELECT colocation_id, shard_count, distribution_type, replication_factor FROM phantomdb.colocation_groups "
      "ORDER BY colocation_id");
  std::vector<ColocationRecord> groups;
  for (uint64_t row = 0; row < spi::RowCount(); row++) {
    groups.push_back({spi::GetInt32(row, 0), spi::GetInt32(row, 1), spi::GetText(row, 2), spi::GetInt32(row, 3)});
  }
  return groups;
}

void SpiCatalogStore::InsertColocationGroup(const ColocationRecord& group) {
  spi::Execute(
      "INSERT INTO phantomdb.colocation_groups (colocation_id, shard_count, distribution_type, replication_factor) "
      "VALUES ($1, $2, $3, $4)",
      {spi::Int32(group.colocation_id), spi::Int32(group.shard_count), spi::Text(group.distribution_type),
       spi::Int32(group.replication_factor)});
}

void SpiCatalogStore::DeleteColocationGroup(metadata::ColocationId colocation_id) {
  spi::Execute("DELETE FROM phantomdb.colocation_groups WHERE colocation_id = $1", {spi::Int32(colocation_id)});
}

void SpiCatalogStore::DeleteAllColocationGroups() { spi::Execute("DELETE FROM phantomdb.colocation_groups"); }

std::vector<TableRecord> SpiCatalogStore::ListTables() {
  // Two reads that must see the same catalog: the raft worker may commit
  // between them.
  spi::OneSnapshotScope one_snapshot;
  std::vector<TableRecord> tables;
  spi::Execute(
      "SELECT table_id, schema_name, table_name, method, coalesce(distribution_column, ''), "
      "coalesce(colocation_id, 0) FROM phantomdb.tables ORDER BY table_id");
  for (uint64_t row = 0; row < spi::RowCount(); row++) {
    TableRecord table;
    table.table_id = spi::GetInt64(row, 0);
    table.schema_name = spi::GetText(row, 1);
    table.table_name = spi::GetText(row, 2);
    table.method = spi::GetText(row, 3) == "reference" ? DistributionMethod::kReference : DistributionMethod::kHash;
    table.distribution_column = spi::GetText(row, 4);
    table.colocation_id = spi::GetInt32(row, 5);
    tables.push_back(std::move(table));
  }
  // One pass over every placement, in table and shard order, instead of a
  // query per table.
  spi::Execute(
      "SELECT s.table_id, s.shard_id, s.shard_index, s.hash_min, s.hash_max, "
      "coalesce(array_to_string(array_agg(p.node_id ORDER BY p.placement_rank) "
      "FILTER (WHERE p.node_id IS NOT NULL), ','), '') "
      "FROM phantomdb.shards s LEFT JOIN phantomdb.placements p USING (shard_id) "
      "GROUP BY s.table_id, s.shard_id ORDER BY s.table_id, s.shard_index");
  size_t next = 0;
  for (uint64_t row = 0; row < spi::RowCount(); row++) {
    const metadata::TableId table_id = spi::GetInt64(row, 0);
    while (next < tables.size() && tables[next].table_id < table_id) next++;
    if (next == tables.size() || tables[next].table_id != table_id)
      throw Error(sqlstate::kDataCorrupted, "phantomdb.shards holds shard " + spi::GetText(row, 1) +
                                                " of unknown table id " + std::to_string(table_id));
    ShardRecord shard;
    shard.shard_id = spi::GetInt64(row, 1);
    shard.shard_index = spi::GetInt32(row, 2);
    shard.hash_min = spi::GetInt32(row, 3);
    shard.hash_max = spi::GetInt32(row, 4);
    const std::string nodes = spi::GetText(row, 5);
    for (size_t start = 0; start < nodes.size();) {
      size_t end = nodes.find(',', start);
      if (end == std::string::npos) end = nodes.size();
      shard.placements.push_back(std::stoi(nodes.substr(start, end - start)));
      start = end + 1;
    }
    tables[next].shards.push_back(std::move(shard));
  }
  return tables;
}

void SpiCatalogStore::InsertTable(const TableRecord& table) {
  const bool reference = table.method == DistributionMethod::kReference;
  spi::Execute(
      "INSERT INTO phantomdb.tables (table_id, schema_name, table_name, method, distribution_column, colocation_id) "
      "VALUES ($1, $2, $3, $4, $5, $6)",
      {spi::Int64(table.table_id), spi::Text(table.schema_name), spi::Text(table.table_name),
       spi::Text(metadata::DistributionMethodName(table.method)),
       spi::OptionalText(reference ? std::nullopt : std::optional<std::string>(table.distribution_column)),
       reference ? spi::Param{INT4OID, 0, true} : spi::Int32(table.colocation_id)});
  for (const ShardRecord& shard : table.shards) {
    spi::Execute(
        "INSERT INTO phantomdb.shards (shard_id, table_id, shard_index, hash_min, hash_max) "
        "VALUES ($1, $2, $3, $4, $5)",
        {spi::Int64(shard.shard_id), spi::Int64(table.table_id), spi::Int32(shard.shard_index),
         spi::Int32(shard.hash_min), spi::Int32(shard.hash_max)});
    for (size_t rank = 0; rank < shard.placements.size(); rank++) {
      spi::Execute(
          "INSERT INTO phantomdb.placements (shard_id, node_id, placement_rank) VALUES ($1, $2, $3)",
          {spi::Int64(shard.shard_id), spi::Int32(shard.placements[rank]), spi::Int32(static_cast<int32_t>(rank))});
    }
  }
}

void SpiCatalogStore::DeleteTable(metadata::TableId table_id) {
  // Shards and placements go by ON DELETE CASCADE.
  spi::Execute("DELETE FROM phantomdb.tables WHERE table_id = $1", {spi::Int64(table_id)});
}

void SpiCatalogStore::DeleteAllTables() {
  // Shards and placements go by ON DELETE CASCADE.
  spi::Execute("DELETE FROM phantomdb.tables");
}

void SpiCatalogStore::RenameTable(metadata::TableId table_id, const std::string& schema_name,
                                  const std::string& table_name, const std::string& distribution_column) {
  spi::Execute(
      "UPDATE phantomdb.tables SET schema_name = $2, table_name = $3, distribution_column = $4 WHERE table_id = $1",
      {spi::Int64(table_id), spi::Text(schema_name), spi::Text(table_name),
       spi::OptionalText(distribution_column.empty() ? std::nullopt
                                                     : std::optional<std::string>(distribution_column))});
}

}  // namespace phantom::pg
