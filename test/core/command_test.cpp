#include "core/metadata/command.hpp"

#include <gtest/gtest.h>

#include "core/common/error.hpp"
#include "expect_error.hpp"

namespace phantom::metadata {
namespace {

TEST(CommandTest, NodeStateNames) {
  EXPECT_STREQ(NodeStateName(NodeState::kJoining), "joining");
  EXPECT_STREQ(NodeStateName(NodeState::kActive), "active");
  EXPECT_STREQ(NodeStateName(NodeState::kSuspect), "suspect");
  EXPECT_STREQ(NodeStateName(NodeState::kFailed), "failed");
  EXPECT_STREQ(NodeStateName(NodeState::kDraining), "draining");
  EXPECT_STREQ(NodeStateName(NodeState::kDrained), "drained");
}

TEST(CommandTest, NodeRoleNames) {
  EXPECT_STREQ(NodeRoleName(NodeRole::kPrimary), "primary");
  EXPECT_STREQ(NodeRoleName(NodeRole::kReplica), "replica");
}

TEST(CommandTest, ParseNodeRoleAcceptsTheNames) {
  EXPECT_EQ(ParseNodeRole("primary"), NodeRole::kPrimary);
  EXPECT_EQ(ParseNodeRole("replica"), NodeRole::kReplica);
  for (NodeRole role : {NodeRole::kPrimary, NodeRole::kReplica}) EXPECT_EQ(ParseNodeRole(NodeRoleName(role)), role);
}

TEST(CommandTest, ParseNodeRoleRejectsAnythingElse) {
  for (const char* bad : {"", "Primary", "REPLICA", " primary", "primary ", "leader"})
    ExpectError([&] { ParseNodeRole(bad); }, {"22023", std::string("invalid node role \"") + bad + "\"", "",
                                              "Valid roles are \"primary\" and \"replica\"."});
}

TEST(CommandTest, CommandNames) {
  EXPECT_STREQ(CommandName(CreateCluster{}), "CreateCluster");
  EXPECT_STREQ(CommandName(AddNode{}), "AddNode");
  EXPECT_STREQ(CommandName(RemoveNode{}), "RemoveNode");
  EXPECT_STREQ(CommandName(CreateDistributedTable{}), "CreateDistributedTable");
  EXPECT_STREQ(CommandName(DropDistributedTable{}), "DropDistributedTable");
  EXPECT_STREQ(CommandName(RenameDistributedTable{}), "RenameDistributedTable");
  EXPECT_STREQ(CommandName(SetNodeState{}), "SetNodeState");
}

TEST(CommandTest, DistributionMethodNames) {
  EXPECT_STREQ(DistributionMethodName(DistributionMethod::kHash), "hash");
  EXPECT_STREQ(DistributionMethodName(DistributionMethod::kReference), "reference");
}

}  // namespace
}  // namespace phantom::metadata
