#include "core/metadata/catalog_image.hpp"

#include <gtest/gtest.h>

#include "frame_damage.hpp"

#include "metadata_samples.hpp"

#include <algorithm>
#include <cstdint>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "allocation_probe.hpp"
#include "apply_next.hpp"
#include "core/common/byte_buffer.hpp"
#include "core/common/crc32c.hpp"
#include "core/common/error.hpp"
#include "core/sharding/shard_map.hpp"
#include "in_memory_catalog.hpp"

namespace phantom::metadata {
namespace {

using namespace std::string_literals;

constexpr const char* kCorrupted = "catalog image is corrupted: ";

// A node with a heartbeat, so that the image must carry it.
NodeRecord HeardNode(NodeId node_id, const std::string& host) {
  NodeRecord node = Node(node_id, host);
  node.last_heartbeat_us = 1000 * int64_t{node_id};
  return node;
}

// Cluster 0x11 with nodes 1..3 (node 2 suspect), group 1 with two tables, a
// reference table, built through the log as every replica builds it.
InMemoryCatalog Populated() {
  InMemoryCatalog catalog;
  ApplyNext(catalog, CreateCluster{IdOf(0x11), HeardNode(1, "a")});
  ApplyNext(catalog, AddNode{HeardNode(2, "b")});
  ApplyNext(catalog, AddNode{HeardNode(3, "::1")});
  ApplyNext(catalog, SetNodeState{2, NodeState::kActive, NodeState::kSuspect, 77});
  ApplyNext(catalog, CreateDistributedTable{HashTable(1, "orders", 1, 4, 102008), ColocationRecord{1, 4, "bigint", 1}});
  ApplyNext(catalog, CreateDistributedTable{HashTable(2, "items", 1, 4, 102012), std::nullopt});
  ApplyNext(catalog, CreateDistributedTable{ReferenceTable(3, "countries", 102016), std::nullopt});
  return catalog;
}

// Another cluster's catalog, overlapping the first in ids.
InMemoryCatalog Other() {
  InMemoryCatalog catalog;
  ApplyNext(catalog, CreateCluster{IdOf(0x22), HeardNode(1, "x")});
  ApplyNext(catalog, AddNode{HeardNode(2, "y")});
  ApplyNext(catalog, AddNode{HeardNode(3, "z")});
  ApplyNext(catalog, AddNode{HeardNode(7, "w")});
  ApplyNext(catalog, CreateDistributedTable{HashTable(1, "events", 5, 2, 900), ColocationRecord{5, 2, "text", 1}});
  return catalog;
}

// An image with every field away from its default, extremes included.
CatalogImage Extremes() {
  CatalogImage image;
  ClusterRecord cluster;
  cluster.cluster_id = IdOf(0xFE);
  cluster.next_node_id = INT32_MAX;
  cluster.next_table_id = INT64_MAX;
  cluster.next_shard_id = INT64_MIN;
  cluster.next_colocation_id = -3;
  cluster.metadata_version = INT64_MAX;
  image.cluster = cluster;
  NodeRecord node = HeardNode(INT32_MIN, std::string("h\0st", 4));
  node.name = "\xE6\x97\xA5\xE6\x9C\xAC";
  node.role = NodeRole::kReplica;
  node.state = NodeState::kDrained;
  node.last_heartbeat_us = INT64_MIN;
  image.nodes = {node, HeardNode(INT32_MAX, "")};
  image.groups = {ColocationRecord{-1, INT32_MAX, "", INT32_MIN}, ColocationRecord{0, 0, "numeric(10,2)", 0}};
  TableRecord empty;
  empty.table_id = INT64_MIN;
  image.tables = {empty, ReferenceTable(INT64_MAX, "\xF0\x9F\x90\x98", INT64_MIN)};
  return image;
}

std::vector<CatalogImage> SampleImages() {
  InMemoryCatalog populated = Populated();
  CatalogImage no_cluster;
  no_cluster.nodes = {HeardNode(1, "orphan")};  // no catalog holds this, but the codec need not care
  return {CatalogImage{}, ReadImage(populated), Extremes(), no_cluster};
}

// The error for bytes that must not decode; returns the problem.
std::string DecodeProblem(std::string_view bytes) {
  try {
    DecodeImage(bytes);
    ADD_FAILURE() << "decoded an image from corrupted bytes";
  } catch (const Error& error) {
    EXPECT_EQ(error.Sqlstate(), sqlstate::kDataCorrupted) << error.Message();
    EXPECT_EQ(error.Message().rfind(kCorrupted, 0), 0u) << error.Message();
    EXPECT_EQ(error.Detail(), "");
    EXPECT_EQ(error.Hint(), "");
    return error.Message().substr(std::min(error.Message().size(), std::string(kCorrupted).size()));
  }
  return "";
}

// A frame around any body, with a valid checksum.
std::string Frame(uint8_t version, const std::string& body) {
  ByteWriter out;
  out.PutBytes("PHMI");
  out.PutU8(version);
  out.PutBytes(body);
  out.PutU32(Crc32c(out.Bytes()));
  return out.Take();
}

std::string NodeBytes(const NodeRecord& node) {
  ByteWriter out;
  out.PutI32(node.node_id);
  out.PutString(node.name);
  out.PutString(node.host);
  out.PutI32(node.port);
  out.PutString(node.region);
  out.PutU8(static_cast<uint8_t>(node.role));
  out.PutU8(static_cast<uint8_t>(node.state));
  out.PutI64(node.last_heartbeat_us);
  return out.Take();
}

std::string GroupBytes(const ColocationRecord& group) {
  ByteWriter out;
  out.PutI32(group.colocation_id);
  out.PutI32(group.shard_count);
  out.PutString(group.distribution_type);
  out.PutI32(group.replication_factor);
  return out.Take();
}

std::string TableBytes(const TableRecord& table) {
  ByteWriter out;
  out.PutI64(table.table_id);
  out.PutString(table.schema_name);
  out.PutString(table.table_name);
  out.PutU8(static_cast<uint8_t>(table.method));
  out.PutString(table.distribution_column);
  out.PutI32(table.colocation_id);
  out.PutU32(static_cast<uint32_t>(table.shards.size()));
  for (const ShardRecord& shard : table.shards) {
    out.PutI64(shard.shard_id);
    out.PutI32(shard.shard_index);
    out.PutI32(shard.hash_min);
    out.PutI32(shard.hash_max);
    out.PutU32(static_cast<uint32_t>(shard.placements.size()));
    for (NodeId node : shard.placements) out.PutI32(node);
  }
  return out.Take();
}

// The documented layout, field by field.
std::string Body(const CatalogImage& image) {
  ByteWriter out;
  out.PutBool(image.cluster.has_value());
  if (image.cluster) {
    const ClusterRecord& cluster = *image.cluster;
    out.PutBytes(std::string(reinterpret_cast<const char*>(cluster.cluster_id.data()), cluster.cluster_id.size()));
    out.PutI32(cluster.next_node_id);
    out.PutI64(cluster.next_table_id);
    out.PutI64(cluster.next_shard_id);
    out.PutI32(cluster.next_colocation_id);
    out.PutI64(cluster.metadata_version);
  }
  out.PutU32(static_cast<uint32_t>(image.nodes.size()));
  for (const NodeRecord& node : image.nodes) out.PutBytes(NodeBytes(node));
  out.PutU32(static_cast<uint32_t>(image.groups.size()));
  for (const ColocationRecord& group : image.groups) out.PutBytes(GroupBytes(group));
  out.PutU32(static_cast<uint32_t>(image.tables.size()));
  for (const TableRecord& table : image.tables) out.PutBytes(TableBytes(table));
  return out.Take();
}

TEST(CatalogImageCodecTest, RoundTrips) {
  for (const CatalogImage& image : SampleImages()) {
    const std::string encoded = EncodeImage(image);
    EXPECT_EQ(DecodeImage(encoded), image);
    EXPECT_EQ(EncodeImage(DecodeImage(encoded)), encoded);
  }
}

TEST(CatalogImageCodecTest, Layout) {
  for (const CatalogImage& image : SampleImages()) EXPECT_EQ(EncodeImage(image), Frame(1, Body(image)));
}

TEST(CatalogImageCodecTest, GoldenEmptyImage) {
  const std::string body = "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"s;
  const std::string encoded = EncodeImage(CatalogImage{});
  EXPECT_EQ(encoded.substr(0, 5 + body.size()), "PHMI\x01"s + body);
  EXPECT_EQ(encoded, Frame(1, body));
}

TEST(CatalogImageCodecTest, EverySingleByteCorruptionIsRejected) {
  for (const CatalogImage& image : SampleImages()) {
    const std::string encoded = EncodeImage(image);
    ExpectEveryByteFlipRefused(encoded, kCatalogImageFormatVersion, DecodeProblem);
  }
}

TEST(CatalogImageCodecTest, EveryTruncationIsRejected) {
  for (const CatalogImage& image : SampleImages()) {
    const std::string encoded = EncodeImage(image);
    for (size_t length = 0; length < encoded.size(); length++) {
      SCOPED_TRACE("length " + std::to_string(length));
      EXPECT_EQ(DecodeProblem(std::string_view(encoded).substr(0, length)),
                length < 22 ? std::to_string(length) + " byte(s) is shorter than the smallest catalog image"
                            : "checksum mismatch");
    }
  }
}

// Under a valid checksum: a body a byte short or long, or a bad flag.
TEST(CatalogImageCodecTest, TheBodyMustBeExactlyConsumed) {
  for (const CatalogImage& image : SampleImages()) {
    const std::string body = Body(image);
    EXPECT_EQ(DecodeProblem(Frame(1, body + "\x00"s)), "1 unexpected trailing byte(s)");
    if (body.size() > 13) {  // else too short for any image, which is named as such
      const std::string problem = DecodeProblem(Frame(1, body.substr(0, body.size() - 1)));
      // Short of a field, or of a counted list's elements.
      EXPECT_TRUE(problem.rfind("needs ", 0) == 0 || problem.find(" cannot fit in the ") != std::string::npos)
          << problem;
    }
  }
  EXPECT_EQ(DecodeProblem(Frame(1, "\x02"s + std::string(12, '\0'))), "boolean byte 2 at offset 0");
}

TEST(CatalogImageCodecTest, EnumsOutOfRangeAreRejected) {
  NodeRecord node = HeardNode(1, "a");
  std::string bytes = NodeBytes(node);
  bytes[bytes.size() - 9] = 6;  // the state
  EXPECT_EQ(DecodeProblem(Frame(1, "\x00\x01\x00\x00\x00"s + bytes + std::string(8, '\0'))), "unknown node state 6");
  std::string table = TableBytes(ReferenceTable(1, "r", 1));
  table[8 + 4 + 6 + 4 + 1] = 2;  // the method, after id, "public" and "r"
  EXPECT_EQ(DecodeProblem(Frame(1, "\x00"s + std::string(8, '\0') + "\x01\x00\x00\x00"s + table)),
            "unknown distribution method 2");
}

// Ids must strictly ascend: the image promises id order, and a duplicate
// would break the restored keys.
TEST(CatalogImageCodecTest, RecordsOutOfOrderAreRejected) {
  CatalogImage image;
  image.nodes = {HeardNode(2, "b"), HeardNode(1, "a")};
  EXPECT_EQ(DecodeProblem(Frame(1, Body(image))), "node id 1 follows 2");
  image.nodes = {HeardNode(2, "b"), HeardNode(2, "a")};
  EXPECT_EQ(DecodeProblem(Frame(1, Body(image))), "node id 2 follows 2");
  image.nodes.clear();
  image.groups = {ColocationRecord{3, 1, "int", 1}, ColocationRecord{3, 1, "int", 1}};
  EXPECT_EQ(DecodeProblem(Frame(1, Body(image))), "colocation group id 3 follows 3");
  image.groups.clear();
  image.tables = {ReferenceTable(9, "a", 1), ReferenceTable(-9, "b", 2)};
  EXPECT_EQ(DecodeProblem(Frame(1, Body(image))), "table id -9 follows 9");
}

TEST(CatalogImageCodecTest, HugeCountsAreRejectedWithoutAllocating) {
  const std::string huge = "\xFF\xFF\xFF\xFF"s;
  const std::string nodes = Frame(1, "\x00"s + huge + std::string(8, '\0'));
  const std::string groups = Frame(1, "\x00"s + std::string(4, '\0') + huge + std::string(4, '\0'));
  const std::string tables = Frame(1, "\x00"s + std::string(8, '\0') + huge);
  AllocationProbe probe;
  EXPECT_EQ(DecodeProblem(nodes), "4294967295 node(s) cannot fit in the 8 byte(s) left");
  EXPECT_EQ(DecodeProblem(groups), "4294967295 colocation group(s) cannot fit in the 4 byte(s) left");
  EXPECT_EQ(DecodeProblem(tables), "4294967295 table(s) cannot fit in the 0 byte(s) left");
  EXPECT_LT(probe.LargestBytes(), 4096u);
}

TEST(CatalogImageCodecTest, RandomDamageIsRejected) {
  std::mt19937 random(77);
  const std::vector<CatalogImage> images = SampleImages();
  for (int round = 0; round < 2000; round++) {
    const CatalogImage& image = images[random() % images.size()];
    std::string bytes = EncodeImage(image);
    const int damage = 1 + static_cast<int>(random() % 8);
    for (int i = 0; i < damage; i++) bytes[random() % bytes.size()] = static_cast<char>(random());
    try {
      EXPECT_EQ(DecodeImage(bytes), image) << "round " << round;  // damage may rewrite a byte to itself
    } catch (const Error& error) {
      EXPECT_EQ(error.Sqlstate(), sqlstate::kDataCorrupted);
    }
  }
}

TEST(CatalogImageTest, ReadImageTakesEveryRow) {
  InMemoryCatalog catalog = Populated();
  const CatalogImage image = ReadImage(catalog);
  EXPECT_EQ(image.cluster, catalog.cluster);
  EXPECT_EQ(image.nodes, catalog.nodes);
  EXPECT_EQ(image.groups, catalog.groups);
  EXPECT_EQ(image.tables, catalog.tables);
  ASSERT_TRUE(image.cluster);
  EXPECT_EQ(image.cluster->metadata_version, 6);  // six versioned entries; the SetNodeState did not count
  EXPECT_EQ(image.nodes[1].state, NodeState::kSuspect);
  EXPECT_EQ(image.tables.size(), 3u);
  EXPECT_EQ(catalog.writes, Populated().writes) << "reading wrote";
  InMemoryCatalog empty;
  EXPECT_EQ(ReadImage(empty), CatalogImage{});
}

// A snapshot installed on a node that holds another catalog: nothing of the
// old one survives, and the log goes on from the image.
TEST(CatalogImageTest, RestoreReplacesEverything) {
  InMemoryCatalog source = Populated();
  const CatalogImage image = DecodeImage(EncodeImage(ReadImage(source)));
  InMemoryCatalog target = Other();
  RestoreImage(target, image);
  EXPECT_EQ(target, source);
  EXPECT_EQ(ReadImage(target), image);
  // Both apply the next entries alike.
  for (InMemoryCatalog* catalog : {&source, &target}) {
    ApplyNext(*catalog, AddNode{HeardNode(4, "d")});
    ApplyNext(*catalog, SetNodeState{4, NodeState::kActive, NodeState::kSuspect, 5});
    ApplyNext(*catalog, DropDistributedTable{2});
  }
  EXPECT_EQ(target, source);
  EXPECT_EQ(target.cluster->metadata_version, 8);
}

TEST(CatalogImageTest, RestoringAnEmptyImageEmptiesTheStore) {
  InMemoryCatalog catalog = Populated();
  RestoreImage(catalog, CatalogImage{});
  EXPECT_EQ(catalog, InMemoryCatalog{});
  // And the cluster can be founded on it again.
  ApplyNext(catalog, CreateCluster{IdOf(0x33), HeardNode(1, "n")});
  EXPECT_EQ(catalog.cluster->cluster_id, IdOf(0x33));
}

TEST(CatalogImageTest, RestoringTheSameImageTwiceIsHarmless) {
  InMemoryCatalog catalog = Populated();
  const InMemoryCatalog before = catalog;
  RestoreImage(catalog, ReadImage(catalog));
  EXPECT_EQ(catalog, before);
  RestoreImage(catalog, ReadImage(catalog));
  EXPECT_EQ(catalog, before);
}

// A store that enforces phantomdb's foreign keys, as the SQL catalog does:
// placements name nodes, tables name colocation groups.
class ReferencingCatalog : public InMemoryCatalog {
 public:
  void DeleteAllNodes() override {
    for (const TableRecord& table : tables)
      for (const ShardRecord& shard : table.shards)
        if (!shard.placements.empty()) throw std::logic_error("nodes deleted while placements name them");
    InMemoryCatalog::DeleteAllNodes();
  }

  void DeleteAllColocationGroups() override {
    for (const TableRecord& table : tables)
      if (table.colocation_id != 0) throw std::logic_error("groups deleted while tables name them");
    InMemoryCatalog::DeleteAllColocationGroups();
  }

  void InsertTable(const TableRecord& table) override {
    if (table.colocation_id != 0 && std::none_of(groups.begin(), groups.end(), [&](const ColocationRecord& group) {
          return group.colocation_id == table.colocation_id;
        }))
      throw std::logic_error("table inserted before its group");
    for (const ShardRecord& shard : table.shards)
      for (NodeId id : shard.placements)
        if (std::none_of(nodes.begin(), nodes.end(), [&](const NodeRecord& node) { return node.node_id == id; }))
          throw std::logic_error("placement inserted before its node");
    InMemoryCatalog::InsertTable(table);
  }
};

TEST(CatalogImageTest, RestoreDeletesAndInsertsInForeignKeyOrder) {
  InMemoryCatalog source = Populated();
  ReferencingCatalog target;
  RestoreImage(target, ReadImage(source));
  ApplyNext(target, DropDistributedTable{3});
  InMemoryCatalog other = Other();
  EXPECT_NO_THROW(RestoreImage(target, ReadImage(other)));
  EXPECT_EQ(static_cast<InMemoryCatalog&>(target), other);
}

}  // namespace
}  // namespace phantom::metadata
