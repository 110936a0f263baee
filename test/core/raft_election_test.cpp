#include <gtest/gtest.h>

#include <set>

#include "core/raft/raft.hpp"
#include "raft_network.hpp"

namespace phantom::raft {
namespace {

using testing::E;
using testing::Network;
using testing::Voters;

TEST(RaftElectionTest, SingleNodeBecomesLeaderAndCommits) {
  Network net;
  net.Add(1, Voters({1}));
  net.Tick(1, 20);
  EXPECT_EQ(net.At(1).Status().role, Role::kLeader);
  net.At(1).Propose("a");
  net.Deliver();
  EXPECT_EQ(net.Node(1).applied, (std::vector<std::string>{"a"}));
  EXPECT_EQ(net.At(1).Status().commit, 2u);  // the leader's empty entry, then "a"
}

TEST(RaftElectionTest, ElectionTimeoutIsRandomizedWithinBounds) {
  std::set<int> seen;
  for (uint64_t seed = 0; seed < 30; ++seed) {
    MemoryStorage storage;
    storage.SetConfState(Voters({1, 2, 3}));
    Config config;
    config.id = 1;
    config.storage = &storage;
    config.seed = seed;
    Raft raft(config);
    int ticks = 0;
    while (raft.Status().role == Role::kFollower && ticks < 100) {
      raft.Tick();
      ++ticks;
    }
    EXPECT_GE(ticks, 10);
    EXPECT_LT(ticks, 20);
    seen.insert(ticks);
  }
  EXPECT_GT(seen.size(), 3u);
}

TEST(RaftElectionTest, ThreeNodesElectAndReplicate) {
  Network net;
  for (NodeId id : {1, 2, 3}) net.Add(id, Voters({1, 2, 3}));
  net.Elect(1);
  EXPECT_EQ(net.At(1).Status().role, Role::kLeader);
  EXPECT_EQ(net.At(1).Status().term, 1u);
  EXPECT_EQ(net.LeaderOf(2), 1u);
  EXPECT_EQ(net.LeaderOf(3), 1u);
  net.At(1).Propose("a");
  net.At(2).Propose("b");  // forwarded to the leader
  net.Deliver();
  for (NodeId id : {1, 2, 3}) EXPECT_EQ(net.Node(id).applied, (std::vector<std::string>{"a", "b"})) << id;
}

TEST(RaftElectionTest, ElectionByTicksAndNoDoubleLeader) {
  Network net;
  for (NodeId id : {1, 2, 3}) net.Add(id, Voters({1, 2, 3}));
  net.TickAll(40);
  int leaders = 0;
  for (NodeId id : {1, 2, 3}) leaders += net.At(id).Status().role == Role::kLeader ? 1 : 0;
  EXPECT_EQ(leaders, 1);
}

TEST(RaftElectionTest, ProposeWithoutLeaderThrows) {
  Network net;
  for (NodeId id : {1, 2, 3}) net.Add(id, Voters({1, 2, 3}));
  EXPECT_THROW(net.At(1).Propose("x"), Error);
  EXPECT_THROW(net.At(1).ReadIndex("r"), Error);
}

TEST(RaftElectionTest, CandidateWithStaleLogLoses) {
  Network net;
  net.Add(1, Voters({1, 2, 3}), {E(1, 1)}, HardState{1, 0, 0});
  net.Add(2, Voters({1, 2, 3}), {E(1, 1), E(2, 1)}, HardState{1, 0, 0});
  net.Add(3, Voters({1, 2, 3}), {E(1, 1), E(2, 1)}, HardState{1, 0, 0});
  net.Elect(1);
  EXPECT_NE(net.At(1).Status().role, Role::kLeader);
  net.Elect(2);
  EXPECT_EQ(net.At(2).Status().role, Role::kLeader);
}

TEST(RaftElectionTest, PreVoteKeepsPartitionedNodeFromDisrupting) {
  Network net;
  net.pre_vote = true;
  for (NodeId id : {1, 2, 3}) net.Add(id, Voters({1, 2, 3}));
  net.Elect(1);
  ASSERT_EQ(net.At(1).Status().role, Role::kLeader);
  const Term term = net.At(1).Status().term;
  net.Isolate(3);
  net.Tick(3, 100);
  EXPECT_EQ(net.At(3).Status().term, term);  // pre-votes do not bump the term
  EXPECT_EQ(net.At(3).Status().role, Role::kPreCandidate);
  net.Heal();
  // Node 3 keeps trying while the others keep the leader alive.
  for (int k = 0; k < 30; ++k) {
    net.At(1).Tick();
    net.At(3).Tick();
    net.Deliver();
  }
  EXPECT_EQ(net.At(1).Status().role, Role::kLeader);
  EXPECT_EQ(net.At(1).Status().term, term);
  EXPECT_EQ(net.LeaderOf(3), 1u);
}

TEST(RaftElectionTest, WithoutPreVoteAPartitionedNodeDisruptsOnReturn) {
  Network net;
  for (NodeId id : {1, 2, 3}) net.Add(id, Voters({1, 2, 3}));
  net.Elect(1);
  const Term term = net.At(1).Status().term;
  net.Isolate(3);
  net.Tick(3, 100);
  EXPECT_GT(net.At(3).Status().term, term + 3);
  net.Heal();
  net.Tick(3, 20);  // its next vote request carries a higher term and deposes the leader
  EXPECT_GT(net.At(1).Status().term, term);
  EXPECT_NE(net.At(1).Status().role, Role::kLeader);
}

TEST(RaftElectionTest, CheckQuorumMakesPartitionedLeaderStepDown) {
  Network net;
  net.check_quorum = true;
  for (NodeId id : {1, 2, 3}) net.Add(id, Voters({1, 2, 3}));
  net.Elect(1);
  ASSERT_EQ(net.At(1).Status().role, Role::kLeader);
  net.Isolate(1);
  // The first check still counts the acknowledgements of its election; the second finds none.
  net.Tick(1, 20);
  EXPECT_EQ(net.At(1).Status().role, Role::kFollower);
  // The rest elect a new leader; the old one accepts one once healed.
  net.TickAll(40);
  EXPECT_NE(net.LeaderOf(2), kNoNode);
  EXPECT_NE(net.LeaderOf(2), 1u);
  net.Heal();
  net.TickAll(60);
  const NodeId leader = net.LeaderOf(2);
  EXPECT_NE(leader, kNoNode);
  EXPECT_EQ(net.LeaderOf(1), leader);
  EXPECT_EQ(net.LeaderOf(3), leader);
}

TEST(RaftElectionTest, CheckQuorumLeaseIgnoresVoteRequests) {
  Network net;
  net.check_quorum = true;
  for (NodeId id : {1, 2, 3}) net.Add(id, Voters({1, 2, 3}));
  net.Elect(1);
  const Term term = net.At(1).Status().term;
  // Node 3 campaigns although the leader is healthy: 2 still has a lease and ignores it.
  net.Elect(3);
  EXPECT_EQ(net.At(1).Status().role, Role::kLeader);
  EXPECT_EQ(net.At(2).Status().term, term);
  EXPECT_NE(net.At(3).Status().role, Role::kLeader);
}

TEST(RaftElectionTest, RestartKeepsTermVoteAndLog) {
  Network net;
  for (NodeId id : {1, 2, 3}) net.Add(id, Voters({1, 2, 3}));
  net.Elect(1);
  net.At(1).Propose("a");
  net.Deliver();
  const RaftStatus before = net.At(2).Status();
  const HardState persisted = net.Node(2).storage->InitialState().hard_state;
  EXPECT_EQ(persisted.vote, 1u);
  Raft& restarted = net.Restart(2);
  const RaftStatus after = restarted.Status();
  EXPECT_EQ(after.term, before.term);
  EXPECT_EQ(after.commit, before.commit);
  EXPECT_EQ(after.voters, before.voters);
  EXPECT_EQ(after.role, Role::kFollower);
  // It will not vote for another candidate in the same term.
  Message vote;
  vote.type = MessageType::kVote;
  vote.from = 3;
  vote.to = 2;
  vote.term = after.term;
  vote.index = 100;
  vote.log_term = after.term;
  restarted.Step(vote);
  Ready ready = restarted.GetReady();
  ASSERT_EQ(ready.messages.size(), 1u);
  EXPECT_TRUE(ready.messages[0].reject);
  restarted.Advance();
  // And it continues replicating from where it was.
  net.At(1).Propose("b");
  net.Deliver();
  EXPECT_EQ(net.At(2).Status().commit, net.At(1).Status().commit);
}

TEST(RaftElectionTest, InvalidConfigIsRejected) {
  MemoryStorage storage;
  Config config;
  config.storage = &storage;
  EXPECT_THROW(Raft{config}, Error);  // id 0
  config.id = 1;
  config.election_tick = 1;
  EXPECT_THROW(Raft{config}, Error);
  config.election_tick = 10;
  config.storage = nullptr;
  EXPECT_THROW(Raft{config}, Error);
}

TEST(RaftElectionTest, ReadyReportsVoteBeforeVoteRequestsGoOut) {
  MemoryStorage storage;
  storage.SetConfState(Voters({1, 2, 3}));
  Config config;
  config.id = 1;
  config.storage = &storage;
  Raft raft(config);
  raft.Campaign();
  ASSERT_TRUE(raft.HasReady());
  Ready ready = raft.GetReady();
  ASSERT_TRUE(ready.hard_state.has_value());
  EXPECT_EQ(*ready.hard_state, (HardState{1, 1, 0}));
  ASSERT_TRUE(ready.soft_state.has_value());
  EXPECT_EQ(ready.soft_state->role, Role::kCandidate);
  ASSERT_EQ(ready.messages.size(), 2u);
  EXPECT_EQ(ready.messages[0].type, MessageType::kVote);
  raft.Advance();
  EXPECT_FALSE(raft.HasReady());
}

TEST(RaftElectionTest, StaleLeaderStepsDownOnHigherTerm) {
  Network net;
  for (NodeId id : {1, 2, 3}) net.Add(id, Voters({1, 2, 3}));
  net.Elect(1);
  net.Isolate(1);
  net.Elect(2);
  ASSERT_EQ(net.At(2).Status().role, Role::kLeader);
  EXPECT_EQ(net.At(1).Status().role, Role::kLeader);  // does not know yet
  net.Heal();
  net.Tick(2, 1);  // a heartbeat of the newer term
  EXPECT_EQ(net.At(1).Status().role, Role::kFollower);
  EXPECT_EQ(net.LeaderOf(1), 2u);
}

TEST(RaftElectionTest, FollowerForwardsConfChange) {
  Network net;
  for (NodeId id : {1, 2, 3}) net.Add(id, Voters({1, 2, 3}));
  net.Elect(1);
  net.At(3).ProposeConfChange(ConfChange{ConfChangeType::kAddLearner, 4});
  net.Deliver();
  EXPECT_EQ(net.At(1).Status().learners, (std::vector<NodeId>{4}));
  EXPECT_EQ(net.At(3).Status().learners, (std::vector<NodeId>{4}));
}

}  // namespace
}  // namespace phantom::raft
