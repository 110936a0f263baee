// A CatalogStore over a CatalogImage in memory: lets a backend apply the
// metadata commands its own transaction will propose at commit to a copy of
// the catalog, so that the rest of the transaction already sees them
// (metadata_cache.cpp). The same apply code runs on it as on the real catalog.
#pragma once

#include "core/metadata/catalog_image.hpp"
#include "core/metadata/catalog_store.hpp"

namespace phantom::metadata {

class ImageCatalogStore final : public CatalogStore {
 public:
  explicit ImageCatalogStore(CatalogImage& image) : image_(image) {}

  std::optional<ClusterRecord> GetCluster() override { return image_.cluster; }
  void PutCluster(const ClusterRecord& cluster) override { image_.cluster = cluster; }
  void DeleteCluster() override { image_.cluster.reset(); }

  std::vector<NodeRecord> ListNodes() override { return image_.nodes; }
  void InsertNode(const NodeRecord& node) override;
  void DeleteNode(NodeId node_id) override;
  void DeleteAllNodes() override { image_.nodes.clear(); }
  void UpdateNodeState(NodeId node_id, NodeState state, int64_t last_heartbeat_us) override;

  std::vector<ColocationRecord> ListColocationGroups() override { return image_.groups; }
  void InsertColocationGroup(const ColocationRecord& group) override;
  void DeleteColocationGroup(ColocationId colocation_id) override;
  void DeleteAllColocationGroups() override { image_.groups.clear(); }

  std::vector<TableRecord> ListTables() override { return image_.tables; }
  void InsertTable(const TableRecord& table) override;
  void DeleteTable(TableId table_id) override;
  void DeleteAllTables() override { image_.tables.clear(); }
  void RenameTable(TableId table_id, const std::string& schema_name, const std::string& table_name,
                   const std::string& distribution_column) override;

 private:
  CatalogImage& image_;
};

}  // namespace phantom::metadata
