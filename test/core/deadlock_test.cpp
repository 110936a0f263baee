// Deadlock victims: only cycle members are cancelled, the youngest first, the
// same ones whatever the input order, and afterwards no cycle is left. A naive
// model (reachability matrix, youngest transaction on a cycle, repeat) checks
// random small graphs.
#include "core/transactions/deadlock.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <ostream>
#include <random>
#include <set>
#include <tuple>
#include <vector>

namespace phantom::transactions {

// Found by gtest through ADL, so outside the anonymous namespace.
void PrintTo(const TransactionId& id, std::ostream* os) { *os << id.node << ":" << id.number; }
void PrintTo(const WaitEdge& edge, std::ostream* os) {
  PrintTo(edge.waiter, os);
  *os << "->";
  PrintTo(edge.holder, os);
}

namespace {

using Ids = std::vector<TransactionId>;
using Edges = std::vector<WaitEdge>;
using Infos = std::vector<TransactionInfo>;

// Distributed transactions started on three coordinators.
const TransactionId kA{1, 100};
const TransactionId kB{2, 100};
const TransactionId kC{3, 100};
const TransactionId kD{1, 101};
const TransactionId kE{2, 101};
const TransactionId kF{3, 101};
const TransactionId kX{1, 900};

TEST(ChooseDeadlockVictimsTest, TwoTransactionCycleCancelsTheYounger) {
  const Edges edges{{kA, kB}, {kB, kA}};
  EXPECT_EQ(ChooseDeadlockVictims(edges, {{kA, 10}, {kB, 20}}), Ids{kB});
  EXPECT_EQ(ChooseDeadlockVictims(edges, {{kA, 20}, {kB, 10}}), Ids{kA});
}

TEST(ChooseDeadlockVictimsTest, ThreeCycleAcrossNodes) {
  const Edges edges{{kA, kB}, {kB, kC}, {kC, kA}};
  EXPECT_EQ(ChooseDeadlockVictims(edges, {{kA, 30}, {kB, 10}, {kC, 20}}), Ids{kA});
  EXPECT_EQ(ChooseDeadlockVictims(edges, {{kA, 30}, {kB, 10}, {kC, 40}}), Ids{kC});
}

TEST(ChooseDeadlockVictimsTest, EqualStartsPreferTheLargerId) {
  // kB (node 2) > kA (node 1); kD (node 1, 101) > kA (node 1, 100).
  EXPECT_EQ(ChooseDeadlockVictims({{kA, kB}, {kB, kA}}, {{kA, 5}, {kB, 5}}), Ids{kB});
  EXPECT_EQ(ChooseDeadlockVictims({{kA, kD}, {kD, kA}}, {{kA, 5}, {kD, 5}}), Ids{kD});
}

TEST(ChooseDeadlockVictimsTest, TwoDisjointCyclesNeedTwoVictimsYoungestFirst) {
  const Edges edges{{kA, kB}, {kB, kA}, {kC, kD}, {kD, kE}, {kE, kC}};
  const Infos infos{{kA, 1}, {kB, 2}, {kC, 3}, {kD, 50}, {kE, 4}};
  EXPECT_EQ(ChooseDeadlockVictims(edges, infos), (Ids{kD, kB}));
}

TEST(ChooseDeadlockVictimsTest, OverlappingCyclesShareAVictimWhenItIsYoungest) {
  // kA <-> kB and kB <-> kC: cancelling kB breaks both.
  const Edges edges{{kA, kB}, {kB, kA}, {kB, kC}, {kC, kB}};
  EXPECT_EQ(ChooseDeadlockVictims(edges, {{kA, 1}, {kB, 9}, {kC, 2}}), Ids{kB});
  // kA is youngest: cancelling it leaves kB <-> kC, whose younger goes too.
  EXPECT_EQ(ChooseDeadlockVictims(edges, {{kA, 9}, {kB, 1}, {kC, 2}}), (Ids{kA, kC}));
  EXPECT_EQ(ChooseDeadlockVictims(edges, {{kA, 9}, {kB, 2}, {kC, 1}}), (Ids{kA, kB}));
}

TEST(ChooseDeadlockVictimsTest, FigureEightThroughOneTransaction) {
  // Two triangles meeting at kA.
  const Edges edges{{kA, kB}, {kB, kC}, {kC, kA}, {kA, kD}, {kD, kE}, {kE, kA}};
  EXPECT_EQ(ChooseDeadlockVictims(edges, {{kA, 9}, {kB, 1}, {kC, 2}, {kD, 3}, {kE, 4}}), Ids{kA});
  EXPECT_EQ(ChooseDeadlockVictims(edges, {{kA, 1}, {kB, 2}, {kC, 8}, {kD, 9}, {kE, 3}}), (Ids{kD, kC}));
}

TEST(ChooseDeadlockVictimsTest, WaitsWithoutACycleCancelNothing) {
  const Infos infos{{kA, 1}, {kB, 2}, {kC, 3}, {kD, 4}, {kE, 5}, {kF, 6}};
  // Chain.
  EXPECT_EQ(ChooseDeadlockVictims({{kA, kB}, {kB, kC}, {kC, kD}}, infos), Ids{});
  // Tree: kA and kB wait for kC, kC and kD for kE.
  EXPECT_EQ(ChooseDeadlockVictims({{kA, kC}, {kB, kC}, {kC, kE}, {kD, kE}}, infos), Ids{});
  // Star: everyone waits for kA.
  EXPECT_EQ(ChooseDeadlockVictims({{kB, kA}, {kC, kA}, {kD, kA}, {kE, kA}, {kF, kA}}, infos), Ids{});
  // One waiter on many holders, with a diamond.
  EXPECT_EQ(ChooseDeadlockVictims({{kA, kB}, {kA, kC}, {kB, kD}, {kC, kD}}, infos), Ids{});
  EXPECT_EQ(ChooseDeadlockVictims({}, infos), Ids{});
}

TEST(ChooseDeadlockVictimsTest, OutsideWaitersAreNeverChosen) {
  // kX is youngest and waits for the cycle kA <-> kB; so does kC, via kD.
  const Edges edges{{kX, kA}, {kA, kB}, {kB, kA}, {kC, kD}, {kD, kB}};
  const Infos infos{{kX, 1000}, {kA, 1}, {kB, 2}, {kC, 999}, {kD, 998}};
  EXPECT_EQ(ChooseDeadlockVictims(edges, infos), Ids{kB});
  // Nor is a young holder that a cycle member waits for.
  EXPECT_EQ(ChooseDeadlockVictims({{kA, kB}, {kB, kA}, {kB, kX}}, infos), Ids{kB});
}

TEST(ChooseDeadlockVictimsTest, SelfEdgesAreIgnored) {
  EXPECT_EQ(ChooseDeadlockVictims({{kA, kA}}, {{kA, 1}}), Ids{});
  EXPECT_EQ(ChooseDeadlockVictims({{kA, kA}, {kB, kB}, {kA, kB}}, {{kA, 1}, {kB, 2}}), Ids{});
  // kC's self-edge does not make it a cycle member, though it is youngest.
  EXPECT_EQ(ChooseDeadlockVictims({{kC, kC}, {kC, kA}, {kA, kB}, {kB, kA}}, {{kA, 1}, {kB, 2}, {kC, 3}}), Ids{kB});
}

TEST(ChooseDeadlockVictimsTest, DuplicateEdgesCountOnce) {
  const Edges edges{{kA, kB}, {kB, kA}, {kA, kB}, {kB, kA}, {kB, kA}, {kC, kA}, {kC, kA}};
  EXPECT_EQ(ChooseDeadlockVictims(edges, {{kA, 2}, {kB, 1}, {kC, 3}}), Ids{kA});
  EXPECT_EQ(ChooseDeadlockVictims({{kA, kB}, {kA, kB}}, {{kA, 2}, {kB, 1}}), Ids{});
}

TEST(ChooseDeadlockVictimsTest, DuplicateInfoEntriesUseTheLatestStart) {
  const Edges edges{{kA, kB}, {kB, kA}};
  EXPECT_EQ(ChooseDeadlockVictims(edges, {{kA, 50}, {kB, 10}, {kA, 1}}), Ids{kA});
  EXPECT_EQ(ChooseDeadlockVictims(edges, {{kA, 1}, {kB, 10}, {kA, 50}}), Ids{kA});
}

TEST(ChooseDeadlockVictimsTest, UnknownAgesCountAsOldest) {
  const Edges edges{{kA, kB}, {kB, kA}};
  // kB is unknown: kA goes even though it started at the earliest possible time.
  EXPECT_EQ(ChooseDeadlockVictims(edges, {{kA, INT64_MIN}}), Ids{kA});
  EXPECT_EQ(ChooseDeadlockVictims(edges, {{kB, 0}}), Ids{kB});
  // All unknown: the larger id goes. Infos for others change nothing.
  EXPECT_EQ(ChooseDeadlockVictims(edges, {}), Ids{kB});
  EXPECT_EQ(ChooseDeadlockVictims(edges, {{kX, 5}}), Ids{kB});
  // A cycle of unknowns still gets broken, next to one of known ages.
  EXPECT_EQ(ChooseDeadlockVictims({{kA, kB}, {kB, kA}, {kC, kD}, {kD, kC}}, {{kC, 1}, {kD, 2}}), (Ids{kD, kB}));
}

TEST(ChooseDeadlockVictimsTest, LongCycleAndDenseGraph) {
  // A ring of 20000 transactions, each also waiting two ahead, oldest first.
  // Cancelling the youngest leaves the cycle that skips it; cancelling the
  // next youngest leaves the one before them waiting for two cancelled ones.
  // Deep enough that a recursive search would risk the stack.
  constexpr uint64_t kRing = 20000;
  Edges ring;
  Infos ring_infos;
  for (uint64_t i = 0; i < kRing; i++) {
    ring.push_back({{1, i}, {1, (i + 1) % kRing}});
    ring.push_back({{1, i}, {1, (i + 2) % kRing}});
    ring_infos.push_back({{1, i}, static_cast<int64_t>(i)});
  }
  EXPECT_EQ(ChooseDeadlockVictims(ring, ring_infos), (Ids{{1, kRing - 1}, {1, kRing - 2}}));

  // Everyone waits for everyone: all but the oldest go, youngest first.
  constexpr uint64_t kClique = 80;
  Edges clique;
  Infos clique_infos;
  Ids expected;
  for (uint64_t i = 0; i < kClique; i++) {
    clique_infos.push_back({{2, i}, static_cast<int64_t>(1000 - i)});
    for (uint64_t j = 0; j < kClique; j++) clique.push_back({{2, i}, {2, j}});
  }
  for (uint64_t i = 0; i + 1 < kClique; i++) expected.push_back({2, i});
  EXPECT_EQ(ChooseDeadlockVictims(clique, clique_infos), expected);
}

// The naive model: with a reachability matrix, a transaction is on a cycle
// iff it reaches itself; repeatedly cancel the youngest such one.
struct Model {
  std::vector<TransactionId> ids;
  std::vector<std::vector<bool>> edge;  // without self-edges
  std::vector<std::optional<int64_t>> start;

  int Index(const TransactionId& id) const {
    return static_cast<int>(std::find(ids.begin(), ids.end(), id) - ids.begin());
  }

  std::vector<bool> OnCycle(const std::vector<bool>& alive) const {
    const size_t n = ids.size();
    std::vector<std::vector<bool>> reach(n, std::vector<bool>(n, false));
    for (size_t i = 0; i < n; i++)
      for (size_t j = 0; j < n; j++) reach[i][j] = alive[i] && alive[j] && edge[i][j];
    for (size_t k = 0; k < n; k++)
      for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++)
          if (reach[i][k] && reach[k][j]) reach[i][j] = true;
    std::vector<bool> on_cycle(n);
    for (size_t i = 0; i < n; i++) on_cycle[i] = reach[i][i];
    return on_cycle;
  }

  // Younger compares greater; unknown compares below every known start.
  auto Age(size_t i) const { return std::make_tuple(start[i].has_value(), start[i].value_or(0), ids[i]); }

  Ids Victims() const {
    std::vector<bool> alive(ids.size(), true);
    Ids victims;
    for (;;) {
      const std::vector<bool> on_cycle = OnCycle(alive);
      std::optional<size_t> youngest;
      for (size_t i = 0; i < ids.size(); i++)
        if (on_cycle[i] && (!youngest || Age(i) > Age(*youngest))) youngest = i;
      if (!youngest) return victims;
      victims.push_back(ids[*youngest]);
      alive[*youngest] = false;
    }
  }
};

struct RandomCase {
  Edges edges;
  Infos infos;
  Model model;
};

// Up to 8 transactions on 3 coordinators, random waits (self-edges and
// duplicates included), starts from a small range so ties occur, some ages
// unknown. acyclic: waits only go from an earlier to a later transaction.
RandomCase MakeRandomCase(std::mt19937_64& rng, bool acyclic) {
  auto below = [&](uint64_t bound) { return std::uniform_int_distribution<uint64_t>(0, bound - 1)(rng); };
  RandomCase c;
  const size_t n = 1 + below(8);
  std::set<TransactionId> used;
  while (c.model.ids.size() < n) {
    const TransactionId id{static_cast<uint32_t>(1 + below(3)), below(6)};
    if (used.insert(id).second) c.model.ids.push_back(id);
  }
  c.model.edge.assign(n, std::vector<bool>(n, false));
  for (size_t i = 0; i < n; i++) {
    if (below(5) == 0) {
      c.model.start.push_back(std::nullopt);
    } else {
      c.model.start.push_back(static_cast<int64_t>(below(4)));
      c.infos.push_back({c.model.ids[i], *c.model.start.back()});
    }
  }
  const size_t edge_count = below(3 * n + 1);
  for (size_t k = 0; k < edge_count; k++) {
    size_t waiter = below(n);
    size_t holder = below(n);
    if (acyclic && waiter > holder) std::swap(waiter, holder);
    if (acyclic && waiter == holder) continue;
    c.edges.push_back({c.model.ids[waiter], c.model.ids[holder]});
    if (waiter != holder) c.model.edge[waiter][holder] = true;
  }
  return c;
}

TEST(ChooseDeadlockVictimsTest, MatchesNaiveModelOnRandomGraphs) {
  size_t with_cycles = 0;
  for (uint64_t seed = 1; seed <= 3000; seed++) {
    std::mt19937_64 rng(seed);
    RandomCase c = MakeRandomCase(rng, false);
    const Ids victims = ChooseDeadlockVictims(c.edges, c.infos);
    ASSERT_EQ(victims, c.model.Victims()) << "seed " << seed;

    // The properties, checked directly as well.
    std::vector<bool> alive(c.model.ids.size(), true);
    for (const TransactionId& victim : victims) {
      const int v = c.model.Index(victim);
      ASSERT_LT(v, static_cast<int>(c.model.ids.size())) << "seed " << seed;
      ASSERT_TRUE(alive[v]) << "cancelled twice, seed " << seed;
      ASSERT_TRUE(c.model.OnCycle(alive)[v]) << "not on a cycle when chosen, seed " << seed;
      alive[v] = false;
    }
    const std::vector<bool> on_cycle = c.model.OnCycle(alive);
    ASSERT_EQ(std::count(on_cycle.begin(), on_cycle.end(), true), 0) << "cycle left, seed " << seed;
    if (!victims.empty()) with_cycles++;
  }
  // The generator must actually exercise cycles.
  EXPECT_GT(with_cycles, 1000u);
}

TEST(ChooseDeadlockVictimsTest, AcyclicRandomGraphsCancelNothing) {
  for (uint64_t seed = 1; seed <= 1000; seed++) {
    std::mt19937_64 rng(seed);
    const RandomCase c = MakeRandomCase(rng, true);
    ASSERT_EQ(ChooseDeadlockVictims(c.edges, c.infos), Ids{}) << "seed " << seed;
  }
}

TEST(ChooseDeadlockVictimsTest, InputOrderDoesNotMatter) {
  // Several overlapping cycles, waiters, self-edges, duplicates and ties.
  Edges edges{{kA, kB}, {kB, kC}, {kC, kA}, {kC, kD}, {kD, kB}, {kD, kE}, {kE, kF}, {kF, kD}, {kX, kA},
              {kE, kE}, {kA, kB}, {kF, kX}, {kB, kA}, {kE, kD}, {kX, kF}, {kC, kF}, {kF, kA}};
  Infos infos{{kA, 5}, {kB, 5}, {kC, 3}, {kD, 7}, {kE, 7}, {kF, 1}};
  const Ids expected = ChooseDeadlockVictims(edges, infos);
  ASSERT_GE(expected.size(), 2u);
  std::mt19937_64 rng(42);
  for (int round = 0; round < 200; round++) {
    std::shuffle(edges.begin(), edges.end(), rng);
    std::shuffle(infos.begin(), infos.end(), rng);
    ASSERT_EQ(ChooseDeadlockVictims(edges, infos), expected) << "round " << round;
  }
}

TEST(DeadlockConfirmedEdgesTest, KeepsOnlyEdgesSeenInBothCollections) {
  const Edges previous{{kA, kB}, {kB, kC}, {kC, kA}};
  const Edges current{{kB, kA}, {kC, kA}, {kA, kB}, {kD, kE}};
  EXPECT_EQ(ConfirmedEdges(previous, current), (Edges{{kA, kB}, {kC, kA}}));
  EXPECT_EQ(ConfirmedEdges(current, previous), (Edges{{kA, kB}, {kC, kA}}));
}

TEST(DeadlockConfirmedEdgesTest, DeduplicatesAndHandlesEmpty) {
  EXPECT_EQ(ConfirmedEdges({{kA, kB}, {kA, kB}}, {{kA, kB}, {kA, kB}, {kA, kB}}), (Edges{{kA, kB}}));
  EXPECT_EQ(ConfirmedEdges({}, {{kA, kB}}), Edges{});
  EXPECT_EQ(ConfirmedEdges({{kA, kB}}, {}), Edges{});
  // Direction matters: kA waiting for kB is not kB waiting for kA.
  EXPECT_EQ(ConfirmedEdges({{kA, kB}}, {{kB, kA}}), Edges{});
}

TEST(DeadlockConfirmedEdgesTest, AStaleEdgePlusAFreshOneIsNoDeadlock) {
  // kA waited for kB on node 1 in the first collection only; kB waits for kA
  // on node 2 in the second only. Each collection alone shows a cycle.
  const Edges first{{kA, kB}, {kC, kD}};
  const Edges second{{kB, kA}, {kC, kD}};
  const Edges merged{{kA, kB}, {kB, kA}};
  ASSERT_EQ(ChooseDeadlockVictims(merged, {}).size(), 1u);
  EXPECT_EQ(ChooseDeadlockVictims(ConfirmedEdges(first, second), {}), Ids{});
}

}  // namespace
}  // namespace phantom::transactions
