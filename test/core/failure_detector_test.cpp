#include "core/metadata/failure_detector.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <ostream>
#include <random>
#include <string>
#include <vector>

#include "core/common/error.hpp"
#include "expect_error.hpp"

namespace phantom::metadata {

// Readable failures: "{3: active -> suspect}".
void PrintTo(const StateChange& change, std::ostream* os) {
  *os << "{" << change.node_id << ": " << NodeStateName(change.from) << " -> " << NodeStateName(change.to) << "}";
}

namespace {

constexpr int64_t kSecond = 1'000'000;
constexpr int64_t kTimeout = 5 * kSecond;   // the default node timeout
constexpr int64_t kFailure = 15 * kSecond;  // 3 x node timeout
constexpr int64_t kNow = 1'700'000'000 * kSecond;
constexpr NodeId kLeader = 1;

NodeRecord Node(NodeId id, NodeState state) {
  NodeRecord node;
  node.node_id = id;
  node.name = "n" + std::to_string(id);
  node.host = "h" + std::to_string(id);
  node.port = 5432;
  node.region = "default";
  node.state = state;
  return node;
}

// A leader elected long ago, so no grace period is in effect.
LeaderState SettledLeader() {
  LeaderState leader;
  leader.leader_id = kLeader;
  leader.leader_since_us = kNow - 3600 * kSecond;
  return leader;
}

std::vector<StateChange> Detect(const std::vector<NodeRecord>& nodes, const std::map<NodeId, int64_t>& heard,
                                int64_t now = kNow, const LeaderState& leader = SettledLeader()) {
  return Evaluate(nodes, heard, now, FailurePolicy{}, leader);
}

// What applying the changes through the log does to the records.
void Apply(std::vector<NodeRecord>& nodes, const std::vector<StateChange>& changes) {
  for (const StateChange& change : changes) {
    auto it =
        std::find_if(nodes.begin(), nodes.end(), [&](const NodeRecord& n) { return n.node_id == change.node_id; });
    ASSERT_NE(it, nodes.end());
    ASSERT_EQ(it->state, change.from) << "stale change for node " << change.node_id;
    it->state = change.to;
  }
}

TEST(FailureDetectorTest, DefaultsFollowTheNodeTimeout) {
  const FailurePolicy defaults;
  EXPECT_EQ(defaults.node_timeout_us, kTimeout);
  EXPECT_EQ(defaults.failure_timeout_us, kFailure);
  const FailurePolicy policy = FailurePolicyFromSettings(2000);
  EXPECT_EQ(policy.node_timeout_us, 2 * kSecond);
  EXPECT_EQ(policy.failure_timeout_us, 6 * kSecond);
}

TEST(FailureDetectorTest, ActiveBecomesSuspectAfterTheNodeTimeout) {
  const std::vector<NodeRecord> nodes = {Node(1, NodeState::kActive), Node(2, NodeState::kActive)};
  EXPECT_EQ(Detect(nodes, {{2, kNow - kTimeout + 1}}), std::vector<StateChange>{});
  EXPECT_EQ(Detect(nodes, {{2, kNow - kTimeout}}),
            (std::vector<StateChange>{{2, NodeState::kActive, NodeState::kSuspect}}));
  // Never heard by a settled leader: as silent as can be.
  EXPECT_EQ(Detect(nodes, {}), (std::vector<StateChange>{{2, NodeState::kActive, NodeState::kSuspect}}));
}

TEST(FailureDetectorTest, SuspectFailsAfterAFurtherFailureTimeout) {
  const std::vector<NodeRecord> nodes = {Node(1, NodeState::kActive), Node(2, NodeState::kSuspect)};
  EXPECT_EQ(Detect(nodes, {{2, kNow - kTimeout}}), std::vector<StateChange>{});
  EXPECT_EQ(Detect(nodes, {{2, kNow - kTimeout - kFailure + 1}}), std::vector<StateChange>{});
  EXPECT_EQ(Detect(nodes, {{2, kNow - kTimeout - kFailure}}),
            (std::vector<StateChange>{{2, NodeState::kSuspect, NodeState::kFailed}}));
}

TEST(FailureDetectorTest, AnActiveNodeIsSuspectBeforeItFails) {
  std::vector<NodeRecord> nodes = {Node(1, NodeState::kActive), Node(2, NodeState::kActive)};
  const std::map<NodeId, int64_t> heard = {{2, kNow - 100 * kTimeout}};
  const auto first = Detect(nodes, heard);
  EXPECT_EQ(first, (std::vector<StateChange>{{2, NodeState::kActive, NodeState::kSuspect}}));
  Apply(nodes, first);
  const auto second = Detect(nodes, heard);
  EXPECT_EQ(second, (std::vector<StateChange>{{2, NodeState::kSuspect, NodeState::kFailed}}));
  Apply(nodes, second);
  // Idempotent: the records match the verdicts, nothing more to propose.
  EXPECT_EQ(Detect(nodes, heard), std::vector<StateChange>{});
}

TEST(FailureDetectorTest, SuspectAndFailedNodesComeBackWhenHeard) {
  std::vector<NodeRecord> nodes = {Node(1, NodeState::kActive), Node(2, NodeState::kSuspect),
                                   Node(3, NodeState::kFailed)};
  // Still silent: failed stays failed however long.
  EXPECT_EQ(Detect(nodes, {{2, kNow - kTimeout}, {3, kNow - 1000 * kTimeout}}), std::vector<StateChange>{});
  const std::map<NodeId, int64_t> heard = {{2, kNow - 1}, {3, kNow - kTimeout + 1}};
  const auto changes = Detect(nodes, heard);
  EXPECT_EQ(changes, (std::vector<StateChange>{{2, NodeState::kSuspect, NodeState::kActive},
                                               {3, NodeState::kFailed, NodeState::kActive}}));
  Apply(nodes, changes);
  EXPECT_EQ(Detect(nodes, heard), std::vector<StateChange>{});
}

TEST(FailureDetectorTest, JoiningBecomesActiveWhenHeardAndCaughtUp) {
  const std::vector<NodeRecord> nodes = {Node(1, NodeState::kActive), Node(2, NodeState::kJoining)};
  LeaderState leader = SettledLeader();
  EXPECT_EQ(Detect(nodes, {{2, kNow}}, kNow, leader), std::vector<StateChange>{}) << "heard, not caught up";
  leader.caught_up = {2};
  EXPECT_EQ(Detect(nodes, {}, kNow, leader), std::vector<StateChange>{}) << "caught up, never heard";
  EXPECT_EQ(Detect(nodes, {{2, kNow - kTimeout}}, kNow, leader), std::vector<StateChange>{}) << "heard too long ago";
  EXPECT_EQ(Detect(nodes, {{2, kNow - kTimeout + 1}}, kNow, leader),
            (std::vector<StateChange>{{2, NodeState::kJoining, NodeState::kActive}}));
}

TEST(FailureDetectorTest, JoiningNodesAreNeverSuspected) {
  // A joining node is not serving yet; it waits to be heard, it does not fail.
  const std::vector<NodeRecord> nodes = {Node(1, NodeState::kActive), Node(2, NodeState::kJoining)};
  EXPECT_EQ(Detect(nodes, {{2, kNow - 1000 * kTimeout}}), std::vector<StateChange>{});
}

TEST(FailureDetectorTest, DrainingAndDrainedAreLeftToTheOperator) {
  const std::vector<NodeRecord> nodes = {Node(1, NodeState::kActive), Node(2, NodeState::kDraining),
                                         Node(3, NodeState::kDrained)};
  // Silent forever or heard just now: the detector does not touch them.
  EXPECT_EQ(Detect(nodes, {}), std::vector<StateChange>{});
  EXPECT_EQ(Detect(nodes, {{2, kNow}, {3, kNow}}), std::vector<StateChange>{});
  LeaderState leader = SettledLeader();
  leader.without_shards = {2, 3};
  EXPECT_EQ(Detect(nodes, {}, kNow, leader),
            (std::vector<StateChange>{{2, NodeState::kDraining, NodeState::kDrained}}));
}

TEST(FailureDetectorTest, TheLeaderIsAlwaysAlive) {
  // Its record may lag (a previous leader suspected it); it is alive now.
  for (NodeState state : {NodeState::kSuspect, NodeState::kFailed, NodeState::kJoining}) {
    const std::vector<NodeRecord> nodes = {Node(kLeader, state), Node(2, NodeState::kActive)};
    EXPECT_EQ(Detect(nodes, {{2, kNow}}), (std::vector<StateChange>{{kLeader, state, NodeState::kActive}}))
        << NodeStateName(state);
  }
  const std::vector<NodeRecord> nodes = {Node(kLeader, NodeState::kActive)};
  EXPECT_EQ(Detect(nodes, {}, kNow + 1000 * kTimeout), std::vector<StateChange>{});
}

TEST(FailureDetectorTest, ANewLeaderGivesEveryNodeAGracePeriod) {
  const std::vector<NodeRecord> nodes = {Node(1, NodeState::kActive), Node(2, NodeState::kActive),
                                         Node(3, NodeState::kSuspect), Node(4, NodeState::kFailed)};
  LeaderState leader = SettledLeader();
  leader.leader_since_us = kNow;
  // The old leader's records say nothing to us; we heard from no one yet.
  const std::map<NodeId, int64_t> heard;
  EXPECT_EQ(Detect(nodes, heard, kNow, leader), std::vector<StateChange>{});
  EXPECT_EQ(Detect(nodes, heard, kNow + kTimeout - 1, leader), std::vector<StateChange>{});
  EXPECT_EQ(Detect(nodes, heard, kNow + kTimeout, leader),
            (std::vector<StateChange>{{2, NodeState::kActive, NodeState::kSuspect}}));
  // The suspect one fails a failure timeout after the grace runs out; the
  // failed one is not revived by the grace.
  EXPECT_EQ(Detect(nodes, heard, kNow + kTimeout + kFailure - 1, leader),
            (std::vector<StateChange>{{2, NodeState::kActive, NodeState::kSuspect}}));
  EXPECT_EQ(Detect(nodes, heard, kNow + kTimeout + kFailure, leader),
            (std::vector<StateChange>{{2, NodeState::kActive, NodeState::kSuspect},
                                      {3, NodeState::kSuspect, NodeState::kFailed}}));
  // An answer older than the election (a stale map) is not worse than none.
  EXPECT_EQ(Detect(nodes, {{2, kNow - 1000 * kTimeout}}, kNow + 1, leader), std::vector<StateChange>{});
}

// Walks time forward in 100 ms ticks, the node answering every `period`,
// applying every proposed change; returns every state the node went through.
std::vector<NodeState> Walk(int64_t period, int64_t duration) {
  std::vector<NodeRecord> nodes = {Node(1, NodeState::kActive), Node(2, NodeState::kActive)};
  std::map<NodeId, int64_t> heard = {{2, kNow}};
  std::vector<NodeState> seen = {NodeState::kActive};
  for (int64_t t = kNow; t <= kNow + duration; t += kSecond / 10) {
    if (t - heard[2] >= period) heard[2] += period;
    Apply(nodes, Detect(nodes, heard, t));
    if (nodes[1].state != seen.back()) seen.push_back(nodes[1].state);
  }
  return seen;
}

TEST(FailureDetectorTest, AFlappingNodeHeardJustInTimeIsNeverSuspected) {
  EXPECT_EQ(Walk(kTimeout - kSecond / 10, 600 * kSecond), std::vector<NodeState>{NodeState::kActive});
  // Just too late each time: suspected, back, suspected, ... but never failed.
  const auto late = Walk(kTimeout + kSecond / 10, 600 * kSecond);
  EXPECT_GT(late.size(), 2u);
  EXPECT_EQ(std::count(late.begin(), late.end(), NodeState::kFailed), 0);
}

TEST(FailureDetectorTest, AnswersForUnknownNodesAreIgnored) {
  const std::vector<NodeRecord> nodes = {Node(1, NodeState::kActive)};
  EXPECT_EQ(Detect(nodes, {{7, kNow - 1000 * kTimeout}, {8, kNow}}), std::vector<StateChange>{});
}

TEST(FailureDetectorTest, SameChangesWhateverTheNodeOrder) {
  LeaderState leader = SettledLeader();
  leader.caught_up = {4};
  leader.without_shards = {7};
  std::vector<NodeRecord> nodes = {
      Node(1, NodeState::kActive),   Node(2, NodeState::kActive),  Node(3, NodeState::kSuspect),
      Node(4, NodeState::kJoining),  Node(5, NodeState::kFailed),  Node(6, NodeState::kSuspect),
      Node(7, NodeState::kDraining), Node(8, NodeState::kDrained), Node(9, NodeState::kActive),
  };
  const std::map<NodeId, int64_t> heard = {{2, kNow - kTimeout},     {3, kNow - 2 * kSecond},
                                           {4, kNow - kSecond},      {5, kNow},
                                           {6, kNow - 30 * kSecond}, {9, kNow - kSecond}};
  const std::vector<StateChange> expected = {
      {2, NodeState::kActive, NodeState::kSuspect}, {3, NodeState::kSuspect, NodeState::kActive},
      {4, NodeState::kJoining, NodeState::kActive}, {5, NodeState::kFailed, NodeState::kActive},
      {6, NodeState::kSuspect, NodeState::kFailed}, {7, NodeState::kDraining, NodeState::kDrained},
  };
  EXPECT_EQ(Detect(nodes, heard, kNow, leader), expected);
  for (uint32_t seed = 1; seed <= 50; ++seed) {
    std::mt19937 rng(seed);
    std::shuffle(nodes.begin(), nodes.end(), rng);
    EXPECT_EQ(Detect(nodes, heard, kNow, leader), expected) << "seed " << seed;
  }
}

TEST(FailureDetectorTest, RejectsAnInvalidPolicy) {
  const std::vector<NodeRecord> nodes = {Node(1, NodeState::kActive)};
  ExpectError(
      [&] {
        Evaluate(nodes, {}, kNow, FailurePolicy{0, kFailure}, SettledLeader());
      },
      {"22023", "invalid node timeout 0 us", "The node timeout must be positive."});
  ExpectError(
      [&] {
        Evaluate(nodes, {}, kNow, FailurePolicy{kTimeout, -1}, SettledLeader());
      },
      {"22023", "invalid failure timeout -1 us", "The failure timeout must not be negative."});
}

}  // namespace
}  // namespace phantom::metadata
