// Failure detection on the Raft leader: from when each node last answered a
// heartbeat, which node state changes to propose through the metadata log.
// The raft worker feeds it its own clock and records; this decides. Nothing
// here remembers anything between calls: every verdict follows from the
// inputs, so a new leader reaches the same verdicts as the old one would have
// once it has heard (or not heard) from the nodes itself.
//
// Rules (silence = now - when the node last answered, see the grace period):
//   active    -> suspect   silence >= node_timeout
//   suspect   -> failed    silence >= node_timeout + failure_timeout
//   suspect   -> active    answered within the last node_timeout
//   failed    -> active    answered within the last node_timeout (it rejoins
//                          by itself; stale metadata is fenced by the applied
//                          index every shard command carries)
//   joining   -> active    answered within the last node_timeout and caught up
//                          with the metadata log
//   draining  -> drained   it holds no shard placements
//   draining, drained      otherwise never touched: the operator moves them
// One step per call: an active node silent for long is first suspect and
// fails on a later call, so everything that reacts to "suspect" sees it.
//
// Grace period: a freshly elected leader has heard from nobody yet. Silence is
// measured from max(last answer, leader_since_us), so no node is suspected
// before a full node_timeout of this leader's own heartbeats went unanswered.
// The grace never counts as an answer: a failed node stays failed until it
// really answers.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <vector>

#include "core/metadata/command.hpp"

namespace phantom::metadata {

// How many node timeouts a suspect node gets before it is declared failed.
inline constexpr int64_t kFailureTimeoutFactor = 3;

struct FailurePolicy {
  int64_t node_timeout_us = 5'000'000;                             // phantomdb.node_timeout_ms
  int64_t failure_timeout_us = kFailureTimeoutFactor * 5'000'000;  // further silence while suspect
};

// The policy for phantomdb.node_timeout_ms: the failure timeout is
// kFailureTimeoutFactor node timeouts.
FailurePolicy FailurePolicyFromSettings(int32_t node_timeout_ms);

// What the leader knows besides heartbeat answers.
struct LeaderState {
  NodeId leader_id = 0;         // this node; always alive, whatever its record says
  int64_t leader_since_us = 0;  // when it became leader, on the same clock as now_us
  // Nodes whose applied metadata index reached the leader's commit index
  // (the leader counts as caught up without being listed).
  std::set<NodeId> caught_up;
  // Nodes that hold no shard placements (draining ones become drained).
  std::set<NodeId> without_shards;
};

// One proposed change. `from` is the state the decision was based on, so
// applying it can refuse when the record changed meanwhile (a stale proposal
// from a deposed leader then does nothing).
struct StateChange {
  NodeId node_id = 0;
  NodeState from = NodeState::kActive;
  NodeState to = NodeState::kActive;

  bool operator==(const StateChange&) const = default;
};

// The changes to propose now, at most one per node, sorted by node id; empty
// when every record already matches. last_heard_us holds, per node, the time
// of its last successful heartbeat answer to this leader (absent: none yet);
// entries of nodes not in `nodes` are ignored. Throws phantom::Error (22023)
// for a non-positive node timeout or a negative failure timeout.
std::vector<StateChange> Evaluate(const std::vector<NodeRecord>& nodes, const std::map<NodeId, int64_t>& last_heard_us,
                                  int64_t now_us, const FailurePolicy& policy, const LeaderState& leader);

}  // namespace phantom::metadata
