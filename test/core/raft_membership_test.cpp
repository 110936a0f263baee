#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/raft/raft.hpp"
#include "raft_network.hpp"

namespace phantom::raft {
namespace {

using testing::Network;
using testing::Voters;

TEST(RaftMembershipTest, LearnerReceivesEntriesButNeitherVotesNorCounts) {
  Network net;
  for (NodeId id : {1, 2, 3}) net.Add(id, Voters({1, 2}, {3}));
  net.Elect(1);
  net.At(1).Propose("a");
  net.Deliver();
  EXPECT_EQ(net.Node(3).applied, (std::vector<std::string>{"a"}));
  // With voter 2 gone the learner's acknowledgement does not commit anything.
  net.Isolate(2);
  const Index commit = net.At(1).Status().commit;
  net.At(1).Propose("b");
  net.Deliver();
  EXPECT_EQ(net.At(1).Status().commit, commit);
  EXPECT_EQ(net.At(1).PeerProgress(3)->Match(), commit + 1);
  // A learner never campaigns, however long it waits.
  net.Isolate(3);
  const Term term = net.At(3).Status().term;
  net.Tick(3, 100);
  EXPECT_EQ(net.At(3).Status().role, Role::kFollower);
  EXPECT_EQ(net.At(3).Status().term, term);
  net.At(3).Campaign();
  EXPECT_EQ(net.At(3).Status().role, Role::kFollower);
}

TEST(RaftMembershipTest, AddLearnerPromoteAndRemoveVoter) {
  Network net;
  for (NodeId id : {1, 2, 3}) net.Add(id, Voters({1, 2, 3}));
  // A joining node starts from the membership it joins (the initial one is not
  // in the log); it is not a voter, so it stays quiet until the leader calls.
  net.Add(4, Voters({1, 2, 3}));
  net.Elect(1);
  net.At(1).ProposeConfChange(ConfChange{ConfChangeType::kAddLearner, 4});
  net.Deliver();
  EXPECT_EQ(net.At(1).Status().learners, (std::vector<NodeId>{4}));
  net.At(1).Propose("a");
  net.Deliver();
  EXPECT_EQ(net.Node(4).applied, (std::vector<std::string>{"a"}));
  EXPECT_EQ(net.At(4).Status().learners, (std::vector<NodeId>{4}));

  net.At(1).ProposeConfChange(ConfChange{ConfChangeType::kAddVoter, 4});
  net.Deliver();
  for (NodeId id : {1, 2, 3, 4}) {
    EXPECT_EQ(net.At(id).Status().voters, (std::vector<NodeId>{1, 2, 3, 4})) << id;
    EXPECT_TRUE(net.At(id).Status().learners.empty()) << id;
  }
  // Four voters need three acknowledgements.
  net.Isolate(2);
  net.Isolate(3);
  const Index commit = net.At(1).Status().commit;
  net.At(1).Propose("b");
  net.Deliver();
  EXPECT_EQ(net.At(1).Status().commit, commit);
  net.Heal();
  net.Tick(1, 2);
  EXPECT_GT(net.At(1).Status().commit, commit);

  net.At(1).ProposeConfChange(ConfChange{ConfChangeType::kRemoveNode, 3});
  net.Deliver();
  EXPECT_EQ(net.At(1).Status().voters, (std::vector<NodeId>{1, 2, 4}));
  EXPECT_EQ(net.At(1).PeerProgress(3), nullptr);
  // Removed node 3 no longer counts: 1 and 4 suffice out of {1, 2, 4}.
  net.Isolate(2);
  net.Isolate(3);
  net.At(1).Propose("c");
  net.Deliver();
  EXPECT_EQ(net.Node(4).applied.back(), "c");
}

TEST(RaftMembershipTest, LeaderRefusesSecondPendingConfChange) {
  Network net;
  for (NodeId id : {1, 2, 3}) net.Add(id, Voters({1, 2, 3}));
  net.Elect(1);
  net.At(1).ProposeConfChange(ConfChange{ConfChangeType::kAddLearner, 4});
  EXPECT_THROW(net.At(1).ProposeConfChange(ConfChange{ConfChangeType::kAddLearner, 5}), Error);
  net.Deliver();
  // Once the first is applied the next one is accepted.
  net.At(1).ProposeConfChange(ConfChange{ConfChangeType::kAddLearner, 5});
  net.Deliver();
  EXPECT_EQ(net.At(1).Status().learners, (std::vector<NodeId>{4, 5}));
}

TEST(RaftMembershipTest, NewLeaderRefusesConfChangeUntilEarlierEntriesApply) {
  Network net;
  for (NodeId id : {1, 2, 3}) net.Add(id, Voters({1, 2, 3}));
  net.Elect(1);
  net.Isolate(2);
  net.Isolate(3);
  net.At(1).ProposeConfChange(ConfChange{ConfChangeType::kAddLearner, 4});
  // The leader cannot know whether the uncommitted entry will commit.
  EXPECT_THROW(net.At(1).ProposeConfChange(ConfChange{ConfChangeType::kRemoveNode, 3}), Error);
}

TEST(RaftMembershipTest, RemovingTheLastVoterIsRefused) {
  Network net;
  net.Add(1, Voters({1}));
  net.Elect(1);
  EXPECT_THROW(net.At(1).ProposeConfChange(ConfChange{ConfChangeType::kRemoveNode, 1}), Error);
}

TEST(RaftMembershipTest, RemovedLeaderStepsDown) {
  Network net;
  for (NodeId id : {1, 2, 3}) net.Add(id, Voters({1, 2, 3}));
  net.Elect(1);
  net.At(1).ProposeConfChange(ConfChange{ConfChangeType::kRemoveNode, 1});
  net.Deliver();
  EXPECT_EQ(net.At(1).Status().role, Role::kFollower);
  EXPECT_EQ(net.At(2).Status().voters, (std::vector<NodeId>{2, 3}));
  net.TickAll(40);
  const NodeId leader = net.LeaderOf(2);
  EXPECT_TRUE(leader == 2 || leader == 3);
}

}  // namespace
}  // namespace phantom::raft
