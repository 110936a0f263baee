// The in-memory catalog store; see image_catalog_store.hpp. Lists stay
// ordered by id, as CatalogStore promises.
#include "core/metadata/image_catalog_store.hpp"

#include <algorithm>

namespace phantom::metadata {

namespace {

template <typename Records, typename Record, typename Key>
void InsertOrdered(Records& records, const Record& record, Key key) {
  auto at = std::lower_bound(records.begin(), records.end(), record,
                             [&](const Record& a, const Record& b) { return key(a) < key(b); });
  records.insert(at, record);
}

template <typename Records, typename Match>
void EraseIf(Records& records, Match match) {
  records.erase(std::remove_if(records.begin(), records.end(), match), records.end());
}

}  // namespace

void ImageCatalogStore::InsertNode(const NodeRecord& node) {
  InsertOrdered(image_.nodes, node, [](const NodeRecord& n) { return n.node_id; });
}

void ImageCatalogStore::DeleteNode(NodeId node_id) {
  EraseIf(image_.nodes, [&](const NodeRecord& n) { return n.node_id == node_id; });
}

void ImageCatalogStore::UpdateNodeState(NodeId node_id, NodeState state, int64_t last_heartbeat_us) {
  for (NodeRecord& node : image_.nodes)
    if (node.node_id == node_id) {
      node.state = state;
      node.last_heartbeat_us = last_heartbeat_us;
    }
}

void ImageCatalogStore::InsertColocationGroup(const ColocationRecord& group) {
  InsertOrdered(image_.groups, group, [](const ColocationRecord& g) { return g.colocation_id; });
}

void ImageCatalogStore::DeleteColocationGroup(ColocationId colocation_id) {
  EraseIf(image_.groups, [&](const ColocationRecord& g) { return g.colocation_id == colocation_id; });
}

void ImageCatalogStore::InsertTable(const TableRecord& table) {
  InsertOrdered(image_.tables, table, [](const TableRecord& t) { return t.table_id; });
}

void ImageCatalogStore::DeleteTable(TableId table_id) {
  EraseIf(image_.tables, [&](const TableRecord& t) { return t.table_id == table_id; });
}

void ImageCatalogStore::RenameTable(TableId table_id, const std::string& schema_name, const std::string& table_name,
                                    const std::string& distribution_column) {
  for (TableRecord& table : image_.tables)
    if (table.table_id == table_id) {
      table.schema_name = schema_name;
      table.table_name = table_name;
      table.distribution_column = distribution_column;
    }
}

}  // namespace phantom::metadata
