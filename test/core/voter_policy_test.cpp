#include "core/metadata/voter_policy.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <ostream>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "core/common/error.hpp"
#include "expect_error.hpp"

namespace phantom::metadata {

// Readable failures: "{promote 4: replaces node 3 (failed) ...}".
void PrintTo(const VoterPlan& plan, std::ostream* os) {
  *os << "{" << VoterActionName(plan.action) << " " << plan.node_id << ": " << plan.reason << "}";
}

namespace {

using raft::ConfState;

NodeRecord Node(NodeId id, NodeState state = NodeState::kActive, const std::string& region = "r1") {
  NodeRecord node;
  node.node_id = id;
  node.name = "n" + std::to_string(id);
  node.host = "h" + std::to_string(id);
  node.port = 5432;
  node.region = region;
  node.state = state;
  return node;
}

NodeRecord* Find(std::vector<NodeRecord>& nodes, NodeId id) {
  for (NodeRecord& node : nodes)
    if (node.node_id == id) return &node;
  return nullptr;
}

// Every node caught up, node `leader` leading.
VoterInputs Inputs(const std::vector<NodeRecord>& nodes, NodeId leader = 1) {
  VoterInputs inputs;
  inputs.leader_id = leader;
  for (const NodeRecord& node : nodes) inputs.caught_up.insert(node.node_id);
  return inputs;
}

// A naive ConfChange: what Raft's ApplyConfChange does to the membership.
ConfState Apply(ConfState conf, const raft::ConfChange& change) {
  std::erase(conf.voters, change.node);
  std::erase(conf.learners, change.node);
  if (change.type == raft::ConfChangeType::kAddVoter) conf.voters.push_back(change.node);
  if (change.type == raft::ConfChangeType::kAddLearner) conf.learners.push_back(change.node);
  std::sort(conf.voters.begin(), conf.voters.end());
  std::sort(conf.learners.begin(), conf.learners.end());
  return conf;
}

VoterPlan Expect(VoterAction action, raft::NodeId node) { return VoterPlan{action, node, ""}; }

// Compares action and node; the reason is for people.
void ExpectPlan(const VoterPlan& actual, VoterAction action, raft::NodeId node) {
  EXPECT_EQ(actual.action, action) << ::testing::PrintToString(actual);
  EXPECT_EQ(actual.node_id, node) << ::testing::PrintToString(actual);
}

// Plans and applies one step; returns the plan.
VoterPlan Step(const std::vector<NodeRecord>& nodes, ConfState& conf, int desired, const VoterInputs& inputs) {
  const VoterPlan plan = PlanVoters(nodes, conf, desired, inputs);
  if (plan.action != VoterAction::kNone && plan.action != VoterAction::kTransferLeadership)
    conf = Apply(conf, ToConfChange(plan));
  return plan;
}

TEST(VoterPolicyTest, ValidatesDesiredVoters) {
  const std::string hint = "Set phantomdb.raft_voters to 1, 3, 5 or 7.";
  const std::string even =
      "An even number of voters tolerates no more failed voters than one fewer, and every commit waits for more of "
      "them.";
  const std::string range = "The metadata group has between 1 and 7 voters; the other nodes follow it as learners.";
  const std::vector<NodeRecord> nodes = {Node(1)};
  const ConfState conf{{1}, {}};
  ExpectError([&] { PlanVoters(nodes, conf, 4, Inputs(nodes)); },
              {"22023", "invalid phantomdb.raft_voters value 4", even, hint});
  ExpectError([] { ValidateDesiredVoters(2); }, {"22023", "invalid phantomdb.raft_voters value 2", even, hint});
  ExpectError([] { ValidateDesiredVoters(0); }, {"22023", "invalid phantomdb.raft_voters value 0", range, hint});
  ExpectError([] { ValidateDesiredVoters(-1); }, {"22023", "invalid phantomdb.raft_voters value -1", range, hint});
  ExpectError([] { ValidateDesiredVoters(8); }, {"22023", "invalid phantomdb.raft_voters value 8", range, hint});
  ExpectError([] { ValidateDesiredVoters(9); }, {"22023", "invalid phantomdb.raft_voters value 9", range, hint});
  for (int ok : {1, 3, 5, 7}) EXPECT_NO_THROW(ValidateDesiredVoters(ok)) << ok;
  EXPECT_EQ(kDefaultRaftVoters, 3);
}

TEST(VoterPolicyTest, BootstrapFromOneToThreeVotersAsNodesJoin) {
  std::vector<NodeRecord> nodes = {Node(1)};
  ConfState conf{{1}, {}};
  ExpectPlan(Step(nodes, conf, 3, Inputs(nodes)), VoterAction::kNone, 0);

  nodes.push_back(Node(2, NodeState::kJoining));
  VoterInputs inputs = Inputs(nodes);
  inputs.caught_up = {};
  ExpectPlan(Step(nodes, conf, 3, inputs), VoterAction::kAddLearner, 2);
  EXPECT_EQ(conf, (ConfState{{1}, {2}}));
  nodes.push_back(Node(3, NodeState::kJoining));
  ExpectPlan(Step(nodes, conf, 3, inputs), VoterAction::kAddLearner, 3);
  EXPECT_EQ(conf, (ConfState{{1}, {2, 3}}));
  ExpectPlan(Step(nodes, conf, 3, inputs), VoterAction::kNone, 0);

  // Node 2 is active and caught up: two healthy nodes still make one voter,
  // since two voters tolerate no more failures than one.
  Find(nodes, 2)->state = NodeState::kActive;
  inputs.caught_up = {2};
  ExpectPlan(Step(nodes, conf, 3, inputs), VoterAction::kNone, 0);

  // Node 3 is active but still behind: nothing to promote yet.
  Find(nodes, 3)->state = NodeState::kActive;
  ExpectPlan(Step(nodes, conf, 3, inputs), VoterAction::kPromote, 2);
  ExpectPlan(Step(nodes, conf, 3, inputs), VoterAction::kNone, 0);
  EXPECT_EQ(conf, (ConfState{{1, 2}, {3}}));
  inputs.caught_up = {2, 3};
  ExpectPlan(Step(nodes, conf, 3, inputs), VoterAction::kPromote, 3);
  EXPECT_EQ(conf, (ConfState{{1, 2, 3}, {}}));
  ExpectPlan(Step(nodes, conf, 3, inputs), VoterAction::kNone, 0);

  // A fourth node is a learner only.
  nodes.push_back(Node(4));
  inputs.caught_up.insert(4);
  ExpectPlan(Step(nodes, conf, 3, inputs), VoterAction::kAddLearner, 4);
  ExpectPlan(Step(nodes, conf, 3, inputs), VoterAction::kNone, 0);
  EXPECT_EQ(conf, (ConfState{{1, 2, 3}, {4}}));
}

TEST(VoterPolicyTest, AFailedVoterIsReplacedByALearnerFirst) {
  std::vector<NodeRecord> nodes = {Node(1), Node(2), Node(3, NodeState::kFailed), Node(4)};
  ConfState conf{{1, 2, 3}, {4}};
  ExpectPlan(Step(nodes, conf, 3, Inputs(nodes)), VoterAction::kPromote, 4);
  EXPECT_EQ(conf, (ConfState{{1, 2, 3, 4}, {}}));
  ExpectPlan(Step(nodes, conf, 3, Inputs(nodes)), VoterAction::kDemote, 3);
  // Demoted, not removed: it still follows the log for when it comes back.
  EXPECT_EQ(conf, (ConfState{{1, 2, 4}, {3}}));
  ExpectPlan(Step(nodes, conf, 3, Inputs(nodes)), VoterAction::kNone, 0);

  // It comes back: three voters are enough, it stays a learner.
  Find(nodes, 3)->state = NodeState::kActive;
  ExpectPlan(Step(nodes, conf, 3, Inputs(nodes)), VoterAction::kNone, 0);
}

// phantom_remove_node on a two-voter group: the removed voter still answers
// until it is out, and only while it does can the group let it go.
TEST(VoterPolicyTest, ARemovedVoterThatStillAnswersIsTakenOut) {
  std::vector<NodeRecord> nodes = {Node(1)};
  ConfState conf{{1, 2}, {}};
  VoterInputs inputs = Inputs(nodes);
  ExpectPlan(Step(nodes, conf, 3, inputs), VoterAction::kNone, 0);  // silent: no quorum to remove it with
  inputs.responsive.insert(2);
  ExpectPlan(Step(nodes, conf, 3, inputs), VoterAction::kRemove, 2);
  EXPECT_EQ(conf, (ConfState{{1}, {}}));
}

TEST(VoterPolicyTest, WithoutALearnerTheFailedVoterGoesAndTheCountStaysOdd) {
  std::vector<NodeRecord> nodes = {Node(1), Node(2), Node(3, NodeState::kFailed)};
  ConfState conf{{1, 2, 3}, {}};
  ExpectPlan(Step(nodes, conf, 3, Inputs(nodes)), VoterAction::kDemote, 3);
  // Two healthy nodes: one voter (never the leader, node 1).
  ExpectPlan(Step(nodes, conf, 3, Inputs(nodes)), VoterAction::kDemote, 2);
  EXPECT_EQ(conf, (ConfState{{1}, {2, 3}}));
  ExpectPlan(Step(nodes, conf, 3, Inputs(nodes)), VoterAction::kNone, 0);

  // Node 3 is back: three voters again, without anyone stepping in.
  Find(nodes, 3)->state = NodeState::kActive;
  ExpectPlan(Step(nodes, conf, 3, Inputs(nodes)), VoterAction::kPromote, 2);
  ExpectPlan(Step(nodes, conf, 3, Inputs(nodes)), VoterAction::kPromote, 3);
  EXPECT_EQ(conf, (ConfState{{1, 2, 3}, {}}));
}

TEST(VoterPolicyTest, FiveVotersWantedFourHealthyNodesKeepThree) {
  std::vector<NodeRecord> nodes = {Node(1), Node(2), Node(3), Node(4), Node(5, NodeState::kFailed)};
  ConfState conf{{1}, {2, 3, 4, 5}};
  ExpectPlan(Step(nodes, conf, 5, Inputs(nodes)), VoterAction::kPromote, 2);
  ExpectPlan(Step(nodes, conf, 5, Inputs(nodes)), VoterAction::kPromote, 3);
  ExpectPlan(Step(nodes, conf, 5, Inputs(nodes)), VoterAction::kNone, 0);
  EXPECT_EQ(conf.voters, (std::vector<raft::NodeId>{1, 2, 3}));

  // Four voters (e.g. after a fifth failed and was demoted) shrink to three:
  // the highest id goes, never the leader.
  conf = ConfState{{1, 2, 3, 4}, {5}};
  ExpectPlan(Step(nodes, conf, 5, Inputs(nodes, 4)), VoterAction::kDemote, 3);
  ExpectPlan(Step(nodes, conf, 5, Inputs(nodes, 4)), VoterAction::kNone, 0);
  EXPECT_EQ(conf.voters, (std::vector<raft::NodeId>{1, 2, 4}));

  // The fifth healthy node makes five.
  Find(nodes, 5)->state = NodeState::kActive;
  ExpectPlan(Step(nodes, conf, 5, Inputs(nodes)), VoterAction::kPromote, 3);
  ExpectPlan(Step(nodes, conf, 5, Inputs(nodes)), VoterAction::kPromote, 5);
  EXPECT_EQ(conf.voters.size(), 5u);
}

TEST(VoterPolicyTest, ReplacingAFailedVoterNeverPassesThroughAnEvenCount) {
  std::vector<NodeRecord> nodes = {Node(1), Node(2), Node(3), Node(4), Node(5, NodeState::kFailed), Node(6)};
  ConfState conf{{1, 2, 3, 4, 5}, {6}};
  ExpectPlan(Step(nodes, conf, 5, Inputs(nodes)), VoterAction::kPromote, 6);  // 6 voters, 5 live: quorum 4
  ExpectPlan(Step(nodes, conf, 5, Inputs(nodes)), VoterAction::kDemote, 5);
  EXPECT_EQ(conf, (ConfState{{1, 2, 3, 4, 6}, {5}}));
}

TEST(VoterPolicyTest, VotersSpreadOverRegions) {
  std::vector<NodeRecord> nodes = {Node(1, NodeState::kActive, "eu"), Node(2, NodeState::kActive, "eu"),
                                   Node(3, NodeState::kActive, "eu"), Node(4, NodeState::kActive, "us"),
                                   Node(5, NodeState::kActive, "ap")};
  ConfState conf{{1}, {2, 3, 4, 5}};
  // eu has a voter already; ap and us have none: the lower id of those first.
  ExpectPlan(Step(nodes, conf, 3, Inputs(nodes)), VoterAction::kPromote, 4);
  ExpectPlan(Step(nodes, conf, 3, Inputs(nodes)), VoterAction::kPromote, 5);
  ExpectPlan(Step(nodes, conf, 3, Inputs(nodes)), VoterAction::kNone, 0);
  EXPECT_EQ(conf.voters, (std::vector<raft::NodeId>{1, 4, 5}));

  // Shrinking from five to three takes voters from the most crowded region.
  conf = ConfState{{1, 2, 3, 4, 5}, {}};
  ExpectPlan(Step(nodes, conf, 3, Inputs(nodes)), VoterAction::kDemote, 3);
  ExpectPlan(Step(nodes, conf, 3, Inputs(nodes)), VoterAction::kDemote, 2);
  EXPECT_EQ(conf.voters, (std::vector<raft::NodeId>{1, 4, 5}));
}

TEST(VoterPolicyTest, ASuspectVoterKeepsItsSeat) {
  std::vector<NodeRecord> nodes = {Node(1), Node(2), Node(3, NodeState::kSuspect), Node(4)};
  ConfState conf{{1, 2, 3}, {4}};
  ExpectPlan(Step(nodes, conf, 3, Inputs(nodes)), VoterAction::kNone, 0);
  // A surplus suspect voter is the first to go: that costs no live vote.
  conf = ConfState{{1, 2, 3, 4}, {}};
  ExpectPlan(Step(nodes, conf, 3, Inputs(nodes)), VoterAction::kDemote, 3);
}

TEST(VoterPolicyTest, ADrainingLeaderHandsOverBeforeItIsDemoted) {
  std::vector<NodeRecord> nodes = {Node(1, NodeState::kDraining), Node(2), Node(3), Node(4)};
  ConfState conf{{1, 2, 3}, {4}};
  ExpectPlan(Step(nodes, conf, 3, Inputs(nodes, 1)), VoterAction::kPromote, 4);
  // The draining node leads: hand leadership over, the next leader demotes it.
  ExpectPlan(Step(nodes, conf, 3, Inputs(nodes, 1)), VoterAction::kTransferLeadership, 2);
  EXPECT_EQ(conf, (ConfState{{1, 2, 3, 4}, {}}));
  ExpectPlan(Step(nodes, conf, 3, Inputs(nodes, 2)), VoterAction::kDemote, 1);
  EXPECT_EQ(conf, (ConfState{{2, 3, 4}, {1}}));
  // Drained: it stays a learner until it is removed from the catalog.
  Find(nodes, 1)->state = NodeState::kDrained;
  ExpectPlan(Step(nodes, conf, 3, Inputs(nodes, 2)), VoterAction::kNone, 0);
  nodes.erase(nodes.begin());
  ExpectPlan(Step(nodes, conf, 3, Inputs(nodes, 2)), VoterAction::kRemove, 1);
  EXPECT_EQ(conf, (ConfState{{2, 3, 4}, {}}));
}

TEST(VoterPolicyTest, ALeaderThatCannotHandOverDemotesItself) {
  // Without the draining leader's vote, node 2 alone is no quorum of two: a
  // transfer would leave the new leader stuck. Demoting itself commits with
  // its own vote and leaves node 2 a quorum of one.
  std::vector<NodeRecord> nodes = {Node(1, NodeState::kDraining), Node(2)};
  ConfState conf{{1, 2}, {}};
  ExpectPlan(Step(nodes, conf, 3, Inputs(nodes, 1)), VoterAction::kDemote, 1);
  EXPECT_EQ(conf, (ConfState{{2}, {1}}));
  ExpectPlan(Step(nodes, conf, 3, Inputs(nodes, 2)), VoterAction::kNone, 0);
}

TEST(VoterPolicyTest, TransferPrefersACaughtUpSuccessor) {
  const std::vector<NodeRecord> nodes = {Node(1, NodeState::kDraining), Node(2), Node(3)};
  VoterInputs inputs = Inputs(nodes, 1);
  inputs.caught_up = {3};
  ExpectPlan(PlanVoters(nodes, ConfState{{1, 2, 3}, {}}, 3, inputs), VoterAction::kTransferLeadership, 3);
}

TEST(VoterPolicyTest, NodesThatLeftTheCatalogLeaveTheGroup) {
  const std::vector<NodeRecord> nodes = {Node(1), Node(2), Node(3)};
  ConfState conf{{1, 2, 3, 9}, {8}};
  // A voter first (it holds a seat), then the learner.
  ExpectPlan(Step(nodes, conf, 3, Inputs(nodes)), VoterAction::kRemove, 9);
  ExpectPlan(Step(nodes, conf, 3, Inputs(nodes)), VoterAction::kRemove, 8);
  ExpectPlan(Step(nodes, conf, 3, Inputs(nodes)), VoterAction::kNone, 0);
  EXPECT_EQ(conf, (ConfState{{1, 2, 3}, {}}));
}

TEST(VoterPolicyTest, NothingWithoutAQuorum) {
  const std::vector<NodeRecord> nodes = {Node(1), Node(2, NodeState::kFailed), Node(3, NodeState::kFailed), Node(4)};
  const VoterPlan plan = PlanVoters(nodes, ConfState{{1, 2, 3}, {4}}, 3, Inputs(nodes));
  EXPECT_EQ(plan, (VoterPlan{VoterAction::kNone, 0, "no quorum: 1 of 3 voters are active"}));
}

TEST(VoterPolicyTest, NeverDropsALiveVoterBelowQuorum) {
  // Five voters, two of them suspect (not counted live), desired 3: only the
  // suspect ones may go; a live one would leave 2 live of 4.
  std::vector<NodeRecord> nodes = {Node(1), Node(2), Node(3), Node(4, NodeState::kSuspect),
                                   Node(5, NodeState::kSuspect)};
  ConfState conf{{1, 2, 3, 4, 5}, {}};
  ExpectPlan(Step(nodes, conf, 3, Inputs(nodes)), VoterAction::kDemote, 5);
  ExpectPlan(Step(nodes, conf, 3, Inputs(nodes)), VoterAction::kDemote, 4);
  ExpectPlan(Step(nodes, conf, 3, Inputs(nodes)), VoterAction::kNone, 0);
}

TEST(VoterPolicyTest, ConfChanges) {
  EXPECT_EQ(ToConfChange(Expect(VoterAction::kAddLearner, 4)),
            (raft::ConfChange{raft::ConfChangeType::kAddLearner, 4}));
  EXPECT_EQ(ToConfChange(Expect(VoterAction::kPromote, 4)), (raft::ConfChange{raft::ConfChangeType::kAddVoter, 4}));
  EXPECT_EQ(ToConfChange(Expect(VoterAction::kDemote, 4)), (raft::ConfChange{raft::ConfChangeType::kAddLearner, 4}));
  EXPECT_EQ(ToConfChange(Expect(VoterAction::kRemove, 4)), (raft::ConfChange{raft::ConfChangeType::kRemoveNode, 4}));
  ExpectError([] { ToConfChange(Expect(VoterAction::kNone, 0)); },
              {"XX000", "voter plan \"none\" is not a membership change"});
  ExpectError([] { ToConfChange(Expect(VoterAction::kTransferLeadership, 2)); },
              {"XX000", "voter plan \"transfer leadership\" is not a membership change"});
}

TEST(VoterPolicyTest, SamePlanWhateverTheNodeOrder) {
  std::vector<NodeRecord> nodes = {Node(1, NodeState::kActive, "a"), Node(2, NodeState::kFailed, "a"),
                                   Node(3, NodeState::kActive, "b"), Node(4, NodeState::kActive, "b"),
                                   Node(5, NodeState::kActive, "c"), Node(6, NodeState::kJoining, "c")};
  ConfState conf{{1, 2, 3}, {4, 5}};
  std::vector<VoterPlan> expected;
  for (ConfState c = conf;;) {
    expected.push_back(Step(nodes, c, 5, Inputs(nodes)));
    if (expected.back().action == VoterAction::kNone) break;
    ASSERT_LT(expected.size(), 20u);
  }
  EXPECT_GE(expected.size(), 4u);
  for (uint32_t seed = 1; seed <= 30; ++seed) {
    std::mt19937 rng(seed);
    std::shuffle(nodes.begin(), nodes.end(), rng);
    std::vector<VoterPlan> plans;
    for (ConfState c = conf; plans.size() < expected.size();) plans.push_back(Step(nodes, c, 5, Inputs(nodes)));
    EXPECT_EQ(plans, expected) << "seed " << seed;
  }
}

// The naive model the random test checks against: written from the rules in
// voter_policy.hpp, not from the code.
struct Model {
  std::vector<NodeRecord> nodes;
  NodeId leader = 0;

  const NodeRecord* Record(raft::NodeId id) const {
    for (const NodeRecord& node : nodes)
      if (static_cast<raft::NodeId>(node.node_id) == id) return &node;
    return nullptr;
  }
  bool Live(raft::NodeId id) const {
    const NodeRecord* r = Record(id);
    return id == static_cast<raft::NodeId>(leader) || (r != nullptr && r->state == NodeState::kActive);
  }
  bool HasLiveQuorum(const ConfState& conf) const {
    const auto live = std::count_if(conf.voters.begin(), conf.voters.end(), [&](raft::NodeId id) { return Live(id); });
    return !conf.voters.empty() && static_cast<size_t>(live) > conf.voters.size() / 2;
  }
  static bool Voter(const ConfState& conf, NodeId id) {
    return std::binary_search(conf.voters.begin(), conf.voters.end(), static_cast<raft::NodeId>(id));
  }
  static bool Seated(const NodeRecord& node) {
    return node.state == NodeState::kSuspect || node.state == NodeState::kJoining;
  }
  // Voters that need not go: active, suspect or joining.
  size_t GoodVoters(const ConfState& conf) const {
    size_t good = 0;
    for (const NodeRecord& node : nodes)
      good += Voter(conf, node.node_id) && (node.state == NodeState::kActive || Seated(node));
    return good;
  }
  // max(1, min(desired, the odd number at most the active nodes plus the seated voters)).
  size_t Target(const ConfState& conf, int desired) const {
    size_t fit = 0;
    for (const NodeRecord& node : nodes)
      fit += node.state == NodeState::kActive || (Voter(conf, node.node_id) && Seated(node));
    const size_t odd_fit = fit % 2 == 1 ? fit : (fit == 0 ? 0 : fit - 1);
    return std::max<size_t>(1, std::min<size_t>(static_cast<size_t>(desired), odd_fit));
  }
  bool HasHealthyLearner(const ConfState& conf) const {
    for (const NodeRecord& node : nodes)
      if (node.state == NodeState::kActive &&
          std::binary_search(conf.learners.begin(), conf.learners.end(), static_cast<raft::NodeId>(node.node_id)))
        return true;
    return false;
  }
};

// Random clusters of up to 9 nodes in random states and regions, from a
// random membership with a live quorum: planning step by step never loses
// the quorum, changes one member per step, and ends with every node in the
// group and an odd number of healthy voters as the rules say.
void RunRandomCluster(uint32_t seed, bool only_settled_states, int& converged) {
  std::mt19937 rng(seed);
  auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<uint32_t>(n)); };
  const std::vector<NodeState> settled = {NodeState::kActive, NodeState::kActive,   NodeState::kActive,
                                          NodeState::kFailed, NodeState::kDraining, NodeState::kDrained};
  const std::vector<NodeState> all = {NodeState::kActive,   NodeState::kActive, NodeState::kActive,
                                      NodeState::kSuspect,  NodeState::kFailed, NodeState::kJoining,
                                      NodeState::kDraining, NodeState::kDrained};
  const auto& states = only_settled_states ? settled : all;
  const std::vector<std::string> regions = {"eu", "us", "ap"};

  // Draw until the cluster has a leader and a live quorum: without them
  // nothing can commit (NothingWithoutAQuorum covers that).
  Model model;
  ConfState conf;
  int count = 0;
  while (model.leader == 0 || !model.HasLiveQuorum(conf)) {
    model = Model{};
    conf = ConfState{};
    count = 1 + pick(9);
    for (NodeId id = 1; id <= count; ++id) {
      model.nodes.push_back(Node(id, states[pick(static_cast<int>(states.size()))], regions[pick(3)]));
      const int membership = pick(3);  // 0: outside, 1: learner, 2: voter
      if (membership == 1) conf.learners.push_back(id);
      if (membership == 2) conf.voters.push_back(id);
    }
    if (pick(3) == 0) conf.voters.push_back(20);  // a voter that left the catalog
    if (pick(3) == 0) conf.learners.push_back(21);
    // The leader: a voter that is alive, whatever its record says.
    std::vector<raft::NodeId> alive;
    for (raft::NodeId id : conf.voters) {
      const NodeRecord* r = model.Record(id);
      if (r != nullptr && r->state != NodeState::kFailed) alive.push_back(id);
    }
    if (!alive.empty())
      model.leader = static_cast<NodeId>(alive[static_cast<size_t>(pick(static_cast<int>(alive.size())))]);
  }
  const int desired = 1 + 2 * pick(4);
  SCOPED_TRACE("seed " + std::to_string(seed) + ", " + std::to_string(count) + " nodes, desired " +
               std::to_string(desired));

  VoterInputs inputs;
  for (const NodeRecord& node : model.nodes) inputs.caught_up.insert(node.node_id);
  int steps = 0;
  for (;; ++steps) {
    ASSERT_LT(steps, 4 * count + 10) << "no convergence";
    inputs.leader_id = model.leader;
    const VoterPlan plan = PlanVoters(model.nodes, conf, desired, inputs);
    if (plan.action == VoterAction::kNone) break;
    if (plan.action == VoterAction::kTransferLeadership) {
      ASSERT_TRUE(std::binary_search(conf.voters.begin(), conf.voters.end(), plan.node_id));
      ASSERT_NE(plan.node_id, static_cast<raft::NodeId>(model.leader));
      model.leader = static_cast<NodeId>(plan.node_id);
      ASSERT_TRUE(model.HasLiveQuorum(conf));
      continue;
    }
    const ConfState next = Apply(conf, ToConfChange(plan));
    ASSERT_NE(next, conf) << "a step that changes nothing";
    // One member per step: the other members keep their role.
    for (raft::NodeId id = 1; id <= 21; ++id) {
      if (id == plan.node_id) continue;
      auto role = [id](const ConfState& c) {
        return std::binary_search(c.voters.begin(), c.voters.end(), id)       ? 2
               : std::binary_search(c.learners.begin(), c.learners.end(), id) ? 1
                                                                              : 0;
      };
      ASSERT_EQ(role(conf), role(next)) << "node " << id << " changed too";
    }
    if (plan.node_id == static_cast<raft::NodeId>(model.leader)) {
      // Only a leader that must stop voting demotes itself; it steps down and
      // an active voter of the smaller group is elected.
      ASSERT_EQ(plan.action, VoterAction::kDemote);
      const NodeState state = model.Record(plan.node_id)->state;
      ASSERT_TRUE(state == NodeState::kDraining || state == NodeState::kDrained) << NodeStateName(state);
      model.leader = 0;
      for (raft::NodeId id : next.voters)
        if (model.Record(id) != nullptr && model.Record(id)->state == NodeState::kActive) {
          model.leader = static_cast<NodeId>(id);
          break;
        }
      ASSERT_NE(model.leader, 0) << "no one left to lead";
    }
    ASSERT_TRUE(model.HasLiveQuorum(next)) << ::testing::PrintToString(plan);
    // An even count after a drop only when no replacement was due: either no
    // healthy learner to promote, or enough good voters already.
    if (next.voters.size() < conf.voters.size() && next.voters.size() % 2 == 0 && model.HasHealthyLearner(conf)) {
      ASSERT_GE(model.GoodVoters(conf), model.Target(conf, desired)) << ::testing::PrintToString(plan);
    }
    conf = next;
  }

  // Converged: every catalog node follows the log, nobody else does.
  std::set<raft::NodeId> members(conf.voters.begin(), conf.voters.end());
  members.insert(conf.learners.begin(), conf.learners.end());
  std::set<raft::NodeId> catalog;
  for (const NodeRecord& node : model.nodes) catalog.insert(static_cast<raft::NodeId>(node.node_id));
  EXPECT_EQ(members, catalog);

  // Voters: healthy ones only, and as many as the target says.
  size_t active = 0;
  for (const NodeRecord& node : model.nodes) active += node.state == NodeState::kActive ? 1 : 0;
  for (const NodeRecord& node : model.nodes) {
    if (!Model::Voter(conf, node.node_id)) continue;
    // A draining leader stays only when there is no active node to hand over to.
    const bool stuck_leader = node.node_id == model.leader && active == 0;
    EXPECT_TRUE(node.state == NodeState::kActive || Model::Seated(node) || stuck_leader)
        << "node " << node.node_id << " votes while " << NodeStateName(node.state);
  }
  EXPECT_EQ(conf.voters.size(), model.Target(conf, desired));
  ++converged;
  if (only_settled_states) {
    // Without suspects and joiners the target is plainly min(desired, odd number of active nodes).
    if (active > 0) {
      EXPECT_EQ(conf.voters.size(), std::min<size_t>(desired, active % 2 == 1 ? active : active - 1));
    }
  }
}

TEST(VoterPolicyTest, RandomClustersConvergeWithoutLosingQuorum) {
  int converged = 0;
  for (uint32_t seed = 1; seed <= 1000; ++seed) {
    RunRandomCluster(seed, true, converged);
    RunRandomCluster(seed + 100000, false, converged);
    if (::testing::Test::HasFatalFailure()) return;
  }
  EXPECT_EQ(converged, 2000);
}

}  // namespace
}  // namespace phantom::metadata
