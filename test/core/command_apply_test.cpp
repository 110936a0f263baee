#include "core/metadata/command_apply.hpp"

#include <gtest/gtest.h>

#include <limits>
#include <string>

#include "core/common/error.hpp"
#include "core/sharding/shard_map.hpp"
#include "expect_error.hpp"
#include "apply_next.hpp"
#include "in_memory_catalog.hpp"
#include "metadata_samples.hpp"

namespace phantom::metadata {
namespace {

NodeRecord Node(NodeId node_id, const std::string& name, const std::string& host, int32_t port) {
  NodeRecord node;
  node.node_id = node_id;
  node.name = name;
  node.host = host;
  node.port = port;
  node.region = "default";
  node.last_heartbeat_us = 1000 * int64_t{node_id};
  return node;
}

std::string Conflict(const char* command, const std::string& problem) {
  return std::string("metadata command ") + command + " conflicts with the catalog: " + problem;
}

// Cluster 0x11.., founded by node 1 (a:5432) at log index 1, with node 2
// (b:5432) added at index 2.
InMemoryCatalog TwoNodes() {
  InMemoryCatalog catalog;
  ApplyNext(catalog, CreateCluster{IdOf(0x11), Node(1, "a", "a", 5432)});
  ApplyNext(catalog, AddNode{Node(2, "b", "b", 5432)});
  catalog.writes = 0;
  return catalog;
}

// The cluster record a catalog founded by node `self` holds after `version`.
ClusterRecord Founded(const ClusterId& id, NodeId self, int64_t version) {
  ClusterRecord cluster;
  cluster.cluster_id = id;
  cluster.next_node_id = self + 1;
  cluster.metadata_version = version;
  return cluster;
}

// Applies a command that must be rejected, and checks it wrote nothing.
void ExpectRejected(InMemoryCatalog& catalog, const Command& command, const ExpectedError& expected) {
  const InMemoryCatalog before = catalog;
  ExpectError([&] { ApplyNext(catalog, command); }, expected);
  EXPECT_EQ(catalog, before);
  EXPECT_EQ(catalog.writes, 0);
}

TEST(ApplyCreateClusterTest, FoundsTheClusterAndRegistersSelf) {
  InMemoryCatalog catalog;
  const NodeRecord self = Node(1, "a", "a", 5432);
  ApplyNext(catalog, CreateCluster{IdOf(0x11), self});
  ASSERT_TRUE(catalog.cluster);
  EXPECT_EQ(*catalog.cluster, Founded(IdOf(0x11), 1, 1));
  ASSERT_EQ(catalog.nodes.size(), 1u);
  EXPECT_EQ(catalog.nodes[0], self);
  EXPECT_EQ(catalog.writes, 2);  // node, cluster
}

// Decisions hand out node id 1, but apply takes the id the command carries.
TEST(ApplyCreateClusterTest, UsesTheSelfRecordForIds) {
  InMemoryCatalog catalog;
  ApplyNext(catalog, CreateCluster{IdOf(0x22), Node(5, "x", "::1", 6000)});
  EXPECT_EQ(*catalog.cluster, Founded(IdOf(0x22), 5, 1));
}

TEST(ApplyCreateClusterTest, RejectedWhenAClusterExists) {
  const ExpectedError expected{"55000", Conflict("CreateCluster", "the catalog already describes a cluster")};
  InMemoryCatalog catalog = TwoNodes();
  ExpectRejected(catalog, CreateCluster{IdOf(0x33), Node(1, "c", "c", 5432)}, expected);
  // Also once every other row is gone: the cluster record alone counts.
  InMemoryCatalog bare;
  bare.cluster = Founded(IdOf(0x11), 1, 4);
  ExpectRejected(bare, CreateCluster{IdOf(0x11), Node(1, "c", "c", 5432)}, expected);
}

TEST(ApplyAddNodeTest, InsertsTheNodeAndAdvancesNextId) {
  InMemoryCatalog catalog = TwoNodes();
  const NodeRecord node = Node(3, "c", "c", 5432);
  ApplyNext(catalog, AddNode{node});
  ASSERT_EQ(catalog.nodes.size(), 3u);
  EXPECT_EQ(catalog.nodes[2], node);
  EXPECT_EQ(catalog.cluster->next_node_id, 4);
  EXPECT_EQ(catalog.cluster->cluster_id, IdOf(0x11));
  EXPECT_EQ(catalog.writes, 2);  // node, cluster
}

TEST(ApplyAddNodeTest, NextIdNeverMovesBack) {
  InMemoryCatalog catalog = TwoNodes();
  ApplyNext(catalog, AddNode{Node(10, "j", "j", 5432)});
  EXPECT_EQ(catalog.cluster->next_node_id, 11);
  ApplyNext(catalog, AddNode{Node(4, "d", "d", 5432)});
  EXPECT_EQ(catalog.cluster->next_node_id, 11);
}

TEST(ApplyAddNodeTest, RejectedWithoutACluster) {
  InMemoryCatalog catalog;
  ExpectRejected(catalog, AddNode{Node(1, "a", "a", 5432)},
                 {"55000", Conflict("AddNode", "the catalog describes no cluster")});
}

TEST(ApplyAddNodeTest, RejectsATakenId) {
  InMemoryCatalog catalog = TwoNodes();
  ExpectRejected(catalog, AddNode{Node(2, "c", "c", 5432)}, {"55000", Conflict("AddNode", "node id 2 is taken")});
}

TEST(ApplyAddNodeTest, RejectsATakenName) {
  InMemoryCatalog catalog = TwoNodes();
  ExpectRejected(catalog, AddNode{Node(3, "b", "c", 5432)}, {"55000", Conflict("AddNode", "node name \"b\" is taken")});
}

TEST(ApplyAddNodeTest, RejectsATakenAddress) {
  InMemoryCatalog catalog = TwoNodes();
  ExpectRejected(catalog, AddNode{Node(3, "c", "b", 5432)},
                 {"55000", Conflict("AddNode", "b:5432 is already registered")});
}

TEST(ApplyAddNodeTest, SameHostOtherPortIsANewAddress) {
  InMemoryCatalog catalog = TwoNodes();
  ApplyNext(catalog, AddNode{Node(3, "c", "b", 5433)});
  EXPECT_EQ(catalog.nodes.size(), 3u);
}

TEST(ApplyRemoveNodeTest, DeletesTheNodeAndKeepsNextId) {
  InMemoryCatalog catalog = TwoNodes();
  ApplyNext(catalog, RemoveNode{2});
  ASSERT_EQ(catalog.nodes.size(), 1u);
  EXPECT_EQ(catalog.nodes[0].node_id, 1);
  EXPECT_EQ(catalog.cluster->next_node_id, 3);
}

TEST(ApplyRemoveNodeTest, RejectsAnUnknownNode) {
  InMemoryCatalog catalog = TwoNodes();
  ExpectRejected(catalog, RemoveNode{9}, {"42704", "metadata command RemoveNode names unknown node id 9"});
}

TEST(ApplyRemoveNodeTest, RejectsTheLastNode) {
  InMemoryCatalog catalog = TwoNodes();
  ApplyNext(catalog, RemoveNode{2});
  catalog.writes = 0;
  ExpectRejected(catalog, RemoveNode{1}, {"55000", Conflict("RemoveNode", "node id 1 is the last node")});
}

TEST(ApplyTest, TheSameCommandsMakeTheSameCatalog) {
  const std::vector<Command> log = {CreateCluster{IdOf(0x11), Node(1, "a", "a", 5432)},
                                    AddNode{Node(2, "b", "b", 5432)}, AddNode{Node(3, "c", "c", 5432)}, RemoveNode{2},
                                    AddNode{Node(4, "d", "d", 5432)}};
  InMemoryCatalog first;
  InMemoryCatalog second;
  for (const Command& command : log) ApplyNext(first, command);
  for (const Command& command : log) ApplyNext(second, command);
  EXPECT_EQ(first, second);
  ASSERT_EQ(first.nodes.size(), 3u);
  EXPECT_EQ(first.nodes[0].node_id, 1);
  EXPECT_EQ(first.nodes[1].node_id, 3);
  EXPECT_EQ(first.nodes[2].node_id, 4);
  EXPECT_EQ(first.cluster->next_node_id, 5);
}

TEST(ApplyCreateClusterTest, RejectedEvenForTheSameCommandTwice) {
  InMemoryCatalog catalog;
  const CreateCluster create{IdOf(0x11), Node(1, "a", "a", 5432)};
  ApplyNext(catalog, create);
  catalog.writes = 0;
  ExpectRejected(catalog, create, {"55000", Conflict("CreateCluster", "the catalog already describes a cluster")});
}

// Each row is checked for id, then name, then address: a node clashing with
// one row on all three is reported by its id.
TEST(ApplyAddNodeTest, NamesTheFirstClash) {
  InMemoryCatalog catalog = TwoNodes();
  ExpectRejected(catalog, AddNode{Node(2, "b", "b", 5432)}, {"55000", Conflict("AddNode", "node id 2 is taken")});
  ExpectRejected(catalog, AddNode{Node(9, "b", "b", 5432)}, {"55000", Conflict("AddNode", "node name \"b\" is taken")});
  // Clashing with node 1 by address and node 2 by name: node 1 comes first.
  ExpectRejected(catalog, AddNode{Node(9, "b", "a", 5432)},
                 {"55000", Conflict("AddNode", "a:5432 is already registered")});
  ExpectRejected(catalog, AddNode{Node(9, "z", "b", 5432)},
                 {"55000", Conflict("AddNode", "b:5432 is already registered")});
}

TEST(ApplyAddNodeTest, AnIpv6AddressClashIsBracketed) {
  InMemoryCatalog catalog = TwoNodes();
  ApplyNext(catalog, AddNode{Node(3, "v6", "::1", 5433)});
  catalog.writes = 0;
  ExpectRejected(catalog, AddNode{Node(4, "other", "::1", 5433)},
                 {"55000", Conflict("AddNode", "[::1]:5433 is already registered")});
}

TEST(ApplyRemoveNodeTest, RejectedWithoutNodes) {
  const ExpectedError expected{"42704", "metadata command RemoveNode names unknown node id 1"};
  InMemoryCatalog fresh;
  ExpectRejected(fresh, RemoveNode{1}, expected);
}

TEST(ApplyRemoveNodeTest, ARemovedNodeIsUnknownAfterwards) {
  InMemoryCatalog catalog = TwoNodes();
  ApplyNext(catalog, AddNode{Node(3, "c", "c", 5432)});
  ApplyNext(catalog, RemoveNode{2});
  catalog.writes = 0;
  ExpectRejected(catalog, RemoveNode{2}, {"42704", "metadata command RemoveNode names unknown node id 2"});
  // Its name and address are free again; its id is not handed out again.
  ApplyNext(catalog, AddNode{Node(4, "b", "b", 5432)});
  EXPECT_EQ(catalog.cluster->next_node_id, 5);
}

TEST(ApplyTest, RejectsNodeIdsOutOfRange) {
  InMemoryCatalog empty;
  for (NodeId bad : {0, -1, std::numeric_limits<NodeId>::max()}) {
    ExpectRejected(empty, CreateCluster{IdOf(0x11), Node(bad, "a", "a", 5432)},
                   {"55000", Conflict("CreateCluster", "node id " + std::to_string(bad) + " is out of range")});
    InMemoryCatalog catalog = TwoNodes();
    ExpectRejected(catalog, AddNode{Node(bad, "c", "c", 5432)},
                   {"55000", Conflict("AddNode", "node id " + std::to_string(bad) + " is out of range")});
  }
}

// Distributed and reference tables, on a catalog with nodes 1, 2, 3.

InMemoryCatalog ThreeNodes() {
  InMemoryCatalog catalog = TwoNodes();
  ApplyNext(catalog, AddNode{Node(3, "c", "c", 5432)});
  catalog.writes = 0;
  return catalog;
}

ColocationRecord Group(ColocationId id, int32_t shard_count, int32_t replication_factor = 1) {
  return ColocationRecord{id, shard_count, "bigint", replication_factor};
}

// Founds group 1 with "orders" (table 1, shards 102008..102011) and joins
// "items" (table 2, shards 102012..102015) to it.
InMemoryCatalog WithTables() {
  InMemoryCatalog catalog = ThreeNodes();
  ApplyNext(catalog, CreateDistributedTable{HashTable(1, "orders", 1, 4, 102008), Group(1, 4)});
  ApplyNext(catalog, CreateDistributedTable{HashTable(2, "items", 1, 4, 102012), std::nullopt});
  catalog.writes = 0;
  return catalog;
}

void ExpectCreateRejected(InMemoryCatalog& catalog, const CreateDistributedTable& create, const std::string& problem) {
  ExpectRejected(catalog, create, {"55000", Conflict("CreateDistributedTable", problem)});
}

TEST(ApplyCreateDistributedTableTest, FoundsAGroup) {
  InMemoryCatalog catalog = ThreeNodes();
  const TableRecord orders = HashTable(1, "orders", 1, 4, 102008);
  ApplyNext(catalog, CreateDistributedTable{orders, Group(1, 4)});
  EXPECT_EQ(catalog.groups, std::vector<ColocationRecord>{Group(1, 4)});
  EXPECT_EQ(catalog.tables, std::vector<TableRecord>{orders});
  EXPECT_EQ(catalog.cluster->next_table_id, 2);
  EXPECT_EQ(catalog.cluster->next_shard_id, 102012);
  EXPECT_EQ(catalog.cluster->next_colocation_id, 2);
  EXPECT_EQ(catalog.cluster->next_node_id, 4);
  EXPECT_EQ(catalog.writes, 3);  // group, table, cluster
}

TEST(ApplyCreateDistributedTableTest, JoinsAGroup) {
  InMemoryCatalog catalog = WithTables();
  ASSERT_EQ(catalog.tables.size(), 2u);
  EXPECT_EQ(catalog.groups, std::vector<ColocationRecord>{Group(1, 4)});
  EXPECT_EQ(catalog.tables[1], HashTable(2, "items", 1, 4, 102012));
  EXPECT_EQ(catalog.cluster->next_table_id, 3);
  EXPECT_EQ(catalog.cluster->next_shard_id, 102016);
  EXPECT_EQ(catalog.cluster->next_colocation_id, 2);
}

TEST(ApplyCreateDistributedTableTest, ASecondGroupAndReplicas) {
  InMemoryCatalog catalog = WithTables();
  const TableRecord events = HashTable(7, "events", 4, 3, 200000, 2, 1);
  ApplyNext(catalog, CreateDistributedTable{events, Group(4, 3, 2)});
  EXPECT_EQ(catalog.groups, (std::vector<ColocationRecord>{Group(1, 4), Group(4, 3, 2)}));
  EXPECT_EQ(catalog.tables.back(), events);
  EXPECT_EQ(catalog.cluster->next_table_id, 8);
  EXPECT_EQ(catalog.cluster->next_shard_id, 200003);
  EXPECT_EQ(catalog.cluster->next_colocation_id, 5);
}

TEST(ApplyCreateDistributedTableTest, NextIdsNeverMoveBack) {
  InMemoryCatalog catalog = ThreeNodes();
  ApplyNext(catalog, CreateDistributedTable{HashTable(10, "late", 9, 2, 500000), Group(9, 2)});
  ApplyNext(catalog, CreateDistributedTable{HashTable(3, "early", 2, 2, 300), Group(2, 2)});
  EXPECT_EQ(catalog.cluster->next_table_id, 11);
  EXPECT_EQ(catalog.cluster->next_shard_id, 500002);
  EXPECT_EQ(catalog.cluster->next_colocation_id, 10);
  // Below the initial next_shard_id as well.
  EXPECT_EQ(ThreeNodes().cluster->next_shard_id, 102008);
}

TEST(ApplyCreateDistributedTableTest, AReferenceTable) {
  InMemoryCatalog catalog = WithTables();
  const TableRecord countries = ReferenceTable(3, "countries", 102016);
  ApplyNext(catalog, CreateDistributedTable{countries, std::nullopt});
  EXPECT_EQ(catalog.tables.back(), countries);
  EXPECT_EQ(catalog.groups, std::vector<ColocationRecord>{Group(1, 4)});
  EXPECT_EQ(catalog.cluster->next_table_id, 4);
  EXPECT_EQ(catalog.cluster->next_shard_id, 102017);
  EXPECT_EQ(catalog.cluster->next_colocation_id, 2);
  EXPECT_EQ(catalog.writes, 2);  // table, cluster
}

TEST(ApplyCreateDistributedTableTest, RejectedWithoutACluster) {
  InMemoryCatalog fresh;
  ExpectCreateRejected(fresh, CreateDistributedTable{HashTable(1, "orders", 1, 4, 102008), Group(1, 4)},
                       "the catalog describes no cluster");
}

TEST(ApplyCreateDistributedTableTest, RejectsTableIdsOutOfRangeOrTaken) {
  InMemoryCatalog catalog = WithTables();
  for (TableId bad : {TableId{0}, TableId{-1}, std::numeric_limits<TableId>::max()})
    ExpectCreateRejected(catalog, CreateDistributedTable{HashTable(bad, "t", 2, 4, 900), Group(2, 4)},
                         "table id " + std::to_string(bad) + " is out of range");
  ExpectCreateRejected(catalog, CreateDistributedTable{HashTable(2, "t", 2, 4, 900), Group(2, 4)},
                       "table id 2 is taken");
}

TEST(ApplyCreateDistributedTableTest, RejectsATakenName) {
  InMemoryCatalog catalog = WithTables();
  ExpectCreateRejected(catalog, CreateDistributedTable{HashTable(3, "items", 2, 4, 900), Group(2, 4)},
                       "table \"public\".\"items\" is already distributed");
  // Another schema is another table.
  TableRecord other = HashTable(3, "items", 2, 4, 900);
  other.schema_name = "archive";
  ApplyNext(catalog, CreateDistributedTable{other, Group(2, 4)});
  EXPECT_EQ(catalog.tables.size(), 3u);
}

TEST(ApplyCreateDistributedTableTest, RejectsBadDistributionColumns) {
  InMemoryCatalog catalog = WithTables();
  TableRecord hash = HashTable(3, "t", 2, 4, 900);
  hash.distribution_column.clear();
  ExpectCreateRejected(catalog, CreateDistributedTable{hash, Group(2, 4)},
                       "a hash-distributed table needs a distribution column");
  TableRecord reference = ReferenceTable(3, "r", 900);
  reference.distribution_column = "id";
  ExpectCreateRejected(catalog, CreateDistributedTable{reference, std::nullopt},
                       "a reference table has no distribution column");
}

TEST(ApplyCreateDistributedTableTest, RejectsBadShards) {
  InMemoryCatalog catalog = WithTables();
  TableRecord table = HashTable(3, "t", 2, 4, 900);

  TableRecord empty = table;
  empty.shards.clear();
  ExpectCreateRejected(catalog, CreateDistributedTable{empty, Group(2, 0)}, "the table has no shards");

  for (ShardId bad : {ShardId{0}, ShardId{-5}, std::numeric_limits<ShardId>::max()}) {
    TableRecord bad_id = table;
    bad_id.shards[2].shard_id = bad;
    ExpectCreateRejected(catalog, CreateDistributedTable{bad_id, Group(2, 4)},
                         "shard id " + std::to_string(bad) + " is out of range");
  }

  TableRecord twice = table;
  twice.shards[3].shard_id = 901;
  ExpectCreateRejected(catalog, CreateDistributedTable{twice, Group(2, 4)}, "shard id 901 appears twice");

  TableRecord taken = table;
  taken.shards[3].shard_id = 102013;
  ExpectCreateRejected(catalog, CreateDistributedTable{taken, Group(2, 4)}, "shard id 102013 is taken by table id 2");

  TableRecord swapped = table;
  std::swap(swapped.shards[1].shard_index, swapped.shards[2].shard_index);
  ExpectCreateRejected(catalog, CreateDistributedTable{swapped, Group(2, 4)}, "shard 901 has index 2, expected 1");

  TableRecord unplaced = table;
  unplaced.shards[0].placements.clear();
  ExpectCreateRejected(catalog, CreateDistributedTable{unplaced, Group(2, 4)}, "shard 900 has no placement");

  TableRecord unknown_node = table;
  unknown_node.shards[1].placements = {9};
  ExpectCreateRejected(catalog, CreateDistributedTable{unknown_node, Group(2, 4)},
                       "shard 901 is placed on unknown node id 9");

  TableRecord doubled = HashTable(3, "t", 2, 4, 900, 2);
  doubled.shards[1].placements = {3, 3};
  ExpectCreateRejected(catalog, CreateDistributedTable{doubled, Group(2, 4, 2)},
                       "shard 901 is placed twice on node id 3");
}

TEST(ApplyCreateDistributedTableTest, RejectsRangesThatDoNotTileTheSpace) {
  InMemoryCatalog catalog = WithTables();
  const TableRecord table = HashTable(3, "t", 2, 4, 900);
  TableRecord gap = table;
  gap.shards[1].hash_min += 1;
  ExpectCreateRejected(catalog, CreateDistributedTable{gap, Group(2, 4)},
                       "shard 901 covers -1073741823..-1, expected -1073741824..-1");
  TableRecord short_end = table;
  short_end.shards[3].hash_max -= 1;
  ExpectCreateRejected(catalog, CreateDistributedTable{short_end, Group(2, 4)},
                       "shard 903 covers 1073741824..2147483646, expected 1073741824..2147483647");
  TableRecord reversed = table;
  std::swap(reversed.shards[0].hash_min, reversed.shards[3].hash_min);
  std::swap(reversed.shards[0].hash_max, reversed.shards[3].hash_max);
  ExpectCreateRejected(catalog, CreateDistributedTable{reversed, Group(2, 4)},
                       "shard 900 covers 1073741824..2147483647, expected -2147483648..-1073741825");
}

TEST(ApplyCreateDistributedTableTest, RejectsTooManyShards) {
  InMemoryCatalog catalog = WithTables();
  TableRecord table = HashTable(3, "t", 2, 4096, 900);
  table.shards.push_back(ShardRecord{900 + 4096, 4096, INT32_MAX, INT32_MAX, {1}});
  ExpectCreateRejected(catalog, CreateDistributedTable{table, Group(2, 4097)}, "4097 shards exceed the limit of 4096");
}

TEST(ApplyCreateDistributedTableTest, RejectsBadNewGroups) {
  InMemoryCatalog catalog = WithTables();
  for (ColocationId bad : {0, -1, std::numeric_limits<ColocationId>::max()})
    ExpectCreateRejected(catalog, CreateDistributedTable{HashTable(3, "t", bad, 4, 900), Group(bad, 4)},
                         "colocation id " + std::to_string(bad) + " is out of range");
  ExpectCreateRejected(catalog, CreateDistributedTable{HashTable(3, "t", 2, 4, 900), Group(3, 4)},
                       "the new colocation group 3 is not the table's colocation group 2");
  ExpectCreateRejected(catalog, CreateDistributedTable{HashTable(3, "t", 1, 4, 900), Group(1, 4)},
                       "colocation group 1 already exists");
  ExpectCreateRejected(catalog, CreateDistributedTable{HashTable(3, "t", 2, 4, 900), Group(2, 8)},
                       "colocation group 2 has 8 shards, the table 4");
  ExpectCreateRejected(catalog, CreateDistributedTable{HashTable(3, "t", 2, 4, 900), Group(2, 4, 2)},
                       "shard 900 has 1 placement(s), the replication factor is 2");
}

TEST(ApplyCreateDistributedTableTest, RejectsBadJoins) {
  InMemoryCatalog catalog = WithTables();
  ExpectCreateRejected(catalog, CreateDistributedTable{HashTable(3, "t", 2, 4, 900), std::nullopt},
                       "colocation group 2 does not exist");
  ExpectCreateRejected(catalog, CreateDistributedTable{HashTable(3, "t", 1, 8, 900), std::nullopt},
                       "colocation group 1 has 4 shards, the table 8");
  // Shard i must be where shard i of the group's tables is.
  ExpectCreateRejected(catalog, CreateDistributedTable{HashTable(3, "t", 1, 4, 900, 1, 1), std::nullopt},
                       "shard 900 is not placed like shard 102008 of colocated table id 1");
  TableRecord extra_replica = HashTable(3, "t", 1, 4, 900);
  extra_replica.shards[2].placements.push_back(1);
  ExpectCreateRejected(catalog, CreateDistributedTable{extra_replica, std::nullopt},
                       "shard 902 is not placed like shard 102010 of colocated table id 1");
}

TEST(ApplyCreateDistributedTableTest, RejectsBadReferenceTables) {
  InMemoryCatalog catalog = WithTables();
  TableRecord grouped = ReferenceTable(3, "r", 900);
  grouped.colocation_id = 1;
  ExpectCreateRejected(catalog, CreateDistributedTable{grouped, std::nullopt},
                       "a reference table has no colocation group, not 1");
  ExpectCreateRejected(catalog, CreateDistributedTable{ReferenceTable(3, "r", 900), ColocationRecord{}},
                       "a reference table founds no colocation group");
  TableRecord two = HashTable(3, "r", 0, 2, 900);
  two.method = DistributionMethod::kReference;
  two.distribution_column.clear();
  ExpectCreateRejected(catalog, CreateDistributedTable{two, std::nullopt}, "a reference table has one shard, not 2");
  TableRecord partial = ReferenceTable(3, "r", 900);
  partial.shards[0].hash_min = 0;
  ExpectCreateRejected(catalog, CreateDistributedTable{partial, std::nullopt},
                       "shard 900 covers 0..2147483647, expected -2147483648..2147483647");
  TableRecord unplaced = ReferenceTable(3, "r", 900);
  unplaced.shards[0].placements.clear();
  ExpectCreateRejected(catalog, CreateDistributedTable{unplaced, std::nullopt}, "shard 900 has no placement");
}

TEST(ApplyDropDistributedTableTest, KeepsTheGroupWhileATableRemains) {
  InMemoryCatalog catalog = WithTables();
  ApplyNext(catalog, DropDistributedTable{1});
  ASSERT_EQ(catalog.tables.size(), 1u);
  EXPECT_EQ(catalog.tables[0].table_id, 2);
  EXPECT_EQ(catalog.groups, std::vector<ColocationRecord>{Group(1, 4)});
  EXPECT_EQ(catalog.writes, 2);  // table, cluster (its version)
}

TEST(ApplyDropDistributedTableTest, ForgetsAnEmptyGroup) {
  InMemoryCatalog catalog = WithTables();
  const ClusterRecord cluster = *catalog.cluster;
  ApplyNext(catalog, DropDistributedTable{2});
  ApplyNext(catalog, DropDistributedTable{1});
  EXPECT_TRUE(catalog.tables.empty());
  EXPECT_TRUE(catalog.groups.empty());
  // Ids are not handed out again; only the version moved, to the last drop.
  ClusterRecord expected = cluster;
  expected.metadata_version = cluster.metadata_version + 2;
  EXPECT_EQ(*catalog.cluster, expected);
  ApplyNext(catalog, CreateDistributedTable{HashTable(3, "orders", 2, 4, 102016), Group(2, 4)});
  EXPECT_EQ(catalog.cluster->next_colocation_id, 3);
}

TEST(ApplyDropDistributedTableTest, AReferenceTableLeavesTheGroupsAlone) {
  InMemoryCatalog catalog = WithTables();
  ApplyNext(catalog, CreateDistributedTable{ReferenceTable(3, "countries", 102016), std::nullopt});
  catalog.writes = 0;
  ApplyNext(catalog, DropDistributedTable{3});
  EXPECT_EQ(catalog.tables.size(), 2u);
  EXPECT_EQ(catalog.groups, std::vector<ColocationRecord>{Group(1, 4)});
  EXPECT_EQ(catalog.writes, 2);  // table, cluster (its version)
}

TEST(ApplyDropDistributedTableTest, RejectsAnUnknownTable) {
  InMemoryCatalog catalog = WithTables();
  ExpectRejected(catalog, DropDistributedTable{9},
                 {"42704", "metadata command DropDistributedTable names unknown table id 9"});
  InMemoryCatalog fresh;
  ExpectRejected(fresh, DropDistributedTable{1},
                 {"42704", "metadata command DropDistributedTable names unknown table id 1"});
}

TEST(ApplyRenameDistributedTableTest, Renames) {
  InMemoryCatalog catalog = WithTables();
  ApplyNext(catalog, RenameDistributedTable{2, "archive", "old_items", "item_id"});
  TableRecord expected = HashTable(2, "old_items", 1, 4, 102012);
  expected.schema_name = "archive";
  expected.distribution_column = "item_id";
  EXPECT_EQ(catalog.tables[1], expected);
  EXPECT_EQ(catalog.writes, 2);  // table, cluster (its version)
  // Keeping its own name is no clash.
  ApplyNext(catalog, RenameDistributedTable{2, "archive", "old_items", "id"});
  EXPECT_EQ(catalog.tables[1].distribution_column, "id");
}

TEST(ApplyRenameDistributedTableTest, RenamesAReferenceTable) {
  InMemoryCatalog catalog = WithTables();
  ApplyNext(catalog, CreateDistributedTable{ReferenceTable(3, "countries", 102016), std::nullopt});
  ApplyNext(catalog, RenameDistributedTable{3, "public", "nations", ""});
  EXPECT_EQ(catalog.tables[2].table_name, "nations");
}

TEST(ApplyRenameDistributedTableTest, Rejections) {
  InMemoryCatalog catalog = WithTables();
  ApplyNext(catalog, CreateDistributedTable{ReferenceTable(3, "countries", 102016), std::nullopt});
  catalog.writes = 0;
  ExpectRejected(catalog, RenameDistributedTable{9, "public", "x", "id"},
                 {"42704", "metadata command RenameDistributedTable names unknown table id 9"});
  ExpectRejected(catalog, RenameDistributedTable{2, "public", "orders", "id"},
                 {"55000", Conflict("RenameDistributedTable", "table \"public\".\"orders\" is already distributed")});
  ExpectRejected(catalog, RenameDistributedTable{2, "public", "items", ""},
                 {"55000", Conflict("RenameDistributedTable", "a hash-distributed table needs a distribution column")});
  ExpectRejected(catalog, RenameDistributedTable{3, "public", "countries", "id"},
                 {"55000", Conflict("RenameDistributedTable", "a reference table has no distribution column")});
}

TEST(ApplyRemoveNodeTest, RefusedWhileTheNodeHoldsPlacements) {
  InMemoryCatalog catalog = WithTables();
  // Round-robin over 1, 2, 3: node 2 holds shard 1 of each table.
  ExpectRejected(catalog, RemoveNode{2},
                 {"55000", Conflict("RemoveNode", "node id 2 still holds 2 shard placement(s)")});
  ApplyNext(catalog, CreateDistributedTable{ReferenceTable(3, "countries", 102016), std::nullopt});
  catalog.writes = 0;
  ExpectRejected(catalog, RemoveNode{1},
                 {"55000", Conflict("RemoveNode", "node id 1 still holds 5 shard placement(s)")});
  ApplyNext(catalog, DropDistributedTable{1});
  ApplyNext(catalog, DropDistributedTable{2});
  ApplyNext(catalog, DropDistributedTable{3});
  ApplyNext(catalog, RemoveNode{2});
  EXPECT_EQ(catalog.nodes.size(), 2u);
}

TEST(ApplyRemoveNodeTest, ANodeWithoutPlacementsMayGo) {
  InMemoryCatalog catalog = ThreeNodes();
  ApplyNext(catalog, AddNode{Node(4, "d", "d", 5432)});
  ApplyNext(catalog, CreateDistributedTable{HashTable(1, "orders", 1, 4, 102008), Group(1, 4)});
  ApplyNext(catalog, RemoveNode{4});
  EXPECT_EQ(catalog.nodes.size(), 3u);
}

// A barrier writes nothing and leaves the version alone: proposals decided
// before it are still accepted after it.
TEST(ApplyMetadataBarrierTest, ChangesNothing) {
  InMemoryCatalog catalog = TwoNodes();
  const InMemoryCatalog before = catalog;
  ApplyNext(catalog, MetadataBarrier{});
  EXPECT_EQ(catalog.cluster, before.cluster);
  EXPECT_EQ(catalog.nodes, before.nodes);
  EXPECT_EQ(catalog.writes, before.writes);
}

// SetNodeState: the failure detector's changes. Versioning is tested in
// metadata_version_test.cpp.

TEST(ApplySetNodeStateTest, ChangesTheStateAndStoresTheHeartbeat) {
  InMemoryCatalog catalog = TwoNodes();
  const InMemoryCatalog before = catalog;
  ApplyNext(catalog, SetNodeState{2, NodeState::kActive, NodeState::kSuspect, 777});
  EXPECT_EQ(catalog.nodes[1].state, NodeState::kSuspect);
  EXPECT_EQ(catalog.nodes[1].last_heartbeat_us, 777);
  // Nothing else: not the node's other fields, not node 1, not the cluster.
  NodeRecord expected = before.nodes[1];
  expected.state = NodeState::kSuspect;
  expected.last_heartbeat_us = 777;
  EXPECT_EQ(catalog.nodes[1], expected);
  EXPECT_EQ(catalog.nodes[0], before.nodes[0]);
  EXPECT_EQ(catalog.cluster, before.cluster);
  EXPECT_EQ(catalog.writes, 1);
}

// "No answer yet" (0) is stored as such, as the leader reported it.
TEST(ApplySetNodeStateTest, StoresAZeroHeartbeat) {
  InMemoryCatalog catalog = TwoNodes();
  ApplyNext(catalog, SetNodeState{2, NodeState::kActive, NodeState::kSuspect, 0});
  ApplyNext(catalog, SetNodeState{2, NodeState::kSuspect, NodeState::kFailed, 0});
  EXPECT_EQ(catalog.nodes[1].state, NodeState::kFailed);
  EXPECT_EQ(catalog.nodes[1].last_heartbeat_us, 0);
  ApplyNext(catalog, SetNodeState{2, NodeState::kFailed, NodeState::kActive, 9000});
  EXPECT_EQ(catalog.nodes[1].state, NodeState::kActive);
  EXPECT_EQ(catalog.nodes[1].last_heartbeat_us, 9000);
}

// A change decided on a state the record no longer has (a deposed leader's,
// or one overtaken by another change) does nothing.
TEST(ApplySetNodeStateTest, RefusedWhenTheStateIsNotTheOneDecidedOn) {
  InMemoryCatalog catalog = TwoNodes();
  ExpectRejected(catalog, SetNodeState{2, NodeState::kSuspect, NodeState::kFailed, 5},
                 {"40001", "node id 2 is active, not suspect as the change to failed assumed"});
  ApplyNext(catalog, SetNodeState{2, NodeState::kActive, NodeState::kSuspect, 5});
  catalog.writes = 0;
  // The same change again: the first one already moved the node.
  ExpectRejected(catalog, SetNodeState{2, NodeState::kActive, NodeState::kSuspect, 6},
                 {"40001", "node id 2 is suspect, not active as the change to suspect assumed"});
  ExpectRejected(catalog, SetNodeState{1, NodeState::kJoining, NodeState::kActive, 6},
                 {"40001", "node id 1 is active, not joining as the change to active assumed"});
}

TEST(ApplySetNodeStateTest, RejectsAnUnknownNode) {
  InMemoryCatalog catalog = TwoNodes();
  ExpectRejected(catalog, SetNodeState{9, NodeState::kActive, NodeState::kSuspect, 5},
                 {"42704", "metadata command SetNodeState names unknown node id 9"});
  ApplyNext(catalog, RemoveNode{2});
  catalog.writes = 0;
  ExpectRejected(catalog, SetNodeState{2, NodeState::kActive, NodeState::kSuspect, 5},
                 {"42704", "metadata command SetNodeState names unknown node id 2"});
  InMemoryCatalog fresh;
  ExpectRejected(fresh, SetNodeState{1, NodeState::kActive, NodeState::kSuspect, 5},
                 {"42704", "metadata command SetNodeState names unknown node id 1"});
}

}  // namespace
}  // namespace phantom::metadata
