// The replicated catalog as command_apply and catalog_image see it. The glue
// implements it with SPI over the phantomdb.* tables; tests implement it in
// memory. Implementations only read and write rows: every decision is made by
// the core, so every node's catalog changes the same way.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/metadata/command.hpp"

namespace phantom::metadata {

class CatalogStore {
 public:
  virtual ~CatalogStore() = default;

  virtual std::optional<ClusterRecord> GetCluster() = 0;
  virtual void PutCluster(const ClusterRecord& cluster) = 0;  // insert or replace the singleton
  virtual void DeleteCluster() = 0;

  virtual std::vector<NodeRecord> ListNodes() = 0;  // ordered by node_id
  virtual void InsertNode(const NodeRecord& node) = 0;
  virtual void DeleteNode(NodeId node_id) = 0;
  virtual void DeleteAllNodes() = 0;
  // SetNodeState: the node's state and last heartbeat, nothing else.
  virtual void UpdateNodeState(NodeId node_id, NodeState state, int64_t last_heartbeat_us) = 0;

  virtual std::vector<ColocationRecord> ListColocationGroups() = 0;  // ordered by colocation_id
  virtual void InsertColocationGroup(const ColocationRecord& group) = 0;
  virtual void DeleteColocationGroup(ColocationId colocation_id) = 0;
  virtual void DeleteAllColocationGroups() = 0;  // for restoring a snapshot image

  // Tables come with their shards (by shard_index) and placements.
  virtual std::vector<TableRecord> ListTables() = 0;  // ordered by table_id
  virtual void InsertTable(const TableRecord& table) = 0;
  virtual void DeleteTable(TableId table_id) = 0;  // its shards and placements too
  virtual void DeleteAllTables() = 0;              // all shards and placements too; for restoring a snapshot image
  virtual void RenameTable(TableId table_id, const std::string& schema_name, const std::string& table_name,
                           const std::string& distribution_column) = 0;
};

}  // namespace phantom::metadata
