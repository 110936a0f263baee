#include "core/metadata/command_apply.hpp"

#include <gtest/gtest.h>

#include <limits>
#include <string>

#include "core/common/error.hpp"
#include "expect_error.hpp"
#include "in_memory_catalog.hpp"

namespace phantom::metadata {
namespace {

ClusterId IdOf(uint8_t seed) {
  ClusterId id{};
  id.fill(seed);
  return id;
}

NodeRecord Node(NodeId node_id, const std::string& name, const std::string& host, int32_t port) {
  NodeRecord node;
  node.node_id = node_id;
  node.name = name;
  node.host = host;
  node.port = port;
  node.region = "default";
  node.is_raft_voter = true;
  node.last_heartbeat_us = 1000 * node_id;
  return node;
}

std::string Conflict(const char* command, const std::string& problem) {
  return std::string("metadata command ") + command + " conflicts with the catalog: " + problem;
}

// A coordinator catalog: cluster 0x11.., founded by node 1 (a:5432), with
// node 2 (b:5432) added.
InMemoryCatalog Coordinator() {
  InMemoryCatalog catalog;
  ApplyCommand(catalog, CreateCluster{IdOf(0x11), Node(1, "a", "a", 5432)});
  ApplyCommand(catalog, AddNode{Node(2, "b", "b", 5432)});
  catalog.writes = 0;
  return catalog;
}

// A member catalog: joined cluster 0x11.. administered from a:5432.
InMemoryCatalog Member() {
  InMemoryCatalog catalog;
  ApplyCommand(catalog, JoinCluster{IdOf(0x11), "a", 5432});
  catalog.writes = 0;
  return catalog;
}

// Applies a command that must be rejected, and checks it wrote nothing.
void ExpectRejected(InMemoryCatalog& catalog, const Command& command, const ExpectedError& expected) {
  const InMemoryCatalog before = catalog;
  ExpectError([&] { ApplyCommand(catalog, command); }, expected);
  EXPECT_EQ(catalog, before);
  EXPECT_EQ(catalog.writes, 0);
}

TEST(ApplyCreateClusterTest, FoundsTheClusterAndRegistersSelf) {
  InMemoryCatalog catalog;
  const NodeRecord self = Node(1, "a", "a", 5432);
  ApplyCommand(catalog, CreateCluster{IdOf(0x11), self});
  ASSERT_TRUE(catalog.cluster);
  EXPECT_EQ(*catalog.cluster, (ClusterRecord{IdOf(0x11), 1, 2, "a", 5432}));
  ASSERT_EQ(catalog.nodes.size(), 1u);
  EXPECT_EQ(catalog.nodes[0], self);
}

TEST(ApplyCreateClusterTest, UsesTheSelfRecordForIdsAndCoordinator) {
  InMemoryCatalog catalog;
  ApplyCommand(catalog, CreateCluster{IdOf(0x22), Node(5, "x", "::1", 6000)});
  EXPECT_EQ(*catalog.cluster, (ClusterRecord{IdOf(0x22), 5, 6, "::1", 6000}));
}

TEST(ApplyCreateClusterTest, RejectedWhenAlreadyInACluster) {
  const ExpectedError expected{"55000", Conflict("CreateCluster", "this node already belongs to a cluster")};
  InMemoryCatalog coordinator = Coordinator();
  ExpectRejected(coordinator, CreateCluster{IdOf(0x33), Node(1, "c", "c", 5432)}, expected);
  InMemoryCatalog member = Member();
  ExpectRejected(member, CreateCluster{IdOf(0x11), Node(1, "c", "c", 5432)}, expected);
}

TEST(ApplyAddNodeTest, InsertsTheNodeAndAdvancesNextId) {
  InMemoryCatalog catalog = Coordinator();
  const NodeRecord node = Node(3, "c", "c", 5432);
  ApplyCommand(catalog, AddNode{node});
  ASSERT_EQ(catalog.nodes.size(), 3u);
  EXPECT_EQ(catalog.nodes[2], node);
  EXPECT_EQ(catalog.cluster->next_node_id, 4);
  EXPECT_EQ(catalog.cluster->local_node_id, 1);
  EXPECT_EQ(catalog.cluster->cluster_id, IdOf(0x11));
}

TEST(ApplyAddNodeTest, NextIdNeverMovesBack) {
  InMemoryCatalog catalog = Coordinator();
  ApplyCommand(catalog, AddNode{Node(10, "j", "j", 5432)});
  EXPECT_EQ(catalog.cluster->next_node_id, 11);
  ApplyCommand(catalog, AddNode{Node(4, "d", "d", 5432)});
  EXPECT_EQ(catalog.cluster->next_node_id, 11);
}

TEST(ApplyAddNodeTest, RejectedWithoutACluster) {
  InMemoryCatalog catalog;
  ExpectRejected(catalog, AddNode{Node(1, "a", "a", 5432)},
                 {"55000", Conflict("AddNode", "this node does not administer a cluster")});
}

TEST(ApplyAddNodeTest, RejectedOnAMember) {
  InMemoryCatalog catalog = Member();
  ExpectRejected(catalog, AddNode{Node(2, "b", "b", 5432)},
                 {"55000", Conflict("AddNode", "this node does not administer a cluster")});
}

TEST(ApplyAddNodeTest, RejectsATakenId) {
  InMemoryCatalog catalog = Coordinator();
  ExpectRejected(catalog, AddNode{Node(2, "c", "c", 5432)}, {"55000", Conflict("AddNode", "node id 2 is taken")});
}

TEST(ApplyAddNodeTest, RejectsATakenName) {
  InMemoryCatalog catalog = Coordinator();
  ExpectRejected(catalog, AddNode{Node(3, "b", "c", 5432)}, {"55000", Conflict("AddNode", "node name \"b\" is taken")});
}

TEST(ApplyAddNodeTest, RejectsATakenAddress) {
  InMemoryCatalog catalog = Coordinator();
  ExpectRejected(catalog, AddNode{Node(3, "c", "b", 5432)},
                 {"55000", Conflict("AddNode", "b:5432 is already registered")});
}

TEST(ApplyAddNodeTest, SameHostOtherPortIsANewAddress) {
  InMemoryCatalog catalog = Coordinator();
  ApplyCommand(catalog, AddNode{Node(3, "c", "b", 5433)});
  EXPECT_EQ(catalog.nodes.size(), 3u);
}

TEST(ApplyRemoveNodeTest, DeletesTheNodeAndKeepsNextId) {
  InMemoryCatalog catalog = Coordinator();
  ApplyCommand(catalog, RemoveNode{2});
  ASSERT_EQ(catalog.nodes.size(), 1u);
  EXPECT_EQ(catalog.nodes[0].node_id, 1);
  EXPECT_EQ(catalog.cluster->next_node_id, 3);
}

TEST(ApplyRemoveNodeTest, RejectsAnUnknownNode) {
  InMemoryCatalog catalog = Coordinator();
  ExpectRejected(catalog, RemoveNode{9}, {"42704", "metadata command RemoveNode names unknown node id 9"});
}

TEST(ApplyRemoveNodeTest, RejectsTheLastNode) {
  InMemoryCatalog catalog = Coordinator();
  ApplyCommand(catalog, RemoveNode{2});
  catalog.writes = 0;
  ExpectRejected(catalog, RemoveNode{1}, {"55000", Conflict("RemoveNode", "node id 1 is the last node")});
}

TEST(ApplyJoinClusterTest, RecordsTheClusterOnAFreshNode) {
  InMemoryCatalog catalog;
  ApplyCommand(catalog, JoinCluster{IdOf(0x11), "a", 5432});
  EXPECT_EQ(*catalog.cluster, (ClusterRecord{IdOf(0x11), 0, 1, "a", 5432}));
  EXPECT_TRUE(catalog.nodes.empty());
}

TEST(ApplyJoinClusterTest, SameClusterIsANoOp) {
  InMemoryCatalog member = Member();
  const InMemoryCatalog before = member;
  ApplyCommand(member, JoinCluster{IdOf(0x11), "elsewhere", 1});
  EXPECT_EQ(member, before);
  EXPECT_EQ(member.writes, 0);

  InMemoryCatalog coordinator = Coordinator();
  const InMemoryCatalog coordinator_before = coordinator;
  ApplyCommand(coordinator, JoinCluster{IdOf(0x11), "a", 5432});
  EXPECT_EQ(coordinator, coordinator_before);
  EXPECT_EQ(coordinator.writes, 0);
}

TEST(ApplyJoinClusterTest, ANodeAloneInItsOwnClusterMayJoin) {
  InMemoryCatalog catalog;
  ApplyCommand(catalog, CreateCluster{IdOf(0x22), Node(1, "c", "c", 5432)});
  ApplyCommand(catalog, JoinCluster{IdOf(0x11), "a", 5432});
  EXPECT_EQ(*catalog.cluster, (ClusterRecord{IdOf(0x11), 0, 1, "a", 5432}));
  EXPECT_TRUE(catalog.nodes.empty());
}

TEST(ApplyJoinClusterTest, RejectedWhenCoordinatingOthers) {
  InMemoryCatalog catalog = Coordinator();
  ExpectRejected(
      catalog, JoinCluster{IdOf(0x33), "z", 5432},
      {"55000", "this node already belongs to another cluster", "That cluster is administered from a:5432."});
}

TEST(ApplyJoinClusterTest, RejectedWhenAMemberElsewhere) {
  InMemoryCatalog catalog = Member();
  ExpectRejected(
      catalog, JoinCluster{IdOf(0x33), "z", 5432},
      {"55000", "this node already belongs to another cluster", "That cluster is administered from a:5432."});
}

// Left behind by a rolled-back add: the coordinator that administers this
// node's cluster is the one asking, so its word replaces the stale record.
TEST(ApplyJoinClusterTest, AMemberMayRejoinFromTheSameCoordinator) {
  InMemoryCatalog catalog = Member();
  ApplyCommand(catalog, JoinCluster{IdOf(0x33), "a", 5432});
  EXPECT_EQ(*catalog.cluster, (ClusterRecord{IdOf(0x33), 0, 1, "a", 5432}));
}

TEST(ApplyLeaveClusterTest, AMemberLeaves) {
  InMemoryCatalog catalog = Member();
  ApplyCommand(catalog, LeaveCluster{IdOf(0x11)});
  EXPECT_FALSE(catalog.cluster);
  EXPECT_TRUE(catalog.nodes.empty());
}

TEST(ApplyLeaveClusterTest, RejectedElsewhere) {
  const ExpectedError expected{"55000", Conflict("LeaveCluster", "this node is not a member of that cluster")};
  InMemoryCatalog fresh;
  ExpectRejected(fresh, LeaveCluster{IdOf(0x11)}, expected);
  InMemoryCatalog member = Member();
  ExpectRejected(member, LeaveCluster{IdOf(0x33)}, expected);
  InMemoryCatalog coordinator = Coordinator();
  ExpectRejected(coordinator, LeaveCluster{IdOf(0x11)}, expected);
}

TEST(ApplyTest, TheSameCommandsMakeTheSameCatalog) {
  const std::vector<Command> log = {CreateCluster{IdOf(0x11), Node(1, "a", "a", 5432)},
                                    AddNode{Node(2, "b", "b", 5432)}, AddNode{Node(3, "c", "c", 5432)}, RemoveNode{2},
                                    AddNode{Node(4, "d", "d", 5432)}};
  InMemoryCatalog first;
  InMemoryCatalog second;
  for (const Command& command : log) ApplyCommand(first, command);
  for (const Command& command : log) ApplyCommand(second, command);
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
  ApplyCommand(catalog, create);
  catalog.writes = 0;
  ExpectRejected(catalog, create, {"55000", Conflict("CreateCluster", "this node already belongs to a cluster")});
}

TEST(ApplyCreateClusterTest, AllowedAgainAfterLeaving) {
  InMemoryCatalog catalog = Member();
  ApplyCommand(catalog, LeaveCluster{IdOf(0x11)});
  ApplyCommand(catalog, CreateCluster{IdOf(0x44), Node(1, "m", "m", 5432)});
  EXPECT_EQ(*catalog.cluster, (ClusterRecord{IdOf(0x44), 1, 2, "m", 5432}));
  ASSERT_EQ(catalog.nodes.size(), 1u);
  EXPECT_EQ(catalog.nodes[0], Node(1, "m", "m", 5432));
}

// Each row is checked for id, then name, then address: a node clashing with
// one row on all three is reported by its id.
TEST(ApplyAddNodeTest, NamesTheFirstClash) {
  InMemoryCatalog catalog = Coordinator();
  ExpectRejected(catalog, AddNode{Node(2, "b", "b", 5432)}, {"55000", Conflict("AddNode", "node id 2 is taken")});
  ExpectRejected(catalog, AddNode{Node(9, "b", "b", 5432)}, {"55000", Conflict("AddNode", "node name \"b\" is taken")});
  // Clashing with node 1 by address and node 2 by name: node 1 comes first.
  ExpectRejected(catalog, AddNode{Node(9, "b", "a", 5432)},
                 {"55000", Conflict("AddNode", "a:5432 is already registered")});
  ExpectRejected(catalog, AddNode{Node(9, "z", "b", 5432)},
                 {"55000", Conflict("AddNode", "b:5432 is already registered")});
}

TEST(ApplyAddNodeTest, AnIpv6AddressClashIsBracketed) {
  InMemoryCatalog catalog = Coordinator();
  ApplyCommand(catalog, AddNode{Node(3, "v6", "::1", 5433)});
  catalog.writes = 0;
  ExpectRejected(catalog, AddNode{Node(4, "other", "::1", 5433)},
                 {"55000", Conflict("AddNode", "[::1]:5433 is already registered")});
}

TEST(ApplyRemoveNodeTest, RejectedWithoutNodes) {
  const ExpectedError expected{"42704", "metadata command RemoveNode names unknown node id 1"};
  InMemoryCatalog fresh;
  ExpectRejected(fresh, RemoveNode{1}, expected);
  InMemoryCatalog member = Member();
  ExpectRejected(member, RemoveNode{1}, expected);
}

TEST(ApplyRemoveNodeTest, ARemovedNodeIsUnknownAfterwards) {
  InMemoryCatalog catalog = Coordinator();
  ApplyCommand(catalog, AddNode{Node(3, "c", "c", 5432)});
  ApplyCommand(catalog, RemoveNode{2});
  catalog.writes = 0;
  ExpectRejected(catalog, RemoveNode{2}, {"42704", "metadata command RemoveNode names unknown node id 2"});
  // Its name and address are free again; its id is not handed out again.
  ApplyCommand(catalog, AddNode{Node(4, "b", "b", 5432)});
  EXPECT_EQ(catalog.cluster->next_node_id, 5);
}

// A coordinator whose other nodes were all removed is alone again and may
// join another cluster: its catalog is replaced.
TEST(ApplyJoinClusterTest, ACoordinatorAloneAgainMayJoin) {
  InMemoryCatalog catalog = Coordinator();
  ApplyCommand(catalog, RemoveNode{2});
  ApplyCommand(catalog, JoinCluster{IdOf(0x33), "z", 6000});
  EXPECT_EQ(*catalog.cluster, (ClusterRecord{IdOf(0x33), 0, 1, "z", 6000}));
  EXPECT_TRUE(catalog.nodes.empty());
}

TEST(ApplyJoinClusterTest, AJoinedNodeCannotAdministerOrBeLeftTwice) {
  InMemoryCatalog catalog = Member();
  ApplyCommand(catalog, LeaveCluster{IdOf(0x11)});
  EXPECT_EQ(catalog, InMemoryCatalog{});
  catalog.writes = 0;
  ExpectRejected(catalog, LeaveCluster{IdOf(0x11)},
                 {"55000", Conflict("LeaveCluster", "this node is not a member of that cluster")});
}

TEST(ApplyTest, RejectsNodeIdsOutOfRange) {
  InMemoryCatalog empty;
  for (NodeId bad : {0, -1, std::numeric_limits<NodeId>::max()}) {
    ExpectRejected(empty, CreateCluster{IdOf(0x11), Node(bad, "a", "a", 5432)},
                   {"55000", Conflict("CreateCluster", "node id " + std::to_string(bad) + " is out of range")});
    InMemoryCatalog coordinator = Coordinator();
    ExpectRejected(coordinator, AddNode{Node(bad, "c", "c", 5432)},
                   {"55000", Conflict("AddNode", "node id " + std::to_string(bad) + " is out of range")});
  }
}

// Another server advertising the coordinator's own address must not wipe it.
TEST(ApplyJoinClusterTest, ACoordinatorOfOthersRefusesAJoinFromItsOwnAddress) {
  InMemoryCatalog coordinator = Coordinator();
  ExpectRejected(
      coordinator, JoinCluster{IdOf(0x22), "a", 5432},
      {"55000", "this node already belongs to another cluster", "That cluster is administered from a:5432."});
}

}  // namespace
}  // namespace phantom::metadata
