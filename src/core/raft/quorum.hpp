// Majority arithmetic over the voters of a single (non-joint) configuration.
// Learners are never passed in: callers hand over voters only.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <vector>

#include "core/raft/types.hpp"

namespace phantom::raft {

// The largest index that a majority of voters has matched. An empty voter set
// commits nothing new (returns 0).
Index QuorumCommittedIndex(const std::vector<NodeId>& voters, const std::function<Index(NodeId)>& match_of);

enum class VoteResult : uint8_t { kPending, kWon, kLost };

// votes maps a voter to its answer; voters without an entry have not answered.
// Answers from non-voters are ignored.
VoteResult TallyVotes(const std::vector<NodeId>& voters, const std::map<NodeId, bool>& votes);

// Whether the set of `active` voters (a predicate) is a majority.
bool QuorumActive(const std::vector<NodeId>& voters, const std::function<bool(NodeId)>& active);

}  // namespace phantom::raft
