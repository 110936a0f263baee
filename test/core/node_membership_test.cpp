#include "core/metadata/node_membership.hpp"

#include <gtest/gtest.h>

#include "metadata_samples.hpp"
#include <cstdint>

#include <string>
#include <vector>

#include "core/common/error.hpp"
#include "core/metadata/cluster_id.hpp"
#include "apply_next.hpp"
#include "expect_error.hpp"
#include "in_memory_catalog.hpp"

namespace phantom::metadata {
namespace {

constexpr int64_t kNow = 1700000000000000;
constexpr const char* kVersion = "0.1";

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

// Cluster 0x11.., founded on a:5432, with b:5432 added, driven through the
// same decide-then-apply path as the glue.
class MembershipTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ApplyNext(catalog_, DecideCreateCluster(IdOf(0x11), Request("a"), kNow));
    Add(Request("b"));
  }

  ClusterRecord Cluster() { return *catalog_.GetCluster(); }
  std::vector<NodeRecord> Nodes() { return catalog_.ListNodes(); }

  Command DecideAdd(const AddNodeRequest& request, const CandidateIdentity& candidate = FreshCandidate()) {
    return DecideAddNode(Cluster(), Nodes(), request, candidate, kVersion, kNow);
  }

  NodeRecord Add(const AddNodeRequest& request) {
    Command command = DecideAdd(request);
    ApplyNext(catalog_, command);
    return std::get<AddNode>(command).node;
  }

  void Remove(const std::string& node_ref) { ApplyNext(catalog_, DecideRemoveNode(Cluster(), Nodes(), {}, node_ref)); }

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

TEST(DecideCreateClusterTest, RegistersSelfAsNodeOne) {
  AddNodeRequest self = Request("a");
  self.region = "eu";
  self.role = "replica";
  const Command command = DecideCreateCluster(IdOf(0x11), self, kNow);
  ASSERT_TRUE(std::holds_alternative<CreateCluster>(command));
  const CreateCluster& create = std::get<CreateCluster>(command);
  EXPECT_EQ(create.cluster_id, IdOf(0x11));
  EXPECT_EQ(create.self, (NodeRecord{1, "a:5432", "a", 5432, "eu", NodeRole::kReplica, NodeState::kActive, kNow}));
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
  ClusterRecord expected;
  expected.cluster_id = IdOf(0x11);
  expected.next_node_id = 3;
  expected.metadata_version = 2;
  EXPECT_EQ(Cluster(), expected);
  const std::vector<NodeRecord> nodes = Nodes();
  ASSERT_EQ(nodes.size(), 2u);
  EXPECT_EQ(nodes[0], (NodeRecord{1, "a:5432", "a", 5432, "default", NodeRole::kPrimary, NodeState::kActive, kNow}));
  // Joining until the Raft leader sees it caught up.
  EXPECT_EQ(nodes[1], (NodeRecord{2, "b:5432", "b", 5432, "default", NodeRole::kPrimary, NodeState::kJoining, kNow}));
}

TEST_F(MembershipTest, AddNodeTakesTheRequestedFields) {
  AddNodeRequest request = Request("::1", 6000);
  request.name = "replica-1";
  request.region = "eu-west";
  request.role = "replica";
  const Command command = DecideAdd(request);
  ASSERT_TRUE(std::holds_alternative<AddNode>(command));
  EXPECT_EQ(std::get<AddNode>(command).node,
            (NodeRecord{3, "replica-1", "::1", 6000, "eu-west", NodeRole::kReplica, NodeState::kJoining, kNow}));
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

ExpectedError ThisNodeError(const std::string& address) {
  return {"42710", address + " is this node, already registered under another address", "",
          "SELECT node_name, host, port FROM phantom_nodes lists the nodes."};
}

ExpectedError OtherClusterError(const std::string& address) {
  return {"55000", "node \"" + address + "\" already belongs to another cluster",
          "It belongs to cluster 33333333-3333-3333-3333-333333333333, this node to cluster "
          "11111111-1111-1111-1111-111111111111.",
          "Remove it from that cluster with phantom_remove_node, or drop and re-create the extension phantomdb on it "
          "so that it forgets that cluster."};
}

TEST_F(MembershipTest, AddNodeRejectsThisNodeUnderAnotherAddress) {
  CandidateIdentity candidate = FreshCandidate();
  candidate.is_local_node = true;
  candidate.cluster_id = IdOf(0x11);
  ExpectError([&] { DecideAdd(Request("localhost"), candidate); }, ThisNodeError("localhost:5432"));
  // Whatever cluster it reports: it is this node all the same.
  candidate.cluster_id.reset();
  ExpectError([&] { DecideAdd(Request("127.0.0.1"), candidate); }, ThisNodeError("127.0.0.1:5432"));
}

// Its own catalog describes another cluster, which may still count on it.
TEST_F(MembershipTest, AddNodeRejectsANodeOfAnotherCluster) {
  CandidateIdentity candidate = FreshCandidate();
  candidate.cluster_id = IdOf(0x33);
  ExpectError([&] { DecideAdd(Request("c"), candidate); }, OtherClusterError("c:5432"));
  ExpectError([&] { DecideAdd(Request("::1", 6000), candidate); }, OtherClusterError("[::1]:6000"));
}

// Removed while unreachable (or its add rolled back after it recorded the
// cluster): it still believes it belongs here, and this catalog says it
// does not, so it may be added again, as a new node.
TEST_F(MembershipTest, AddNodeAcceptsANodeThatBelievesItIsInThisCluster) {
  const NodeRecord first = Add(Request("c"));
  Remove("c:5432");
  CandidateIdentity candidate = FreshCandidate();
  candidate.cluster_id = IdOf(0x11);
  const Command command = DecideAdd(Request("c"), candidate);
  const NodeRecord& again = std::get<AddNode>(command).node;
  EXPECT_EQ(again.node_id, first.node_id + 1);
  EXPECT_EQ(again.state, NodeState::kJoining);
}

TEST_F(MembershipTest, AddNodeAcceptsANodeInNoCluster) {
  const Command command = DecideAdd(Request("c"));
  EXPECT_EQ(std::get<AddNode>(command).node,
            (NodeRecord{3, "c:5432", "c", 5432, "default", NodeRole::kPrimary, NodeState::kJoining, kNow}));
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

TEST_F(MembershipTest, ChecksRunInOrder) {
  CandidateIdentity candidate;  // no extension, in another cluster
  candidate.cluster_id = IdOf(0x33);
  AddNodeRequest request = Request("c");
  request.name = "b:5432";
  candidate.is_local_node = true;
  ExpectError([&] { DecideAdd(request, candidate); }, ThisNodeError("c:5432"));
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
  ExpectError([&] { DecideAdd(request, candidate); }, OtherClusterError("c:5432"));
  candidate.cluster_id = std::nullopt;
  EXPECT_EQ(std::get<AddNode>(DecideAdd(request, candidate)).node.node_id, 3);
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

// Every node holds the catalog: the founding node, or the one deciding, is a
// node like any other.
TEST_F(MembershipTest, RemoveNodeAcceptsTheFoundingNode) {
  Add(Request("c"));
  EXPECT_EQ(DecideRemoveNode(Cluster(), Nodes(), {}, "a:5432").node_id, 1);
  Remove("a:5432");
  EXPECT_EQ(Nodes().size(), 2u);
  EXPECT_EQ(Nodes()[0].host, "b");
  // And the catalog goes on: the next node still gets a fresh id.
  EXPECT_EQ(Add(Request("a")).node_id, 4);
}

TEST_F(MembershipTest, RemoveNodeRejectsTheLastNode) {
  Remove("b:5432");
  ExpectError([&] { DecideRemoveNode(Cluster(), Nodes(), {}, "a:5432"); },
              {"55000", "cannot remove node \"a:5432\": it is the last node of the cluster"});
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

TEST(DecideRemoveNodeTest, NothingToRemoveWithoutACluster) {
  ExpectError([] { DecideRemoveNode(ClusterRecord{}, {}, {}, "a:5432"); },
              {"42704", "node \"a:5432\" does not exist", "",
               "SELECT node_name, host, port FROM phantom_nodes lists the nodes."});
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
