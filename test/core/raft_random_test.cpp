// Random ticks, proposals, partitions, message loss (and optionally
// reordering and duplication), compaction, transfers and restarts
// against the Raft safety properties: one leader per term, and no two nodes
// ever apply different entries at the same index.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <string>

#include "core/raft/raft.hpp"
#include "raft_network.hpp"

namespace phantom::raft {
namespace {

using testing::Network;
using testing::Voters;

class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}
  uint64_t Next() {
    uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  uint64_t Below(uint64_t n) { return Next() % n; }

 private:
  uint64_t state_;
};

void RunRandomCluster(uint64_t seed, bool pre_vote, bool check_quorum, bool chaos = false) {
  Rng rng(seed);
  Network net;
  net.pre_vote = pre_vote;
  net.check_quorum = check_quorum;
  const ConfState conf = Voters({1, 2, 3, 4, 5});
  for (NodeId id = 1; id <= 5; ++id) net.Add(id, conf);
  net.filter = [&](Message&) { return rng.Below(10) != 0; };
  if (chaos) {
    net.pick = [&](size_t n) { return static_cast<size_t>(rng.Below(n)); };
    net.duplicate = [&] { return rng.Below(20) == 0; };
  }
  std::map<Term, NodeId> leader_of_term;
  int proposals = 0;
  for (int step = 0; step < 1500; ++step) {
    const NodeId id = 1 + rng.Below(5);
    const uint64_t action = rng.Below(100);
    if (action < 60) {
      net.Tick(id);
    } else if (action < 85) {
      try {
        net.At(id).Propose("v" + std::to_string(proposals++));
      } catch (const Error&) {
        // No leader or a transfer in progress: fine.
      }
      net.Deliver();
    } else if (action < 90) {
      net.Isolate(id);
    } else if (action < 95) {
      net.Heal();
    } else if (action < 97) {
      MemoryStorage& storage = *net.Node(id).storage;
      const Index applied = net.At(id).Status().applied;
      if (applied > storage.FirstIndex()) {
        storage.CreateSnapshot(applied, conf, "s");
        storage.Compact(applied);
      }
    } else if (action < 98) {
      net.At(id).TransferLeadership(1 + rng.Below(5));
      net.Deliver();
    } else {
      net.Restart(id);
      net.Deliver();
    }
    for (NodeId n : net.Ids()) {
      const RaftStatus status = net.At(n).Status();
      if (status.role != Role::kLeader) continue;
      const auto [it, fresh] = leader_of_term.emplace(status.term, n);
      ASSERT_EQ(it->second, n) << "two leaders in term " << status.term << " (seed " << seed << ")";
    }
  }
  // Heal and let the cluster converge, then compare what everyone applied.
  net.Heal();
  net.filter = nullptr;
  net.pick = nullptr;
  net.duplicate = nullptr;
  for (int k = 0; k < 60; ++k) net.TickAll();
  const Index commit = net.At(1).Status().commit;
  EXPECT_GT(commit, 0u) << "seed " << seed;
  for (NodeId a : net.Ids()) {
    EXPECT_EQ(net.At(a).Status().commit, commit) << "node " << a << " did not converge (seed " << seed << ")";
    for (NodeId b : net.Ids()) {
      for (const auto& [index, entry] : net.Node(a).applied_log) {
        const auto it = net.Node(b).applied_log.find(index);
        if (it != net.Node(b).applied_log.end()) {
          ASSERT_EQ(it->second, entry) << "nodes " << a << " and " << b << " differ at " << index << " (seed " << seed
                                       << ")";
        }
      }
    }
  }
}

TEST(RaftRandomTest, SafetyUnderFaults) {
  for (uint64_t seed = 1; seed <= 30; ++seed) RunRandomCluster(seed, false, false);
}

TEST(RaftRandomTest, SafetyUnderFaultsWithPreVoteAndCheckQuorum) {
  for (uint64_t seed = 100; seed <= 130; ++seed) RunRandomCluster(seed, true, true);
}

TEST(RaftRandomTest, SafetyUnderReorderingAndDuplication) {
  for (uint64_t seed = 200; seed <= 230; ++seed) RunRandomCluster(seed, seed % 2 == 0, seed % 3 == 0, true);
}

}  // namespace
}  // namespace phantom::raft
