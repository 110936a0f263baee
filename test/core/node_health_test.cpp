#include "core/metadata/node_health.hpp"

#include <gtest/gtest.h>

#include "metadata_samples.hpp"

namespace phantom::metadata {
namespace {

constexpr const char* kVersion = "0.1";
constexpr NodeId kSelf = 1;  // the node judging: a:5432

ClusterRecord Cluster() {
  ClusterRecord cluster;
  cluster.cluster_id = IdOf(0x11);
  cluster.next_node_id = 3;
  return cluster;
}

// A node of cluster 0x11 other than the one asking.
CandidateIdentity Member() {
  CandidateIdentity reported;
  reported.extension_version = kVersion;
  reported.cluster_id = IdOf(0x11);
  return reported;
}

CandidateIdentity Self() {
  CandidateIdentity reported = Member();
  reported.is_local_node = true;
  return reported;
}

TEST(DiagnoseNodeTest, AHealthyMember) {
  EXPECT_EQ(DiagnoseNode(Cluster(), Node(2, "b"), Member(), kVersion, kSelf), std::nullopt);
}

TEST(DiagnoseNodeTest, AHealthySelf) {
  EXPECT_EQ(DiagnoseNode(Cluster(), Node(1, "a"), Self(), kVersion, kSelf), std::nullopt);
}

// Any node judges: the local node id, not a coordinator, says which row is
// this server.
TEST(DiagnoseNodeTest, JudgedFromAnotherNode) {
  EXPECT_EQ(DiagnoseNode(Cluster(), Node(1, "a"), Member(), kVersion, 2), std::nullopt);
  EXPECT_EQ(DiagnoseNode(Cluster(), Node(2, "b"), Self(), kVersion, 2), std::nullopt);
  EXPECT_EQ(DiagnoseNode(Cluster(), Node(2, "b"), Member(), kVersion, 2),
            "b:5432 is not this node: phantomdb.advertise_host or the port is wrong");
}

TEST(DiagnoseNodeTest, TheVersionDiffersOrTheExtensionIsGone) {
  CandidateIdentity reported = Member();
  reported.extension_version = "0.2";
  EXPECT_EQ(DiagnoseNode(Cluster(), Node(2, "b"), reported, kVersion, kSelf),
            "b:5432 runs phantomdb 0.2, this node runs 0.1");
  reported.extension_version = "";
  EXPECT_EQ(DiagnoseNode(Cluster(), Node(2, "b"), reported, kVersion, kSelf),
            "b:5432 runs phantomdb (not installed), this node runs 0.1");
}

TEST(DiagnoseNodeTest, SelfAddressReachesAnotherServer) {
  EXPECT_EQ(DiagnoseNode(Cluster(), Node(1, "a"), Member(), kVersion, kSelf),
            "a:5432 is not this node: phantomdb.advertise_host or the port is wrong");
}

// It reports this cluster, but only because it is this very server.
TEST(DiagnoseNodeTest, AnotherNodesAddressReachesThisServer) {
  EXPECT_EQ(DiagnoseNode(Cluster(), Node(2, "b"), Self(), kVersion, kSelf), "b:5432 reaches this node, not node \"b\"");
}

TEST(DiagnoseNodeTest, ANodeThatDoesNotBelieveItIsInThisCluster) {
  CandidateIdentity reported = Member();
  reported.cluster_id.reset();
  EXPECT_EQ(DiagnoseNode(Cluster(), Node(2, "b"), reported, kVersion, kSelf),
            "b:5432 does not consider itself a member of this cluster");
  reported.cluster_id = IdOf(0x22);
  EXPECT_EQ(DiagnoseNode(Cluster(), Node(2, "b"), reported, kVersion, kSelf),
            "b:5432 does not consider itself a member of this cluster");
  // This node's own record of its cluster disagreeing with the catalog.
  reported = Self();
  reported.cluster_id = IdOf(0x22);
  EXPECT_EQ(DiagnoseNode(Cluster(), Node(1, "a"), reported, kVersion, kSelf),
            "a:5432 does not consider itself a member of this cluster");
}

// The version is judged first: an old version may not even report the rest.
TEST(DiagnoseNodeTest, TheVersionComesFirst) {
  CandidateIdentity reported;
  reported.extension_version = "0.0";
  EXPECT_EQ(DiagnoseNode(Cluster(), Node(1, "a"), reported, kVersion, kSelf),
            "a:5432 runs phantomdb 0.0, this node runs 0.1");
}

}  // namespace
}  // namespace phantom::metadata
