#include "core/metadata/command_apply.hpp"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace phantom::metadata
