#include "core/metadata/node_membership.hpp"

#include <gtest/gtest.h>
#include <cstdint>

#include <string>
#include <vector>

#include "core/common/error.hpp"
#include "core/metadata/command_apply.hpp"
#include "expect_error.hpp"
#include "in_memory_catalog.hpp"

namespace phantom::metadata {
namespace {

constexpr int64_t kNow = 1700000000000000;
constexpr const char* kVersion = "0.1";

ClusterId IdOf(uint8_t seed) {
  ClusterId id{};
  id.fill(seed);
  return id;
}

AddNodeRequest Request(const std::string& host, int32_t port = 5432) {
  AddNodeRequest request;
  request.host = host;
  request.port = port;
  request.region = "default";
  request.role = "primary";
  return request;
}

// A candidate that may be added: the extension at our version, in no cluster.
CandidateIdentity FreshCandidate() {
  CandidateIdentity candidate;
  candidate.extension_version = kVersion;
  return candidate;
}

// The coordinator a:5432 of cluster 0x11.., with b:5432 added, driven
// through the same decide-then-apply path as the glue.
class MembershipTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ApplyCommand(catalog_, DecideCreateCluster(IdOf(0x11), Request("a"), kNow));
    Add(Request("b"));
  }

  ClusterRecord Cluster() { return *catalog_.GetCluster(); }
  std::vector<NodeRecord> Nodes() { return catalog_.ListNodes(); }

  Command DecideAdd(const AddNodeRequest& request, const CandidateIdentity& candidate = FreshCandidate()) {
    return DecideAddNode(Cluster(), Nodes(), request, candidate, kVersion, kNow);
  }

  NodeRecord Add(const AddNodeRequest& request) {
    Command command = DecideAdd(request);
    ApplyCommand(catalog_, command);
    return std::get<AddNode>(command).node;
  }

  void Remove(const std::string& node_ref) {
    ApplyCommand(catalog_, DecideRemoveNode(Cluster(), Nodes(), {}, node_ref));
  }

  InMemoryCatalog catalog_;
};

TEST(ValidateAddNodeRequestTest, AcceptsAValidRequest) {
  AddNodeRequest request = Request("db1.example");
  EXPECT_NO_THROW(ValidateAddNodeRequest(request));
  request.name = "db1";
  request.role = "replica";
  EXPECT_NO_THROW(ValidateAddNodeRequest(request));
}

TEST(ValidateAddNodeRequestTest, Host) {
  ExpectError([] { ValidateAddNodeRequest(Request("")); }, {"22023", "node host must not be empty"});
  ExpectError([] { ValidateAddNodeRequest(Request(std::string(256, 'h'))); },
              {"22023", "node host is too long", "Host names are at most 255 bytes."});
  EXPECT_NO_THROW(ValidateAddNodeRequest(Request(std::string(255, 'h'))));
}

TEST(ValidateAddNodeRequestTest, Port) {
  for (int32_t port : {0, -1, 65536, INT32_MIN, INT32_MAX})
    ExpectError([&] { ValidateAddNodeRequest(Request("h", port)); },
                {"22023", "invalid node port " + std::to_string(port), "A port must be between 1 and 65535."});
  EXPECT_NO_THROW(ValidateAddNodeRequest(Request("h", 1)));
  EXPECT_NO_THROW(ValidateAddNodeRequest(Request("h", 65535)));
}

TEST(ValidateAddNodeRequestTest, Name) {
  AddNodeRequest request = Request("h");
  request.name = "";
  ExpectError([&] { ValidateAddNodeRequest(request); }, {"22023", "node name must not be empty"});
  request.name = std::string(64, 'n');
  ExpectError([&] { ValidateAddNodeRequest(request); },
              {"22023", "node name \"" + std::string(64, 'n') + "\" is too long", "Node names are at most 63 bytes."});
  request.name = std::string(63, 'n');
  EXPECT_NO_THROW(ValidateAddNodeRequest(request));
}

TEST(ValidateAddNodeRequestTest, Region) {
  AddNodeRequest request = Request("h");
  request.region = "";
  ExpectError([&] { ValidateAddNodeRequest(request); }, {"22023", "node region must not be empty"});
  request.region = std::string(64, 'r');
  ExpectError(
      [&] { ValidateAddNodeRequest(request); },
      {"22023", "node region \"" + std::string(64, 'r') + "\" is too long", "Region names are at most 63 bytes."});
  request.region = std::string(63, 'r');
  EXPECT_NO_THROW(ValidateAddNodeRequest(request));
}

TEST(ValidateAddNodeRequestTest, Role) {
  AddNodeRequest request = Request("h");
  request.role = "leader";
  ExpectError([&] { ValidateAddNodeRequest(request); },
              {"22023", "invalid node role \"leader\"", "", "Valid roles are \"primary\" and \"replica\"."});
}

TEST(ValidateAddNodeRequestTest, ChecksInOrder) {
  AddNodeRequest request = Request("", 0);
  request.name = "";
  request.role = "x";
  ExpectError([&] { ValidateAddNodeRequest(request); }, {"22023", "node host must not be empty"});
  request.host = "h";
  ExpectError([&] { ValidateAddNodeRequest(request); },
              {"22023", "invalid node port 0", "A port must be between 1 and 65535."});
  request.port = 5432;
  ExpectError([&] { ValidateAddNodeRequest(request); }, {"22023", "node name must not be empty"});
}

TEST(NodeAddressTest, Formats) {
  EXPECT_EQ(NodeAddress("db1.example", 5432), "db1.example:5432");
  EXPECT_EQ(NodeAddress("10.0.0.1", 1), "10.0.0.1:1");
  EXPECT_EQ(NodeAddress("::1", 5432), "[::1]:5432");
  EXPECT_EQ(NodeAddress("fe80::1%eth0", 6000), "[fe80::1%eth0]:6000");
}

TEST(CheckIsCoordinatorTest, NoClusterOrCoordinatorPasses) {
  EXPECT_NO_THROW(CheckIsCoordinator(std::nullopt));
  EXPECT_NO_THROW(CheckIsCoordinator(ClusterRecord{IdOf(0x11), 1, 2, "a", 5432}));
}

TEST(CheckIsCoordinatorTest, AMemberIsToldWhereToGo) {
  ExpectError(
      [] {
        CheckIsCoordinator(ClusterRecord{IdOf(0x11), 0, 1, "a", 5432});
      },
      {"55000", "this node is a member of a cluster administered from a:5432",
       "Until metadata is replicated, one node holds the cluster metadata and administers membership.",
       "Run this function on a:5432."});
  ExpectError(
      [] {
        CheckIsCoordinator(ClusterRecord{IdOf(0x11), 0, 1, "::1", 5433});
      },
      {"55000", "this node is a member of a cluster administered from [::1]:5433",
       "Until metadata is replicated, one node holds the cluster metadata and administers membership.",
       "Run this function on [::1]:5433."});
}

TEST(DecideCreateClusterTest, RegistersSelfAsNodeOne) {
  AddNodeRequest self = Request("a");
  self.region = "eu";
  self.role = "replica";
  const Command command = DecideCreateCluster(IdOf(0x11), self, kNow);
  ASSERT_TRUE(std::holds_alternative<CreateCluster>(command));
  const CreateCluster& create = std::get<CreateCluster>(command);
  EXPECT_EQ(create.cluster_id, IdOf(0x11));
  EXPECT_EQ(create.self,
            (NodeRecord{1, "a:5432", "a", 5432, "eu", NodeRole::kReplica, NodeState::kActive, true, kNow}));
}

TEST(DecideCreateClusterTest, UsesTheGivenName) {
  AddNodeRequest self = Request("a");
  self.name = "first";
  EXPECT_EQ(std::get<CreateCluster>(DecideCreateCluster(IdOf(0x11), self, kNow)).self.name, "first");
}

TEST(DecideCreateClusterTest, RejectsAnUnknownRole) {
  AddNodeRequest self = Request("a");
  self.role = "boss";
  ExpectError([&] { DecideCreateCluster(IdOf(0x11), self, kNow); },
              {"22023", "invalid node role \"boss\"", "", "Valid roles are \"primary\" and \"replica\"."});
}

TEST_F(MembershipTest, CreateThenAddBuildsTheCatalog) {
  EXPECT_EQ(Cluster(), (ClusterRecord{IdOf(0x11), 1, 3, "a", 5432}));
  const std::vector<NodeRecord> nodes = Nodes();
  ASSERT_EQ(nodes.size(), 2u);
  EXPECT_EQ(nodes[0],
            (NodeRecord{1, "a:5432", "a", 5432, "default", NodeRole::kPrimary, NodeState::kActive, true, kNow}));
  EXPECT_EQ(nodes[1],
            (NodeRecord{2, "b:5432", "b", 5432, "default", NodeRole::kPrimary, NodeState::kActive, true, kNow}));
}

TEST_F(MembershipTest, AddNodeTakesTheRequestedFields) {
  AddNodeRequest request = Request("::1", 6000);
  request.name = "replica-1";
  request.region = "eu-west";
  request.role = "replica";
  const Command command = DecideAdd(request);
  ASSERT_TRUE(std::holds_alternative<AddNode>(command));
  EXPECT_EQ(std::get<AddNode>(command).node,
            (NodeRecord{3, "replica-1", "::1", 6000, "eu-west", NodeRole::kReplica, NodeState::kActive, true, kNow}));
}

TEST_F(MembershipTest, FindRegisteredNode) {
  EXPECT_EQ(FindRegisteredNode(Nodes(), Request("b")), 2);
  EXPECT_EQ(FindRegisteredNode(Nodes(), Request("a")), 1);
  EXPECT_EQ(FindRegisteredNode(Nodes(), Request("b", 5433)), std::nullopt);
  EXPECT_EQ(FindRegisteredNode(Nodes(), Request("B")), std::nullopt);  // hosts match exactly
  EXPECT_EQ(FindRegisteredNode(Nodes(), Request("c")), std::nullopt);
  EXPECT_EQ(FindRegisteredNode({}, Request("b")), std::nullopt);
}

TEST_F(MembershipTest, RegistrationIsIdempotent) {
  AddNodeRequest request = Request("c");
  request.name = "gamma";
  ASSERT_EQ(FindRegisteredNode(Nodes(), request), std::nullopt);
  const NodeRecord added = Add(request);
  const std::vector<NodeRecord> after_first = Nodes();
  // The glue asks FindRegisteredNode first; a repeated call finds the node
  // and proposes nothing.
  EXPECT_EQ(FindRegisteredNode(Nodes(), request), added.node_id);
  request.name.reset();
  EXPECT_EQ(FindRegisteredNode(Nodes(), request), added.node_id);
  EXPECT_EQ(Nodes(), after_first);
}

TEST_F(MembershipTest, FindRegisteredNodeRejectsAnotherName) {
  AddNodeRequest request = Request("b");
  request.name = "beta";
  ExpectError([&] { FindRegisteredNode(Nodes(), request); },
              {"42710", "node b:5432 is already registered as \"b:5432\"", "",
               "Call phantom_add_node without node_name, or with node_name => 'b:5432'."});
}

TEST_F(MembershipTest, AddNodeRejectsThisNodeUnderAnotherAddress) {
  CandidateIdentity candidate = FreshCandidate();
  candidate.is_local_node = true;
  candidate.cluster_id = IdOf(0x11);
  candidate.is_coordinator = true;
  candidate.coordinates_others = true;
  candidate.cluster_coordinator = "a:5432";
  ExpectError([&] { DecideAdd(Request("localhost"), candidate); },
              {"42710", "localhost:5432 is this node, already registered as a:5432"});
}

TEST_F(MembershipTest, AddNodeRejectsADuplicateName) {
  AddNodeRequest named = Request("c");
  named.name = "gamma";
  Add(named);
  named.host = "d";
  ExpectError([&] { DecideAdd(named); },
              {"42710", "a node named \"gamma\" already exists", "Node \"gamma\" is c:5432."});
  // The default name "host:port" can collide with a name given earlier.
  AddNodeRequest squatter = Request("e");
  squatter.name = "f:5432";
  Add(squatter);
  ExpectError([&] { DecideAdd(Request("f")); },
              {"42710", "a node named \"f:5432\" already exists", "Node \"f:5432\" is e:5432."});
}

TEST_F(MembershipTest, AddNodeNeedsTheExtension) {
  CandidateIdentity candidate = FreshCandidate();
  candidate.extension_version = "";
  ExpectError([&] { DecideAdd(Request("c"), candidate); },
              {"55000", "extension \"phantomdb\" is not installed on node c:5432", "",
               "Run CREATE EXTENSION phantomdb there, in the database of the same name as here."});
}

TEST_F(MembershipTest, AddNodeNeedsTheSameVersion) {
  CandidateIdentity candidate = FreshCandidate();
  candidate.extension_version = "0.2";
  ExpectError([&] { DecideAdd(Request("::1", 5433), candidate); },
              {"55000", "node [::1]:5433 runs phantomdb 0.2, this node runs 0.1", "",
               "Install the same version on every node, then ALTER EXTENSION phantomdb UPDATE."});
}

TEST_F(MembershipTest, AddNodeRejectsACoordinatorOfAnotherCluster) {
  CandidateIdentity candidate = FreshCandidate();
  candidate.cluster_id = IdOf(0x33);
  candidate.is_coordinator = true;
  candidate.coordinates_others = true;
  candidate.cluster_coordinator = "c:5432";
  ExpectError([&] { DecideAdd(Request("c"), candidate); },
              {"55000", "node c:5432 already belongs to another cluster", "That cluster is administered from c:5432.",
               "Remove the node there with phantom_remove_node first."});
}

TEST_F(MembershipTest, AddNodeRejectsAMemberOfAnotherCluster) {
  CandidateIdentity candidate = FreshCandidate();
  candidate.cluster_id = IdOf(0x33);
  candidate.cluster_coordinator = "z:5432";
  ExpectError([&] { DecideAdd(Request("c"), candidate); },
              {"55000", "node c:5432 already belongs to another cluster", "That cluster is administered from z:5432.",
               "Remove the node there with phantom_remove_node first."});
}

TEST_F(MembershipTest, AddNodeAcceptsANodeAloneInItsOwnCluster) {
  CandidateIdentity candidate = FreshCandidate();
  candidate.cluster_id = IdOf(0x33);
  candidate.is_coordinator = true;
  candidate.cluster_coordinator = "c:5432";
  EXPECT_NO_THROW(DecideAdd(Request("c"), candidate));
  // It may have registered itself under another name for the same machine.
  candidate.cluster_coordinator = "localhost:5432";
  EXPECT_NO_THROW(DecideAdd(Request("c"), candidate));
}

// Left over from a rolled-back add: its cluster is administered from this
// node's address, and this catalog is the authority for that address.
TEST_F(MembershipTest, AddNodeAcceptsAMemberAdministeredFromHere) {
  CandidateIdentity candidate = FreshCandidate();
  candidate.cluster_id = IdOf(0x33);
  candidate.cluster_coordinator = "a:5432";
  EXPECT_NO_THROW(DecideAdd(Request("c"), candidate));
}

TEST_F(MembershipTest, AddNodeAcceptsAMemberOfThisCluster) {
  CandidateIdentity candidate = FreshCandidate();
  candidate.cluster_id = IdOf(0x11);
  candidate.cluster_coordinator = "a:5432";
  EXPECT_NO_THROW(DecideAdd(Request("c"), candidate));
}

TEST_F(MembershipTest, ChecksRunInOrder) {
  CandidateIdentity candidate;  // no extension, in another cluster
  candidate.cluster_id = IdOf(0x33);
  candidate.cluster_coordinator = "z:5432";
  AddNodeRequest request = Request("c");
  request.name = "b:5432";
  candidate.is_local_node = true;
  ExpectError([&] { DecideAdd(request, candidate); }, {"42710", "c:5432 is this node, already registered as a:5432"});
  candidate.is_local_node = false;
  ExpectError([&] { DecideAdd(request, candidate); },
              {"42710", "a node named \"b:5432\" already exists", "Node \"b:5432\" is b:5432."});
  request.name.reset();
  ExpectError([&] { DecideAdd(request, candidate); },
              {"55000", "extension \"phantomdb\" is not installed on node c:5432", "",
               "Run CREATE EXTENSION phantomdb there, in the database of the same name as here."});
  candidate.extension_version = "0.0";
  ExpectError([&] { DecideAdd(request, candidate); },
              {"55000", "node c:5432 runs phantomdb 0.0, this node runs 0.1", "",
               "Install the same version on every node, then ALTER EXTENSION phantomdb UPDATE."});
  candidate.extension_version = kVersion;
  ExpectError([&] { DecideAdd(request, candidate); },
              {"55000", "node c:5432 already belongs to another cluster", "That cluster is administered from z:5432.",
               "Remove the node there with phantom_remove_node first."});
  candidate.cluster_id = std::nullopt;
  EXPECT_EQ(std::get<AddNode>(DecideAdd(request, candidate)).node.node_id, 3);
}

TEST_F(MembershipTest, AtMostFiveRaftVoters) {
  for (const char* host : {"c", "d", "e"}) EXPECT_TRUE(Add(Request(host)).is_raft_voter) << host;
  EXPECT_FALSE(Add(Request("f")).is_raft_voter);  // a, b, c, d, e vote
  EXPECT_FALSE(Add(Request("g")).is_raft_voter);
  // A voter's removal frees a seat for the next node.
  Remove("c:5432");
  EXPECT_TRUE(Add(Request("h")).is_raft_voter);
  EXPECT_FALSE(Add(Request("i")).is_raft_voter);
  int voters = 0;
  for (const NodeRecord& node : Nodes()) voters += node.is_raft_voter ? 1 : 0;
  EXPECT_EQ(voters, kMaxRaftVoters);
}

TEST_F(MembershipTest, IdsAreNeverReused) {
  EXPECT_EQ(Add(Request("c")).node_id, 3);
  Remove("c:5432");
  EXPECT_EQ(Add(Request("d")).node_id, 4);
  Remove("d:5432");
  // The same address comes back under a new id.
  EXPECT_EQ(Add(Request("c")).node_id, 5);
  EXPECT_EQ(Cluster().next_node_id, 6);
}

TEST_F(MembershipTest, RemoveNodeByNameOrAddress) {
  AddNodeRequest named = Request("c");
  named.name = "gamma";
  Add(named);
  EXPECT_EQ(DecideRemoveNode(Cluster(), Nodes(), {}, "gamma").node_id, 3);
  EXPECT_EQ(DecideRemoveNode(Cluster(), Nodes(), {}, "c:5432").node_id, 3);
  EXPECT_EQ(DecideRemoveNode(Cluster(), Nodes(), {}, "b:5432").node_id, 2);
  Add(Request("::1", 5433));
  EXPECT_EQ(DecideRemoveNode(Cluster(), Nodes(), {}, "[::1]:5433").node_id, 4);
}

TEST_F(MembershipTest, RemoveNodePrefersANameOverAnAddress) {
  AddNodeRequest squatter = Request("c");
  squatter.name = "d:5432";
  Add(squatter);  // node 3, at c:5432, named like d's address
  AddNodeRequest delta = Request("d");
  delta.name = "delta";
  Add(delta);  // node 4, at d:5432
  EXPECT_EQ(DecideRemoveNode(Cluster(), Nodes(), {}, "d:5432").node_id, 3);
  EXPECT_EQ(DecideRemoveNode(Cluster(), Nodes(), {}, "delta").node_id, 4);
}

TEST_F(MembershipTest, RemoveNodeRejectsAnUnknownNode) {
  for (const char* ref : {"c:5432", "b", "b:5433", "B:5432", ""})
    ExpectError([&] { DecideRemoveNode(Cluster(), Nodes(), {}, ref); },
                {"42704", std::string("node \"") + ref + "\" does not exist", "",
                 "SELECT node_name, host, port FROM phantom_nodes lists the nodes."});
}

TEST_F(MembershipTest, RemoveNodeRefusesANodeHoldingShardPlacements) {
  Add(Request("c"));  // node 3
  TableRecord orders;
  orders.table_id = 1;
  orders.table_name = "orders";
  orders.shards = {ShardRecord{10, 0, INT32_MIN, -1, {2, 3}}, ShardRecord{11, 1, 0, INT32_MAX, {2}}};
  TableRecord lines = orders;
  lines.table_id = 2;
  lines.shards = {ShardRecord{12, 0, INT32_MIN, INT32_MAX, {1}}};
  ExpectError(
      [&] {
        DecideRemoveNode(Cluster(), Nodes(), {orders, lines}, "b:5432");
      },
      {"55000", "cannot remove node \"b:5432\": it holds 2 shard placement(s) of 1 table(s)", "",
       "Drop or undistribute those tables first; moving shards off a node is not available yet."});
  ExpectError(
      [&] {
        DecideRemoveNode(Cluster(), Nodes(), {orders, lines}, "c:5432");
      },
      {"55000", "cannot remove node \"c:5432\": it holds 1 shard placement(s) of 1 table(s)", "",
       "Drop or undistribute those tables first; moving shards off a node is not available yet."});
  // A node without placements goes.
  lines.shards = {ShardRecord{12, 0, INT32_MIN, INT32_MAX, {1}}};
  orders.shards = {ShardRecord{10, 0, INT32_MIN, INT32_MAX, {2}}};
  EXPECT_EQ(DecideRemoveNode(Cluster(), Nodes(), {orders, lines}, "c:5432").node_id, 3);
}

TEST_F(MembershipTest, RemoveNodeRejectsTheCoordinatorWhileOthersRemain) {
  const ExpectedError expected{
      "55000", "cannot remove node \"a:5432\": it holds the cluster metadata",
      "Until metadata is replicated, the node where the cluster was first used administers it.",
      "Remove the other nodes first."};
  ExpectError([&] { DecideRemoveNode(Cluster(), Nodes(), {}, "a:5432"); }, expected);
  Add(Request("c"));
  Remove("b:5432");
  ExpectError([&] { DecideRemoveNode(Cluster(), Nodes(), {}, "a:5432"); }, expected);
}

TEST_F(MembershipTest, RemoveNodeRejectsTheLastNode) {
  Remove("b:5432");
  ExpectError([&] { DecideRemoveNode(Cluster(), Nodes(), {}, "a:5432"); },
              {"55000", "cannot remove node \"a:5432\": it is the last node of the cluster"});
}

TEST(DecideJoinClusterTest, AFreshNodeJoins) {
  const JoinCluster join{IdOf(0x11), "a", 5432};
  const std::optional<Command> command = DecideJoinCluster(std::nullopt, {}, join);
  ASSERT_TRUE(command);
  EXPECT_EQ(*command, Command(join));
}

TEST(DecideJoinClusterTest, AlreadyInThatClusterIsANoOp) {
  const JoinCluster join{IdOf(0x11), "a", 5432};
  EXPECT_EQ(DecideJoinCluster(ClusterRecord{IdOf(0x11), 0, 1, "a", 5432}, {}, join), std::nullopt);
  // A retried add whose coordinator is now reached under another address.
  EXPECT_EQ(DecideJoinCluster(ClusterRecord{IdOf(0x11), 0, 1, "a.example", 5432}, {}, join), std::nullopt);
}

TEST(DecideJoinClusterTest, ANodeAloneInItsOwnClusterJoins) {
  const JoinCluster join{IdOf(0x11), "a", 5432};
  NodeRecord self;
  self.node_id = 1;
  const std::optional<Command> command = DecideJoinCluster(ClusterRecord{IdOf(0x22), 1, 2, "c", 5432}, {self}, join);
  ASSERT_TRUE(command);
  EXPECT_EQ(*command, Command(join));
}

// Also when the join names the coordinator's own address: that is another
// server advertising the same host:port, not a stale membership.
TEST(DecideJoinClusterTest, ACoordinatorOfOthersRefuses) {
  NodeRecord self;
  self.node_id = 1;
  NodeRecord other;
  other.node_id = 2;
  for (const char* own_host : {"c", "a"}) {
    ExpectError(
        [&] {
          DecideJoinCluster(ClusterRecord{IdOf(0x22), 1, 3, own_host, 5432}, {self, other}, {IdOf(0x11), "a", 5432});
        },
        {"55000", "this node already belongs to another cluster",
         std::string("That cluster is administered from ") + own_host + ":5432."});
  }
}

TEST(DecideJoinClusterTest, AMemberElsewhereRefuses) {
  ExpectError(
      [] {
        DecideJoinCluster(ClusterRecord{IdOf(0x22), 0, 1, "::1", 6000}, {}, {IdOf(0x11), "a", 5432});
      },
      {"55000", "this node already belongs to another cluster", "That cluster is administered from [::1]:6000."});
}

TEST(DecideJoinClusterTest, AMemberAdministeredFromTheSameCoordinatorRejoins) {
  const JoinCluster join{IdOf(0x11), "a", 5432};
  const std::optional<Command> command = DecideJoinCluster(ClusterRecord{IdOf(0x22), 0, 1, "a", 5432}, {}, join);
  ASSERT_TRUE(command);
  EXPECT_EQ(*command, Command(join));
}

TEST(DecideLeaveClusterTest, AMemberLeaves) {
  const std::optional<Command> command = DecideLeaveCluster(ClusterRecord{IdOf(0x11), 0, 1, "a", 5432}, IdOf(0x11));
  ASSERT_TRUE(command);
  EXPECT_EQ(*command, Command(LeaveCluster{IdOf(0x11)}));
}

TEST(DecideLeaveClusterTest, NothingToLeave) {
  EXPECT_EQ(DecideLeaveCluster(std::nullopt, IdOf(0x11)), std::nullopt);
  EXPECT_EQ(DecideLeaveCluster(ClusterRecord{IdOf(0x22), 0, 1, "a", 5432}, IdOf(0x11)), std::nullopt);
  EXPECT_EQ(DecideLeaveCluster(ClusterRecord{IdOf(0x11), 1, 2, "a", 5432}, IdOf(0x11)), std::nullopt);
}

// The glue's whole round trip on the added node: join, retry, leave, join another.
TEST(MembershipRoundTripTest, JoinRetryLeaveAndJoinAnother) {
  InMemoryCatalog member;
  const JoinCluster first{IdOf(0x11), "a", 5432};
  ApplyCommand(member, *DecideJoinCluster(member.GetCluster(), member.ListNodes(), first));
  EXPECT_EQ(DecideJoinCluster(member.GetCluster(), member.ListNodes(), first), std::nullopt);
  EXPECT_THROW(CheckIsCoordinator(member.GetCluster()), Error);
  ApplyCommand(member, *DecideLeaveCluster(member.GetCluster(), IdOf(0x11)));
  EXPECT_EQ(DecideLeaveCluster(member.GetCluster(), IdOf(0x11)), std::nullopt);
  const JoinCluster second{IdOf(0x22), "z", 5432};
  ApplyCommand(member, *DecideJoinCluster(member.GetCluster(), member.ListNodes(), second));
  EXPECT_EQ(member.cluster, (ClusterRecord{IdOf(0x22), 0, 1, "z", 5432}));
}

// Lengths are counted in bytes, as Postgres counts identifier lengths.
TEST(ValidateAddNodeRequestTest, NameLengthIsInBytes) {
  AddNodeRequest request = Request("h");
  std::string name;
  for (int i = 0; i < 21; i++) name += "\xE2\x82\xAC";  // 21 euro signs, 63 bytes
  request.name = name;
  EXPECT_NO_THROW(ValidateAddNodeRequest(request));
  request.name = name + "\xE2\x82\xAC";
  ExpectError([&] { ValidateAddNodeRequest(request); },
              {"22023", "node name \"" + *request.name + "\" is too long", "Node names are at most 63 bytes."});
}

TEST(ValidateAddNodeRequestTest, AnUnnamedRequestIsValid) {
  AddNodeRequest request = Request("h");
  request.name.reset();
  EXPECT_NO_THROW(ValidateAddNodeRequest(request));
}

TEST_F(MembershipTest, AddNodeNeverChangesTheCatalog) {
  const InMemoryCatalog before = catalog_;
  CandidateIdentity candidate = FreshCandidate();
  candidate.extension_version = "";
  EXPECT_THROW(DecideAdd(Request("c"), candidate), Error);
  DecideAdd(Request("c"));
  EXPECT_EQ(catalog_, before);
}

// With five voters the sixth node does not vote; the voter flag depends on
// the nodes passed in, not on ids.
TEST(DecideAddNodeTest, VoterCapCountsVoters) {
  const ClusterRecord cluster{IdOf(0x11), 1, 9, "a", 5432};
  std::vector<NodeRecord> nodes;
  for (NodeId id = 1; id <= 5; id++) {
    NodeRecord node;
    node.node_id = id;
    node.name = "n" + std::to_string(id);
    node.host = "h" + std::to_string(id);
    node.port = 5432;
    node.is_raft_voter = true;
    nodes.push_back(node);
  }
  CandidateIdentity candidate;
  candidate.extension_version = kVersion;
  AddNode add = std::get<AddNode>(DecideAddNode(cluster, nodes, Request("x"), candidate, kVersion, kNow));
  EXPECT_FALSE(add.node.is_raft_voter);
  EXPECT_EQ(add.node.node_id, 9);  // next_node_id, not the count of nodes
  nodes[2].is_raft_voter = false;
  add = std::get<AddNode>(DecideAddNode(cluster, nodes, Request("x"), candidate, kVersion, kNow));
  EXPECT_TRUE(add.node.is_raft_voter);
}

TEST(DecideRemoveNodeTest, NothingToRemoveWithoutACluster) {
  ExpectError([] { DecideRemoveNode(ClusterRecord{}, {}, {}, "a:5432"); },
              {"42704", "node \"a:5432\" does not exist", "",
               "SELECT node_name, host, port FROM phantom_nodes lists the nodes."});
}

TEST(DecideJoinClusterTest, ACoordinatorWithNoRowsIsAlone) {
  const JoinCluster join{IdOf(0x11), "a", 5432};
  const std::optional<Command> command = DecideJoinCluster(ClusterRecord{IdOf(0x22), 1, 2, "c", 5432}, {}, join);
  ASSERT_TRUE(command);
  EXPECT_EQ(*command, Command(join));
}

TEST(DecideJoinClusterTest, TheCoordinatorAddressMustMatchExactly) {
  // Same host, another port; and the same machine under another name.
  for (const ClusterRecord& cluster :
       {ClusterRecord{IdOf(0x22), 0, 1, "a", 5433}, ClusterRecord{IdOf(0x22), 0, 1, "a.example", 5432}})
    ExpectError(
        [&] {
          DecideJoinCluster(cluster, {}, {IdOf(0x11), "a", 5432});
        },
        {"55000", "this node already belongs to another cluster",
         "That cluster is administered from " + NodeAddress(cluster.coordinator_host, cluster.coordinator_port) + "."});
}

// A coordinator that claims this node's own address is another server
// advertising the same host:port: it is refused, not treated as stale.
TEST_F(MembershipTest, AddNodeRejectsACoordinatorClaimingThisAddress) {
  CandidateIdentity candidate = FreshCandidate();
  candidate.cluster_id = IdOf(0x33);
  candidate.is_coordinator = true;
  candidate.coordinates_others = true;
  candidate.cluster_coordinator = "a:5432";
  ExpectError([&] { DecideAdd(Request("c"), candidate); },
              {"55000", "node c:5432 already belongs to another cluster", "That cluster is administered from a:5432.",
               "Remove the node there with phantom_remove_node first."});
}

TEST(FoundingRequestTest, KeepsTheCallWhenItNamesThisNode) {
  AddNodeRequest self = Request("a");
  AddNodeRequest call = Request("a");
  call.name = "solo";
  call.region = "eu-west";
  EXPECT_EQ(FoundingRequest(self, call).name, std::optional<std::string>("solo"));
  EXPECT_EQ(FoundingRequest(self, call).region, "eu-west");
  // Another node, or this host on another port: this node registers as configured.
  EXPECT_EQ(FoundingRequest(self, Request("b")).host, "a");
  EXPECT_EQ(FoundingRequest(self, Request("a", 5433)).port, 5432);
  EXPECT_EQ(FoundingRequest(self, Request("b")).name, std::nullopt);
}

}  // namespace
}  // namespace phantom::metadata
