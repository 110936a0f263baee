// The phantomdb.* catalog tables as a core CatalogStore, through SPI. Must be
// used inside spi::WithSpi. Writes succeed only while a command is being
// applied (catalog_write_guard.cpp).
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
};

}  // namespace phantom::pg
