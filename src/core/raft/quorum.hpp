// Majority arithmetic over the voters of a single (non-joint) configuration.
// Learners are never passed in: callers hand over voters only.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <span>
#include <vector>

#include "core/raft/types.hpp"

namespace phantom::raft {

// The largest index held by a majority of `matched` (one entry per voter);
// reorders it. 0 when empty.
Index MajorityIndex(std::span<Index> matched);

// The largest index that a majority of voters has matched, match_of(voter)
// giving each one's. An empty voter set commits nothing new (returns 0).
// A template rather than std::function, and the indexes gathered on the stack
// for groups of ordinary size: the leader calls this for every acknowledgement.
template <typename MatchOf>
Index QuorumCommittedIndex(const std::vector<NodeId>& voters, const MatchOf& match_of) {
  constexpr size_t kInline = 16;
  if (voters.size() <= kInline) {
    std::array<Index, kInline> matched{};
    for (size_t i = 0; i < voters.size(); ++i) matched[i] = match_of(voters[i]);
    return MajorityIndex(std::span<Index>(matched.data(), voters.size()));
  }
  std::vector<Index> matched;
  matched.reserve(voters.size());
  for (NodeId id : voters) matched.push_back(match_of(id));
  return MajorityIndex(matched);
}

enum class VoteResult : uint8_t { kPending, kWon, kLost };

// votes maps a voter to its answer; voters without an entry have not answered.
// Answers from non-voters are ignored.
VoteResult TallyVotes(const std::vector<NodeId>& voters, const std::map<NodeId, bool>& votes);

// Whether the set of `active` voters (a predicate) is a majority.
template <typename Active>
bool QuorumActive(const std::vector<NodeId>& voters, const Active& active) {
  size_t count = 0;
  for (NodeId id : voters) count += active(id) ? 1 : 0;
  return count >= voters.size() / 2 + 1;
}

}  // namespace phantom::raft
