// Voter planning; the rules are in voter_policy.hpp.
#include "core/metadata/voter_policy.hpp"

#include <algorithm>
#include <limits>
#include <map>
#include <optional>
#include <utility>

#include "core/common/error.hpp"
#include "core/common/pure.hpp"

namespace phantom::metadata {
namespace {

size_t Majority(size_t voters) { return voters / 2 + 1; }

bool Contains(const std::vector<raft::NodeId>& sorted, raft::NodeId id) {
  return std::binary_search(sorted.begin(), sorted.end(), id);
}

// Everything PlanVoters asks about one Raft member, computed once.
class Cluster {
 public:
  Cluster(const std::vector<NodeRecord>& nodes, const raft::ConfState& current, const VoterInputs& inputs)
      : current_(current), inputs_(inputs) {
    for (const NodeRecord& node : nodes) catalog_.emplace(node.node_id, &node);
  }

  // nullptr when the member left the catalog (or has an id no catalog row can have).
  const NodeRecord* Record(raft::NodeId id) const {
    if (id > static_cast<raft::NodeId>(std::numeric_limits<NodeId>::max())) return nullptr;
    auto it = catalog_.find(static_cast<NodeId>(id));
    return it == catalog_.end() ? nullptr : it->second;
  }
  bool IsLeader(raft::NodeId id) const {
    return inputs_.leader_id > 0 && id == static_cast<raft::NodeId>(inputs_.leader_id);
  }
  bool Live(raft::NodeId id) const {
    const NodeRecord* record = Record(id);
    if (record == nullptr)  // removed: live while it still answers, until it is out of the group
      return id <= static_cast<raft::NodeId>(std::numeric_limits<NodeId>::max()) &&
             inputs_.responsive.count(static_cast<NodeId>(id)) > 0;
    return IsLeader(id) || record->state == NodeState::kActive;
  }
  bool Bad(raft::NodeId id) const {
    const NodeRecord* record = Record(id);
    if (record == nullptr) return true;
    switch (record->state) {
      case NodeState::kFailed:
        return !IsLeader(id);  // its record lags: a leader is alive
      case NodeState::kDraining:
      case NodeState::kDrained:
        return true;
      case NodeState::kJoining:
      case NodeState::kActive:
      case NodeState::kSuspect:
        return false;
    }
    return true;
  }
  bool CaughtUp(raft::NodeId id) const {
    return IsLeader(id) || (id <= static_cast<raft::NodeId>(std::numeric_limits<NodeId>::max()) &&
                            inputs_.caught_up.contains(static_cast<NodeId>(id)));
  }
  bool Promotable(raft::NodeId id) const {
    const NodeRecord* record = Record(id);
    return record != nullptr && record->state == NodeState::kActive && CaughtUp(id);
  }
  const std::string& Region(raft::NodeId id) const {
    static const std::string kNoRegion;
    const NodeRecord* record = Record(id);
    return record == nullptr ? kNoRegion : record->region;
  }

  const raft::ConfState& Current() const { return current_; }
  const std::map<NodeId, const NodeRecord*>& Catalog() const { return catalog_; }

  size_t LiveVoters() const {
    return static_cast<size_t>(
        std::count_if(current_.voters.begin(), current_.voters.end(), [&](raft::NodeId id) { return Live(id); }));
  }
  std::vector<raft::NodeId> GoodVoters() const {
    std::vector<raft::NodeId> good;
    for (raft::NodeId id : current_.voters)
      if (!Bad(id)) good.push_back(id);
    return good;
  }
  // Voters that stop voting keep the rest a live quorum (see the header).
  bool SafeToDrop(raft::NodeId voter) const {
    const size_t after = current_.voters.size() - 1;
    const size_t live_after = LiveVoters() - (Live(voter) ? 1 : 0);
    return after > 0 && live_after >= Majority(after);
  }

 private:
  const raft::ConfState& current_;
  const VoterInputs& inputs_;
  std::map<NodeId, const NodeRecord*> catalog_;
};

VoterPlan Plan(VoterAction action, raft::NodeId id, std::string reason) {
  return VoterPlan{action, id, std::move(reason)};
}

std::string Describe(const Cluster& cluster, raft::NodeId id) {
  const NodeRecord* record = cluster.Record(id);
  if (record == nullptr) return "node " + std::to_string(id) + " (removed)";
  return "node " + std::to_string(id) + " (" + NodeStateName(record->state) + ")";
}

// How many of `voters` are in each region.
std::map<std::string, size_t> RegionCounts(const Cluster& cluster, const std::vector<raft::NodeId>& voters) {
  std::map<std::string, size_t> counts;
  for (raft::NodeId id : voters) ++counts[cluster.Region(id)];
  return counts;
}

// The promotable learner in the region with the fewest good voters, then the
// lowest id; nullopt when no learner is promotable.
std::optional<raft::NodeId> BestLearner(const Cluster& cluster, const std::vector<raft::NodeId>& good) {
  const auto counts = RegionCounts(cluster, good);
  std::optional<raft::NodeId> best;
  size_t best_count = 0;
  for (raft::NodeId id : cluster.Current().learners) {  // ascending ids: the first of a tie wins
    if (!cluster.Promotable(id)) continue;
    auto it = counts.find(cluster.Region(id));
    const size_t count = it == counts.end() ? 0 : it->second;
    if (!best || count < best_count) {
      best = id;
      best_count = count;
    }
  }
  return best;
}

std::optional<VoterPlan> ReplaceBadVoter(const Cluster& cluster, const std::vector<raft::NodeId>& good, size_t target) {
  std::vector<raft::NodeId> bad;
  for (raft::NodeId id : cluster.Current().voters)
    if (cluster.Bad(id)) bad.push_back(id);
  if (bad.empty()) return std::nullopt;

  if (good.size() < target) {
    if (auto learner = BestLearner(cluster, good))
      return Plan(VoterAction::kPromote, *learner,
                  "replaces " + Describe(cluster, bad.front()) + " before it stops voting");
  }
  // Dead voters first: dropping them never costs a live vote.
  std::stable_partition(bad.begin(), bad.end(), [&](raft::NodeId id) { return !cluster.Live(id); });
  for (raft::NodeId id : bad) {
    if (cluster.IsLeader(id) || !cluster.SafeToDrop(id)) continue;
    if (cluster.Record(id) == nullptr)
      return Plan(VoterAction::kRemove, id, Describe(cluster, id) + " left the catalog");
    return Plan(VoterAction::kDemote, id, Describe(cluster, id) + " stops voting");
  }
  for (raft::NodeId id : bad) {
    if (!cluster.IsLeader(id)) continue;
    std::optional<raft::NodeId> successor;
    for (raft::NodeId candidate : good) {
      if (candidate == id || !cluster.Live(candidate)) continue;
      if (!successor || (cluster.CaughtUp(candidate) && !cluster.CaughtUp(*successor))) successor = candidate;
    }
    // A bad leader counts as live only while it leads: once it hands over,
    // the others must be a quorum without it, or the new leader is stuck.
    const size_t voters = cluster.Current().voters.size();
    if (successor && cluster.LiveVoters() - 1 >= Majority(voters))
      return Plan(VoterAction::kTransferLeadership, *successor,
                  "the leader is " + Describe(cluster, id) + " and must stop voting");
    // Else it demotes itself: the entry commits with its own vote, and Raft
    // makes a demoted leader step down; the smaller group elects a successor.
    if (cluster.SafeToDrop(id))
      return Plan(VoterAction::kDemote, id, "the leader is " + Describe(cluster, id) + " and stops voting");
  }
  return std::nullopt;
}

std::optional<VoterPlan> DemoteSurplus(const Cluster& cluster, const std::vector<raft::NodeId>& good, size_t target) {
  if (good.size() <= target) return std::nullopt;
  const auto counts = RegionCounts(cluster, good);
  std::vector<raft::NodeId> order;
  for (raft::NodeId id : good)
    if (!cluster.IsLeader(id)) order.push_back(id);
  // Most expendable first: not live, then most crowded region, then highest id.
  std::sort(order.begin(), order.end(), [&](raft::NodeId a, raft::NodeId b) {
    if (cluster.Live(a) != cluster.Live(b)) return !cluster.Live(a);
    const size_t ca = counts.at(cluster.Region(a));
    const size_t cb = counts.at(cluster.Region(b));
    if (ca != cb) return ca > cb;
    return a > b;
  });
  for (raft::NodeId id : order) {
    if (cluster.SafeToDrop(id))
      return Plan(VoterAction::kDemote, id,
                  std::to_string(good.size()) + " voters, the target is " + std::to_string(target));
  }
  return std::nullopt;
}

}  // namespace

void ValidateDesiredVoters(int desired_voters) {
  const std::string message = "invalid phantomdb.raft_voters value " + std::to_string(desired_voters);
  const std::string hint = "Set phantomdb.raft_voters to 1, 3, 5 or 7.";
  if (desired_voters < 1 || desired_voters > kRaftVotersLimit)
    throw Error(sqlstate::kInvalidParameterValue, message,
                "The metadata group has between 1 and " + std::to_string(kRaftVotersLimit) +
                    " voters; the other nodes follow it as learners.",
                hint);
  if (desired_voters % 2 == 0)
    throw Error(sqlstate::kInvalidParameterValue, message,
                "An even number of voters tolerates no more failed voters than one fewer, and every commit waits for "
                "more of them.",
                hint);
}

const char* VoterActionName(VoterAction action) {
  switch (action) {
    case VoterAction::kNone:
      return "none";
    case VoterAction::kAddLearner:
      return "add learner";
    case VoterAction::kPromote:
      return "promote";
    case VoterAction::kDemote:
      return "demote";
    case VoterAction::kRemove:
      return "remove";
    case VoterAction::kTransferLeadership:
      return "transfer leadership";
  }
  return "unknown";
}

VoterPlan PlanVoters(const std::vector<NodeRecord>& nodes, const raft::ConfState& current, int desired_voters,
                     const VoterInputs& inputs) {
  ValidateDesiredVoters(desired_voters);
  const Cluster cluster(nodes, current, inputs);

  const size_t voters = current.voters.size();
  const size_t live = cluster.LiveVoters();
  if (voters == 0 || live < Majority(voters))
    return Plan(VoterAction::kNone, raft::kNoNode,
                "no quorum: " + std::to_string(live) + " of " + std::to_string(voters) + " voters are active");

  const std::vector<raft::NodeId> good = cluster.GoodVoters();
  size_t fit = good.size();
  for (const auto& [id, record] : cluster.Catalog())
    if (record->state == NodeState::kActive && id > 0 && !Contains(current.voters, static_cast<raft::NodeId>(id)))
      ++fit;
  const size_t odd_fit = fit % 2 == 1 || fit == 0 ? fit : fit - 1;
  const size_t target = std::max<size_t>(1, std::min<size_t>(static_cast<size_t>(desired_voters), odd_fit));

  if (auto plan = ReplaceBadVoter(cluster, good, target)) return *plan;
  if (good.size() < target) {
    if (auto learner = BestLearner(cluster, good))
      return Plan(VoterAction::kPromote, *learner,
                  std::to_string(good.size()) + " voters, the target is " + std::to_string(target));
  }
  if (auto plan = DemoteSurplus(cluster, good, target)) return *plan;

  for (const auto& [id, record] : cluster.Catalog()) {
    if (id <= 0) continue;  // not a Raft id; no catalog row has it
    const auto raft_id = static_cast<raft::NodeId>(id);
    if (!Contains(current.voters, raft_id) && !Contains(current.learners, raft_id))
      return Plan(VoterAction::kAddLearner, raft_id, "every node follows the metadata log");
  }
  for (raft::NodeId id : current.learners)
    if (cluster.Record(id) == nullptr)
      return Plan(VoterAction::kRemove, id, Describe(cluster, id) + " left the catalog");

  return Plan(VoterAction::kNone, raft::kNoNode,
              std::to_string(good.size()) + " voters, the target is " + std::to_string(target));
}

raft::ConfChange ToConfChange(const VoterPlan& plan) {
  const raft::NodeId node = plan.node_id;
  switch (plan.action) {
    case VoterAction::kAddLearner:
    case VoterAction::kDemote:
      return raft::ConfChange{raft::ConfChangeType::kAddLearner, node};
    case VoterAction::kPromote:
      return raft::ConfChange{raft::ConfChangeType::kAddVoter, node};
    case VoterAction::kRemove:
      return raft::ConfChange{raft::ConfChangeType::kRemoveNode, node};
    case VoterAction::kNone:
    case VoterAction::kTransferLeadership:
      break;
  }
  throw Error(sqlstate::kInternalError,
              std::string("voter plan \"") + VoterActionName(plan.action) + "\" is not a membership change");
}

}  // namespace phantom::metadata
