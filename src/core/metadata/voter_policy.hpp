// Which nodes vote in the metadata Raft group: the Raft leader calls
// PlanVoters after every applied conf change and every node state change,
// and proposes the one step it returns. The raft worker feeds it the catalog,
// Raft's membership and progress; this decides.
//
// Every catalog node is in the group, as a learner at least, because every
// node applies the metadata log. A node's Raft id is its metadata node id
// (both are never reused; 0 is no node in either).
//
// The target. "Fit" nodes are active nodes plus voters that are suspect or
// joining (a suspect voter keeps its seat until it is declared failed:
// suspicion is often a blip, and reshuffling voters on a blip costs more than
// it saves). With H fit nodes the target is
//   T = max(1, min(desired_voters, H if H is odd else H - 1)).
// An even voter count tolerates no more failures than one fewer voter, while
// every commit waits for more of them, so the target is odd.
//
// A voter is "bad" when it left the catalog or is failed, draining or drained
// (the leader is never bad for being failed: it is alive). A voter is
// "live" when it is active or the leader, or left the catalog but still
// answers (phantom_remove_node waits for it to leave the group before it
// tells it to go); only live voters count towards quorum. A learner is promotable when it is active and caught up.
//
// One step per call, the first that applies:
//   1. nothing when the live voters are not a quorum of the current voters:
//      no change could commit;
//   2. a bad voter exists:
//      a. promote a learner when fewer than T voters are good (replace first,
//         so the count goes 3 -> 4 -> 3, never 3 -> 2 with a learner waiting);
//      b. else demote it to learner (failed, draining, drained: it stays in
//         the group, so a failed node that comes back catches up and can vote
//         again with no manual step), or remove it when it left the catalog;
//         dead ones (not live) first, then lowest id; not the leader;
//      c. else, when the leader itself is bad, transfer leadership to a live
//         good voter (caught-up ones first, then lowest id), and the next
//         leader demotes it; when the others are no live quorum without the
//         leader's vote, the leader demotes itself instead (Raft makes it
//         step down once applied, and the rest elect a successor);
//   3. promote a learner while fewer than T voters are good;
//   4. demote a good voter while more than T are (not the leader): voters
//      that are not live first, then the one in the region with the most
//      good voters, then the highest id;
//   5. add a catalog node that is not in the group as a learner, lowest id
//      first;
//   6. remove a learner that left the catalog, lowest id first.
// Promotion picks the learner whose region has the fewest good voters, then
// the lowest id: voters spread over regions so one region's outage cannot
// take the quorum with it, when the nodes allow.
//
// Safety: a planned conf change always leaves the live voters a quorum of the
// new voters (promoting a live learner, or dropping a dead voter, always
// does; dropping a live voter is checked, and skipped when it would not).
// With single-server changes the old and new quorums overlap, so this is all
// a step needs.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "core/metadata/command.hpp"
#include "core/raft/types.hpp"

namespace phantom::metadata {

// phantomdb.raft_voters: the default, and the largest value accepted.
inline constexpr int kDefaultRaftVoters = 3;
inline constexpr int kRaftVotersLimit = 7;

// Throws phantom::Error (22023) naming the value when desired_voters is even
// or outside 1..kRaftVotersLimit.
void ValidateDesiredVoters(int desired_voters);

enum class VoterAction : uint8_t {
  kNone = 0,
  kAddLearner = 1,          // raft kAddLearner on a node outside the group
  kPromote = 2,             // raft kAddVoter on a learner
  kDemote = 3,              // raft kAddLearner on a voter
  kRemove = 4,              // raft kRemoveNode
  kTransferLeadership = 5,  // Raft::TransferLeadership(node_id); not a conf change
};

// "none", "add learner", "promote", "demote", "remove", "transfer leadership".
const char* VoterActionName(VoterAction action);

struct VoterPlan {
  VoterAction action = VoterAction::kNone;
  raft::NodeId node_id = raft::kNoNode;  // the node changed, or the new leader for a transfer
  std::string reason;                    // one line for the log: why this step (or why none)

  bool operator==(const VoterPlan&) const = default;
};

// What the leader knows besides the catalog and the membership.
struct VoterInputs {
  NodeId leader_id = 0;  // always live; demoted only by rule 2c
  // Learners whose match index reached the leader's commit index.
  std::set<NodeId> caught_up;
  // Members that answered the leader within the node timeout. Only members
  // that left the catalog need it: a removed voter still answering is live
  // (it votes until it is out), so removing it leaves a quorum.
  std::set<NodeId> responsive;
};

// The next step towards the target (see above); action kNone when there is
// none. current must be a valid ConfState (sorted, disjoint). Throws as
// ValidateDesiredVoters does.
VoterPlan PlanVoters(const std::vector<NodeRecord>& nodes, const raft::ConfState& current, int desired_voters,
                     const VoterInputs& inputs);

// The conf change that carries out a plan whose action is a membership change;
// throws phantom::Error (XX000) for kNone and kTransferLeadership.
raft::ConfChange ToConfChange(const VoterPlan& plan);

}  // namespace phantom::metadata
