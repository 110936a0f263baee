#include "core/metadata/node_health.hpp"

#include <gtest/gtest.h>

namespace phantom::metadata {
namespace {

constexpr const char* kVersion = "0.1";

ClusterId IdOf(uint8_t seed) {
  ClusterId id{};
  id.fill(seed);
  return id;
}

// Cluster 0x11.. administered by node 1 (a:5432).
const ClusterRecord kCluster{IdOf(0x11), 1, 3, "a", 5432};

NodeRecord Node(NodeId node_id, const std::string& host) {
  NodeRecord node;
  node.node_id = node_id;
  node.name = host;
  node.host = host;
  node.port = 5432;
  return node;
}

CandidateIdentity Member() {
  CandidateIdentity reported;
  reported.extension_version = kVersion;
  reported.cluster_id = IdOf(0x11);
  reported.cluster_coordinator = "a:5432";
  return reported;
}

TEST(DiagnoseNodeTest, AHealthyMember) {
  EXPECT_EQ(DiagnoseNode(kCluster, Node(2, "b"), Member(), kVersion), std::nullopt);
}

TEST(DiagnoseNodeTest, AHealthySelf) {
  CandidateIdentity reported = Member();
  reported.is_local_node = true;
  reported.is_coordinator = true;
  EXPECT_EQ(DiagnoseNode(kCluster, Node(1, "a"), reported, kVersion), std::nullopt);
}

TEST(DiagnoseNodeTest, TheVersionDiffersOrTheExtensionIsGone) {
  CandidateIdentity reported = Member();
  reported.extension_version = "0.2";
  EXPECT_EQ(DiagnoseNode(kCluster, Node(2, "b"), reported, kVersion), "b:5432 runs phantomdb 0.2, this node runs 0.1");
  reported.extension_version = "";
  EXPECT_EQ(DiagnoseNode(kCluster, Node(2, "b"), reported, kVersion),
            "b:5432 runs phantomdb (not installed), this node runs 0.1");
}

TEST(DiagnoseNodeTest, SelfAddressReachesAnotherServer) {
  EXPECT_EQ(DiagnoseNode(kCluster, Node(1, "a"), Member(), kVersion),
            "a:5432 is not this node: phantomdb.advertise_host or the port is wrong");
}

TEST(DiagnoseNodeTest, AMemberThatForgotItJoined) {
  CandidateIdentity reported = Member();
  reported.cluster_id.reset();
  EXPECT_EQ(DiagnoseNode(kCluster, Node(2, "b"), reported, kVersion),
            "b:5432 does not consider itself a member of this cluster");
  reported.cluster_id = IdOf(0x22);
  EXPECT_EQ(DiagnoseNode(kCluster, Node(2, "b"), reported, kVersion),
            "b:5432 does not consider itself a member of this cluster");
}

TEST(DiagnoseCoordinatorTest, StillAdministersTheCluster) {
  CandidateIdentity reported = Member();
  reported.is_coordinator = true;
  EXPECT_EQ(DiagnoseCoordinator(ClusterRecord{IdOf(0x11), 0, 1, "a", 5432}, reported), std::nullopt);
}

TEST(DiagnoseCoordinatorTest, NoLongerAdministersIt) {
  const ClusterRecord member{IdOf(0x11), 0, 1, "a", 5432};
  CandidateIdentity reported = Member();  // a member itself, not a coordinator
  EXPECT_EQ(DiagnoseCoordinator(member, reported), "a:5432 no longer administers this node's cluster");
  reported.is_coordinator = true;
  reported.cluster_id = IdOf(0x22);  // re-created: a new cluster
  EXPECT_EQ(DiagnoseCoordinator(member, reported), "a:5432 no longer administers this node's cluster");
}

}  // namespace
}  // namespace phantom::metadata
