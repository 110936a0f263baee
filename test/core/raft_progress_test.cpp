#include "core/raft/progress.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <vector>

#include "core/raft/quorum.hpp"

namespace phantom::raft {
namespace {

TEST(ProgressTest, ProbeSendsOneAppendAtATime) {
  Progress pr(5, 4, false);
  EXPECT_FALSE(pr.IsPaused());
  pr.SentEntries(7, 2);
  EXPECT_TRUE(pr.IsPaused());
  EXPECT_EQ(pr.Next(), 5u);  // probe does not advance optimistically
  pr.OnHeartbeatResponse();
  EXPECT_FALSE(pr.IsPaused());
}

TEST(ProgressTest, ProbeRejectionUsesHintAndIgnoresStale) {
  Progress pr(10, 4, false);
  EXPECT_FALSE(pr.MaybeDecreaseTo(5, 2));  // not the append we sent (after 9)
  EXPECT_TRUE(pr.MaybeDecreaseTo(9, 3));
  EXPECT_EQ(pr.Next(), 4u);
}

TEST(ProgressTest, ReplicateBoundsInflightAndFreesOnAck) {
  Progress pr(1, 2, false);
  pr.MaybeUpdate(3);
  pr.BecomeReplicate();
  EXPECT_EQ(pr.Next(), 4u);
  pr.SentEntries(5, 2);
  pr.SentEntries(7, 2);
  EXPECT_EQ(pr.Next(), 8u);
  EXPECT_TRUE(pr.IsPaused());
  pr.OnHeartbeatResponse();
  EXPECT_FALSE(pr.IsPaused());
  pr.SentEntries(8, 1);
  EXPECT_TRUE(pr.IsPaused());
  EXPECT_TRUE(pr.MaybeUpdate(7));
  EXPECT_FALSE(pr.IsPaused());
  EXPECT_EQ(pr.InFlight().Count(), 1u);
  EXPECT_FALSE(pr.MaybeDecreaseTo(6, 0));  // stale: already matched past it
  EXPECT_TRUE(pr.MaybeDecreaseTo(8, 6));
  EXPECT_EQ(pr.Next(), 8u);  // replicate falls back to just after the match
}

TEST(ProgressTest, SnapshotPausesUntilProbe) {
  Progress pr(1, 2, false);
  pr.BecomeSnapshot(20);
  EXPECT_TRUE(pr.IsPaused());
  pr.BecomeProbe();
  EXPECT_EQ(pr.Next(), 21u);
  EXPECT_FALSE(pr.IsPaused());
}

TEST(QuorumTest, CommittedIndexExamples) {
  std::map<NodeId, Index> match{{1, 5}, {2, 3}, {3, 9}};
  auto of = [&](NodeId id) { return match[id]; };
  EXPECT_EQ(QuorumCommittedIndex({1, 2, 3}, of), 5u);
  EXPECT_EQ(QuorumCommittedIndex({1}, of), 5u);
  EXPECT_EQ(QuorumCommittedIndex({1, 2}, of), 3u);
  EXPECT_EQ(QuorumCommittedIndex({}, of), 0u);
}

// The largest index that at least a majority has reached, computed the slow way.
Index NaiveCommitted(const std::vector<Index>& match) {
  Index best = 0;
  for (Index candidate : match) {
    size_t count = 0;
    for (Index m : match) count += m >= candidate ? 1 : 0;
    if (count * 2 > match.size() && candidate > best) best = candidate;
  }
  return best;
}

TEST(QuorumTest, CommittedIndexMatchesNaiveModel) {
  uint64_t state = 12345;
  auto next = [&] {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
  };
  for (int round = 0; round < 2000; ++round) {
    const size_t n = 1 + next() % 7;
    std::vector<NodeId> voters;
    std::vector<Index> match;
    std::map<NodeId, Index> by_id;
    for (size_t k = 0; k < n; ++k) {
      voters.push_back(k + 1);
      match.push_back(next() % 10);
      by_id[k + 1] = match.back();
    }
    EXPECT_EQ(QuorumCommittedIndex(voters, [&](NodeId id) { return by_id[id]; }), NaiveCommitted(match));
  }
}

TEST(QuorumTest, TallyVotes) {
  EXPECT_EQ(TallyVotes({1, 2, 3}, {{1, true}}), VoteResult::kPending);
  EXPECT_EQ(TallyVotes({1, 2, 3}, {{1, true}, {2, true}}), VoteResult::kWon);
  EXPECT_EQ(TallyVotes({1, 2, 3}, {{1, true}, {2, false}, {3, false}}), VoteResult::kLost);
  // Learner 4's grant does not count.
  EXPECT_EQ(TallyVotes({1, 2, 3}, {{1, true}, {4, true}}), VoteResult::kPending);
  EXPECT_EQ(TallyVotes({1}, {{1, true}}), VoteResult::kWon);
  EXPECT_EQ(TallyVotes({1, 2, 3, 4}, {{1, true}, {2, false}, {3, false}}), VoteResult::kLost);
}

TEST(QuorumTest, Active) {
  EXPECT_TRUE(QuorumActive({1, 2, 3}, [](NodeId id) { return id != 3; }));
  EXPECT_FALSE(QuorumActive({1, 2, 3}, [](NodeId id) { return id == 1; }));
}

}  // namespace
}  // namespace phantom::raft
