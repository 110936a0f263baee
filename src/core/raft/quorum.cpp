#include "core/raft/quorum.hpp"

#include <algorithm>

#include "core/common/pure.hpp"

namespace phantom::raft {

Index QuorumCommittedIndex(const std::vector<NodeId>& voters, const std::function<Index(NodeId)>& match_of) {
  if (voters.empty()) return 0;
  std::vector<Index> matched;
  matched.reserve(voters.size());
  for (NodeId id : voters) matched.push_back(match_of(id));
  std::sort(matched.begin(), matched.end(), std::greater<Index>());
  // The (n/2+1)-th largest is held by a majority.
  return matched[voters.size() / 2];
}

VoteResult TallyVotes(const std::vector<NodeId>& voters, const std::map<NodeId, bool>& votes) {
  size_t granted = 0;
  size_t rejected = 0;
  for (NodeId id : voters) {
    const auto it = votes.find(id);
    if (it == votes.end()) continue;
    (it->second ? granted : rejected) += 1;
  }
  const size_t majority = voters.size() / 2 + 1;
  if (granted >= majority) return VoteResult::kWon;
  if (voters.size() - rejected < majority) return VoteResult::kLost;
  return VoteResult::kPending;
}

bool QuorumActive(const std::vector<NodeId>& voters, const std::function<bool(NodeId)>& active) {
  size_t count = 0;
  for (NodeId id : voters) count += active(id) ? 1 : 0;
  return count >= voters.size() / 2 + 1;
}

}  // namespace phantom::raft
