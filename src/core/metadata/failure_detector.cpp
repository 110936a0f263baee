// Failure detection verdicts; see failure_detector.hpp.
#include "core/metadata/failure_detector.hpp"

#include <algorithm>
#include <optional>
#include <string>

#include "core/common/error.hpp"
#include "core/common/pure.hpp"

namespace phantom::metadata {
namespace {

void ValidatePolicy(const FailurePolicy& policy) {
  if (policy.node_timeout_us <= 0)
    throw Error(sqlstate::kInvalidParameterValue,
                "invalid node timeout " + std::to_string(policy.node_timeout_us) + " us",
                "The node timeout must be positive.");
  if (policy.failure_timeout_us < 0)
    throw Error(sqlstate::kInvalidParameterValue,
                "invalid failure timeout " + std::to_string(policy.failure_timeout_us) + " us",
                "The failure timeout must not be negative.");
}

// The state `node` should move to, or nullopt to leave it.
std::optional<NodeState> Verdict(const NodeRecord& node, const std::map<NodeId, int64_t>& last_heard_us, int64_t now_us,
                                 const FailurePolicy& policy, const LeaderState& leader) {
  const bool is_leader = node.node_id == leader.leader_id;
  std::optional<int64_t> heard;
  if (is_leader) {
    heard = now_us;
  } else if (auto it = last_heard_us.find(node.node_id); it != last_heard_us.end()) {
    heard = it->second;
  }
  // A clock that stepped back makes the silence negative: that is "recent".
  const bool answered_recently = heard.has_value() && now_us - *heard < policy.node_timeout_us;
  const int64_t silence = now_us - std::max(heard.value_or(leader.leader_since_us), leader.leader_since_us);

  switch (node.state) {
    case NodeState::kActive:
      if (silence >= policy.node_timeout_us) return NodeState::kSuspect;
      return std::nullopt;
    case NodeState::kSuspect:
      if (answered_recently) return NodeState::kActive;
      // Compared as "silence - node_timeout" so huge timeouts cannot overflow.
      if (silence - policy.node_timeout_us >= policy.failure_timeout_us) return NodeState::kFailed;
      return std::nullopt;
    case NodeState::kFailed:
      if (answered_recently) return NodeState::kActive;
      return std::nullopt;
    case NodeState::kJoining:
      if (answered_recently && (is_leader || leader.caught_up.contains(node.node_id))) return NodeState::kActive;
      return std::nullopt;
    case NodeState::kDraining:
      if (leader.without_shards.contains(node.node_id)) return NodeState::kDrained;
      return std::nullopt;
    case NodeState::kDrained:
      return std::nullopt;
  }
  return std::nullopt;
}

}  // namespace

FailurePolicy FailurePolicyFromSettings(int32_t node_timeout_ms) {
  FailurePolicy policy;
  policy.node_timeout_us = int64_t{node_timeout_ms} * 1000;
  policy.failure_timeout_us = kFailureTimeoutFactor * policy.node_timeout_us;
  return policy;
}

std::vector<StateChange> Evaluate(const std::vector<NodeRecord>& nodes, const std::map<NodeId, int64_t>& last_heard_us,
                                  int64_t now_us, const FailurePolicy& policy, const LeaderState& leader) {
  ValidatePolicy(policy);
  std::vector<StateChange> changes;
  for (const NodeRecord& node : nodes) {
    if (auto to = Verdict(node, last_heard_us, now_us, policy, leader))
      changes.push_back(StateChange{node.node_id, node.state, *to});
  }
  // The caller proposes them in this order; sorting makes the log the same
  // whatever order the catalog listed the nodes in.
  std::stable_sort(changes.begin(), changes.end(),
                   [](const StateChange& a, const StateChange& b) { return a.node_id < b.node_id; });
  return changes;
}

}  // namespace phantom::metadata
