// The phantomdb.* catalog tables as a core CatalogStore, through SPI. Must be
// used inside spi::WithSpi. Writes succeed only while the raft worker applies
// a command (catalog_write_guard.cpp).
#pragma once

#include "core/metadata/catalog_store.hpp"

namespace phantom::pg {

class SpiCatalogStore final : public metadata::CatalogStore {
 public:
  std::optional<metadata::ClusterRecord> GetCluster() override;
  void PutCluster(const metadata::ClusterRecord& cluster) override;
  void DeleteCluster() override;

  std::vector<metadata::NodeRecord> ListNodes() override;
  void InsertNode(const metadata::NodeRecord& node) override;
  void DeleteNode(metadata::NodeId node_id) override;
  void DeleteAllNodes() override;
  void UpdateNodeState(metadata::NodeId node_id, metadata::NodeState state, int64_t last_heartbeat_us) override;

  std::vector<metadata::ColocationRecord> ListColocationGroups() override;
  void InsertColocationGroup(const metadata::ColocationRecord& group) override;
  void DeleteColocationGroup(metadata::ColocationId colocation_id) override;
  void DeleteAllColocationGroups() override;

  std::vector<metadata::TableRecord> ListTables() override;
  void InsertTable(const metadata::TableRecord& table) override;
  void DeleteTable(metadata::TableId table_id) override;
  void DeleteAllTables() override;
  void RenameTable(metadata::TableId table_id, const std::string& schema_name, const std::string& table_name,
                   const std::string& distribution_column) override;
};

}  // namespace phantom::pg
