// Rows of phantomdb.cluster and phantomdb.nodes <-> core records.
#include "pg/metadata/spi_catalog_store.hpp"

#include <string>

#include "core/common/error.hpp"
#include "core/metadata/cluster_id.hpp"
#include "pg/spi.hpp"

namespace phantom::pg {

using metadata::ClusterRecord;
using metadata::NodeRecord;
using metadata::NodeRole;
using metadata::NodeState;

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
      "SELECT cluster_id::text, local_node_id, next_node_id, coordinator_host, coordinator_port "
      "FROM phantomdb.cluster");
  if (spi::RowCount() == 0) return std::nullopt;
  ClusterRecord cluster;
  cluster.cluster_id = metadata::ParseClusterId(spi::GetText(0, 0));
  cluster.local_node_id = spi::GetInt32(0, 1);
  cluster.next_node_id = spi::GetInt32(0, 2);
  cluster.coordinator_host = spi::GetText(0, 3);
  cluster.coordinator_port = spi::GetInt32(0, 4);
  return cluster;
}

void SpiCatalogStore::PutCluster(const ClusterRecord& cluster) {
  spi::Execute(
      "INSERT INTO phantomdb.cluster AS c (cluster_id, local_node_id, next_node_id, coordinator_host, "
      "coordinator_port) VALUES ($1::uuid, $2, $3, $4, $5) "
      "ON CONFLICT (singleton) DO UPDATE SET cluster_id = EXCLUDED.cluster_id, "
      "local_node_id = EXCLUDED.local_node_id, next_node_id = EXCLUDED.next_node_id, "
      "coordinator_host = EXCLUDED.coordinator_host, coordinator_port = EXCLUDED.coordinator_port",
      {spi::Text(metadata::FormatClusterId(cluster.cluster_id)), spi::Int32(cluster.local_node_id),
       spi::Int32(cluster.next_node_id), spi::Text(cluster.coordinator_host), spi::Int32(cluster.coordinator_port)});
}

void SpiCatalogStore::DeleteCluster() { spi::Execute("DELETE FROM phantomdb.cluster"); }

std::vector<NodeRecord> SpiCatalogStore::ListNodes() {
  spi::Execute(
      "SELECT node_id, node_name, host, port, region, role, state, is_raft_voter, last_heartbeat "
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
    node.is_raft_voter = spi::GetBool(row, 7);
    node.last_heartbeat_us = spi::GetTimestampUs(row, 8);
    nodes.push_back(std::move(node));
  }
  return nodes;
}

void SpiCatalogStore::InsertNode(const NodeRecord& node) {
  spi::Execute(
      "INSERT INTO phantomdb.nodes (node_id, node_name, host, port, region, role, state, is_raft_voter, "
      "last_heartbeat) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
      {spi::Int32(node.node_id), spi::Text(node.name), spi::Text(node.host), spi::Int32(node.port),
       spi::Text(node.region), spi::Text(metadata::NodeRoleName(node.role)),
       spi::Text(metadata::NodeStateName(node.state)), spi::Bool(node.is_raft_voter),
       spi::TimestampUs(node.last_heartbeat_us)});
}

void SpiCatalogStore::DeleteNode(metadata::NodeId node_id) {
  spi::Execute("DELETE FROM phantomdb.nodes WHERE node_id = $1", {spi::Int32(node_id)});
}

void SpiCatalogStore::DeleteAllNodes() { spi::Execute("DELETE FROM phantomdb.nodes"); }

}  // namespace phantom::pg
