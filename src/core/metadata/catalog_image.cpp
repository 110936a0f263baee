// Reading, restoring and encoding catalog images; see catalog_image.hpp.
#include "core/metadata/catalog_image.hpp"

#include "core/common/byte_buffer.hpp"
#include "core/metadata/codec_frame.hpp"
#include "core/metadata/record_codec.hpp"
#include "core/common/pure.hpp"

namespace phantom::metadata {

namespace {

constexpr size_t kMinBody = 1 + 4 + 4 + 4;  // cluster flag, three counts
constexpr FrameFormat kFormat{"PHMI", kCatalogImageFormatVersion, "catalog image", "catalog image", kMinBody};

void PutCluster(ByteWriter& out, const ClusterRecord& cluster) {
  PutClusterId(out, cluster.cluster_id);
  out.PutI32(cluster.next_node_id);
  out.PutI64(cluster.next_table_id);
  out.PutI64(cluster.next_shard_id);
  out.PutI32(cluster.next_colocation_id);
  out.PutI64(cluster.metadata_version);
}

ClusterRecord GetCluster(ByteReader& in) {
  ClusterRecord cluster;
  cluster.cluster_id = GetClusterId(in);
  cluster.next_node_id = in.GetI32();
  cluster.next_table_id = in.GetI64();
  cluster.next_shard_id = in.GetI64();
  cluster.next_colocation_id = in.GetI32();
  cluster.metadata_version = in.GetI64();
  return cluster;
}

// Reads `count` records, refusing ids that do not strictly ascend: the image
// promises id order, and a duplicate would break the restored keys.
template <typename Record, typename Get, typename Id>
std::vector<Record> GetSorted(ByteReader& in, size_t min_bytes, const char* element, Get get, Id id) {
  const uint32_t count = GetCount(in, min_bytes, element);
  std::vector<Record> records;
  records.reserve(count);
  for (uint32_t i = 0; i < count; i++) {
    Record record = get(in);
    if (!records.empty() && id(record) <= id(records.back()))
      in.Fail(std::string(element) + " id " + std::to_string(id(record)) + " follows " +
              std::to_string(id(records.back())));
    records.push_back(std::move(record));
  }
  return records;
}

}  // namespace

CatalogImage ReadImage(CatalogStore& store) {
  CatalogImage image;
  image.cluster = store.GetCluster();
  image.nodes = store.ListNodes();
  image.groups = store.ListColocationGroups();
  image.tables = store.ListTables();
  return image;
}

void RestoreImage(CatalogStore& store, const CatalogImage& image) {
  // Rows that refer to others go first and come back last.
  store.DeleteAllTables();
  store.DeleteAllColocationGroups();
  store.DeleteAllNodes();
  store.DeleteCluster();
  if (image.cluster) store.PutCluster(*image.cluster);
  for (const NodeRecord& node : image.nodes) store.InsertNode(node);
  for (const ColocationRecord& group : image.groups) store.InsertColocationGroup(group);
  for (const TableRecord& table : image.tables) store.InsertTable(table);
}

std::string EncodeImage(const CatalogImage& image) {
  ByteWriter body;
  body.PutBool(image.cluster.has_value());
  if (image.cluster) PutCluster(body, *image.cluster);
  PutCount(body, image.nodes.size(), "node");
  for (const NodeRecord& node : image.nodes) PutNode(body, node);
  PutCount(body, image.groups.size(), "colocation group");
  for (const ColocationRecord& group : image.groups) PutGroup(body, group);
  PutCount(body, image.tables.size(), "table");
  for (const TableRecord& table : image.tables) PutTable(body, table);
  return SealFrame(kFormat, body.Bytes());
}

CatalogImage DecodeImage(std::string_view bytes) {
  ByteReader body(OpenFrame(kFormat, bytes), kFormat.what);
  CatalogImage image;
  if (body.GetBool()) image.cluster = GetCluster(body);
  image.nodes =
      GetSorted<NodeRecord>(body, kMinNodeBytes, "node", GetNode, [](const NodeRecord& node) { return node.node_id; });
  image.groups = GetSorted<ColocationRecord>(body, kMinGroupBytes, "colocation group", GetGroup,
                                             [](const ColocationRecord& group) { return group.colocation_id; });
  image.tables = GetSorted<TableRecord>(body, kMinTableBytes, "table", GetTable,
                                        [](const TableRecord& table) { return table.table_id; });
  body.ExpectEnd();
  return image;
}

}  // namespace phantom::metadata
