#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/raft/raft.hpp"
#include "raft_network.hpp"

namespace phantom::raft {
namespace {

using testing::Network;
using testing::Voters;

TEST(RaftReadIndexTest, ReadStateOnlyAfterHeartbeatQuorum) {
  Network net;
  for (NodeId id : {1, 2, 3}) net.Add(id, Voters({1, 2, 3}));
  net.Elect(1);
  net.At(1).Propose("a");
  net.Deliver();
  const Index commit = net.At(1).Status().commit;
  net.Isolate(1);
  net.At(1).ReadIndex("r1");
  net.Deliver();
  net.Tick(1, 3);
  EXPECT_TRUE(net.Node(1).reads.empty());  // no quorum confirmed leadership
  net.Heal();
  net.Tick(1, 1);  // the next heartbeat round carries the pending read
  ASSERT_EQ(net.Node(1).reads.size(), 1u);
  EXPECT_EQ(net.Node(1).reads[0], (ReadState{commit, "r1"}));
}

TEST(RaftReadIndexTest, OneAcknowledgementIsEnoughOutOfThree) {
  Network net;
  for (NodeId id : {1, 2, 3}) net.Add(id, Voters({1, 2, 3}));
  net.Elect(1);
  net.Isolate(3);
  net.At(1).ReadIndex("r1");
  net.At(1).ReadIndex("r2");
  net.Deliver();
  ASSERT_EQ(net.Node(1).reads.size(), 2u);
  EXPECT_EQ(net.Node(1).reads[0].context, "r1");
  EXPECT_EQ(net.Node(1).reads[1].context, "r2");
}

TEST(RaftReadIndexTest, FollowerReadIsForwardedToLeader) {
  Network net;
  for (NodeId id : {1, 2, 3}) net.Add(id, Voters({1, 2, 3}));
  net.Elect(1);
  net.At(1).Propose("a");
  net.Deliver();
  net.At(2).ReadIndex("f");
  net.Deliver();
  ASSERT_EQ(net.Node(2).reads.size(), 1u);
  EXPECT_EQ(net.Node(2).reads[0], (ReadState{net.At(1).Status().commit, "f"}));
  EXPECT_TRUE(net.Node(1).reads.empty());
}

TEST(RaftReadIndexTest, NewLeaderDefersReadsUntilItCommits) {
  Network net;
  for (NodeId id : {1, 2, 3}) net.Add(id, Voters({1, 2, 3}));
  // Votes arrive but the leader's first append is lost.
  bool drop_appends = true;
  net.filter = [&](Message& m) { return !(drop_appends && m.type == MessageType::kAppend); };
  net.Elect(1);
  ASSERT_EQ(net.At(1).Status().role, Role::kLeader);
  net.At(1).ReadIndex("r");
  net.Deliver();
  EXPECT_TRUE(net.Node(1).reads.empty());
  drop_appends = false;
  net.Tick(1, 3);
  ASSERT_EQ(net.Node(1).reads.size(), 1u);
  EXPECT_EQ(net.Node(1).reads[0].index, 1u);  // the leader's own empty entry
}

TEST(RaftReadIndexTest, SingleNodeReadsImmediately) {
  Network net;
  net.Add(1, Voters({1}));
  net.Elect(1);
  net.At(1).ReadIndex("r");
  net.Deliver();
  ASSERT_EQ(net.Node(1).reads.size(), 1u);
  EXPECT_EQ(net.Node(1).reads[0].index, 1u);
}

TEST(RaftTransferTest, ToUpToDateFollower) {
  Network net;
  for (NodeId id : {1, 2, 3}) net.Add(id, Voters({1, 2, 3}));
  net.Elect(1);
  net.At(1).TransferLeadership(2);
  net.Deliver();
  EXPECT_EQ(net.At(2).Status().role, Role::kLeader);
  EXPECT_EQ(net.LeaderOf(1), 2u);
  EXPECT_EQ(net.LeaderOf(3), 2u);
}

TEST(RaftTransferTest, ToLaggingFollowerCatchesItUpFirst) {
  Network net;
  net.check_quorum = true;  // the transfer must win despite the followers' leases
  for (NodeId id : {1, 2, 3}) net.Add(id, Voters({1, 2, 3}));
  net.Elect(1);
  net.Isolate(3);
  for (int k = 0; k < 3; ++k) net.At(1).Propose("p" + std::to_string(k));
  net.Deliver();
  net.Heal();
  net.At(1).TransferLeadership(3);
  EXPECT_THROW(net.At(1).Propose("dropped"), Error);
  net.Deliver();
  EXPECT_EQ(net.At(3).Status().role, Role::kLeader);
  EXPECT_EQ(net.Node(3).applied.size(), 3u);
}

TEST(RaftTransferTest, RequestFromFollowerIsForwarded) {
  Network net;
  for (NodeId id : {1, 2, 3}) net.Add(id, Voters({1, 2, 3}));
  net.Elect(1);
  net.At(2).TransferLeadership(3);
  net.Deliver();
  EXPECT_EQ(net.At(3).Status().role, Role::kLeader);
}

TEST(RaftTransferTest, AbortsAfterElectionTimeout) {
  Network net;
  for (NodeId id : {1, 2, 3}) net.Add(id, Voters({1, 2, 3}));
  net.Elect(1);
  net.Isolate(3);
  net.At(1).TransferLeadership(3);
  net.Deliver();
  EXPECT_THROW(net.At(1).Propose("x"), Error);
  net.Tick(1, 10);
  EXPECT_EQ(net.At(1).Status().role, Role::kLeader);
  net.At(1).Propose("x");
  net.Deliver();
  EXPECT_EQ(net.Node(2).applied, (std::vector<std::string>{"x"}));
}

}  // namespace
}  // namespace phantom::raft
