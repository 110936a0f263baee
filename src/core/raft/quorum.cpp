#include "core/raft/quorum.hpp"

#include <algorithm>
#include <functional>

#include "core/common/pure.hpp"

namespace phantom::raft {

Index MajorityIndex(std::span<Index> matched) {
  if (matched.empty()) return 0;
  // The (n/2+1)-th largest is held by a majority.
  const auto nth = matched.begin() + static_cast<std::ptrdiff_t>(matched.size() / 2);
  std::nth_element(matched.begin(), nth, matched.end(), std::greater<Index>());
  return *nth;
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

}  // namespace phantom::raft
