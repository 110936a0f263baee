#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/raft/raft.hpp"
#include "raft_network.hpp"

namespace phantom::raft {
namespace {

using testing::E;
using testing::Network;
using testing::Voters;

std::vector<Entry> LogTerms(const std::vector<Term>& terms) {
  std::vector<Entry> log;
  for (size_t k = 0; k < terms.size(); ++k) log.push_back(E(k + 1, terms[k]));
  return log;
}

std::vector<Term> StoredTerms(Network& net, NodeId id) {
  const MemoryStorage& storage = *net.Node(id).storage;
  std::vector<Term> terms;
  for (Index i = storage.FirstIndex(); i <= storage.LastIndex(); ++i) terms.push_back(storage.TermOf(i));
  return terms;
}

// Dissertation Figure 3.7: followers missing entries (a) and with extra
// uncommitted entries from other terms (f) are brought in line with the leader.
TEST(RaftReplicationTest, ConflictingFollowersAreRepaired) {
  Network net;
  const ConfState conf = Voters({1, 2, 3});
  net.Add(1, conf, LogTerms({1, 1, 1, 4, 4, 5, 5, 6, 6, 6}), HardState{8, 0, 0});
  net.Add(2, conf, LogTerms({1, 1, 1, 4, 4, 5, 5, 6, 6}), HardState{8, 0, 0});        // (a)
  net.Add(3, conf, LogTerms({1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3}), HardState{7, 0, 0});  // (f)
  net.Elect(1);
  ASSERT_EQ(net.At(1).Status().role, Role::kLeader);
  const std::vector<Term> expected{1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 9};
  EXPECT_EQ(StoredTerms(net, 1), expected);
  EXPECT_EQ(StoredTerms(net, 2), expected);
  EXPECT_EQ(StoredTerms(net, 3), expected);
  EXPECT_EQ(net.At(3).Status().commit, 11u);
}

TEST(RaftReplicationTest, RejectHintSkipsWholeTerms) {
  Network net;
  const ConfState conf = Voters({1, 2});
  net.Add(1, conf, LogTerms({1, 1, 5, 5, 5, 5}), HardState{5, 0, 0});
  net.Add(2, conf, LogTerms({1, 1, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3}), HardState{5, 0, 0});
  int rejections = 0;
  net.filter = [&](Message& m) {
    if (m.type == MessageType::kAppendResponse && m.reject) ++rejections;
    return true;
  };
  net.Elect(1);
  ASSERT_EQ(net.At(1).Status().role, Role::kLeader);
  EXPECT_EQ(StoredTerms(net, 2), (std::vector<Term>{1, 1, 5, 5, 5, 5, 6}));
  EXPECT_LE(rejections, 2);  // not one per conflicting entry
}

// Dissertation Figure 3.6 (Figure 8 of the paper): an entry of an earlier
// term stored on a majority is not committed until an entry of the leader's
// own term is.
TEST(RaftReplicationTest, OldTermEntryIsNotCommittedByCounting) {
  Network net;
  const ConfState conf = Voters({1, 2, 3, 4, 5});
  for (NodeId id : {1, 2, 3}) net.Add(id, conf, {E(1, 1), E(2, 2)}, HardState{4, 0, 1});
  net.Add(4, conf, {E(1, 1)}, HardState{4, 0, 1});
  net.Add(5, conf, {E(1, 1), E(2, 3)}, HardState{4, 0, 1});
  // Followers receive only the term-2 entry, never the new leader's own entry.
  bool strip = true;
  net.filter = [&](Message& m) {
    if (strip && m.type == MessageType::kAppend) {
      std::erase_if(m.entries, [](const Entry& e) { return e.index > 2; });
    }
    return true;
  };
  net.Elect(1);
  ASSERT_EQ(net.At(1).Status().role, Role::kLeader);
  EXPECT_EQ(net.At(1).PeerProgress(2)->Match(), 2u);
  EXPECT_EQ(net.At(1).PeerProgress(3)->Match(), 2u);
  EXPECT_EQ(net.At(1).Status().commit, 1u);
  strip = false;
  net.At(1).Propose("x");
  net.Deliver();
  EXPECT_EQ(net.At(1).Status().commit, 4u);
  EXPECT_EQ(StoredTerms(net, 5), (std::vector<Term>{1, 2, 5, 5}));
}

TEST(RaftReplicationTest, InflightAppendsAreBounded) {
  Network net;
  net.max_inflight = 2;
  for (NodeId id : {1, 2}) net.Add(id, Voters({1, 2}));
  net.Elect(1);
  ASSERT_EQ(net.At(1).PeerProgress(2)->State(), ProgressState::kReplicate);
  net.Cut(2, 1);  // acknowledgements are lost
  int appends = 0;
  net.filter = [&](Message& m) {
    if (m.type == MessageType::kAppend && !m.entries.empty()) ++appends;
    return true;
  };
  // One Ready per proposal: proposals sharing a Ready would share one append.
  for (int k = 0; k < 5; ++k) {
    net.At(1).Propose("p" + std::to_string(k));
    net.Deliver();
  }
  EXPECT_EQ(appends, 2);
  EXPECT_TRUE(net.At(1).PeerProgress(2)->IsPaused());
  net.Heal();
  net.Tick(1, 3);
  EXPECT_EQ(net.Node(2).applied.size(), 5u);
}

// Proposals made between two Readys leave in one append per follower, and the
// followers' acknowledgements advance the commit with one more append each.
TEST(RaftReplicationTest, ProposalsBetweenReadysShareOneAppend) {
  Network net;
  for (NodeId id : {1, 2, 3}) net.Add(id, Voters({1, 2, 3}));
  net.Elect(1);
  std::vector<Message> appends;
  net.filter = [&](Message& m) {
    if (m.type == MessageType::kAppend) appends.push_back(m);
    return true;
  };
  for (int k = 0; k < 10; ++k) net.At(1).Propose("p" + std::to_string(k));
  EXPECT_TRUE(net.At(1).HasReady());
  net.Deliver();
  size_t with_entries = 0;
  for (const Message& m : appends) {
    if (m.entries.empty()) continue;
    ++with_entries;
    ASSERT_EQ(m.entries.size(), 10u);
    EXPECT_EQ(m.entries.front().data, "p0");
    EXPECT_EQ(m.entries.back().data, "p9");
  }
  EXPECT_EQ(with_entries, 2u);
  EXPECT_EQ(appends.size(), 4u);  // the other two carry only the new commit index
  for (NodeId id : {1, 2, 3}) EXPECT_EQ(net.Node(id).applied.size(), 10u);
}

// With a per-message byte limit, a backlog is split over several appends that
// all leave with the same Ready (up to the inflight window), rather than one
// per acknowledgement.
TEST(RaftReplicationTest, BacklogBeyondMaxBytesFillsTheWindow) {
  Network net;
  net.max_bytes = 1;  // one entry per append
  for (NodeId id : {1, 2}) net.Add(id, Voters({1, 2}));
  net.Elect(1);
  ASSERT_EQ(net.At(1).PeerProgress(2)->State(), ProgressState::kReplicate);
  net.Cut(2, 1);  // no acknowledgement comes back to ask for more
  size_t appends = 0;
  net.filter = [&](Message& m) {
    if (m.type == MessageType::kAppend && !m.entries.empty()) {
      EXPECT_EQ(m.entries.size(), 1u);
      ++appends;
    }
    return true;
  };
  for (int k = 0; k < 3; ++k) net.At(1).Propose("p" + std::to_string(k));
  net.Deliver();
  EXPECT_EQ(appends, 3u);
  EXPECT_EQ(net.At(1).PeerProgress(2)->InFlight().Count(), 3u);
}

TEST(RaftReplicationTest, LaggingFollowerIsCaughtUpBySnapshot) {
  Network net;
  for (NodeId id : {1, 2, 3}) net.Add(id, Voters({1, 2, 3}));
  net.Elect(1);
  net.Isolate(3);
  for (int k = 0; k < 5; ++k) net.At(1).Propose("p" + std::to_string(k));
  net.Deliver();
  const Index applied = net.At(1).Status().applied;
  ASSERT_EQ(applied, 6u);
  MemoryStorage& storage = *net.Node(1).storage;
  storage.CreateSnapshot(applied, Voters({1, 2, 3}), "state@6");
  storage.Compact(applied);
  net.Heal();
  int snapshots = 0;
  net.filter = [&](Message& m) {
    if (m.type == MessageType::kSnapshot) ++snapshots;
    return true;
  };
  net.Tick(1, 2);
  EXPECT_EQ(snapshots, 1);
  EXPECT_EQ(net.Node(3).snapshot_data, "state@6");
  EXPECT_EQ(net.Node(3).storage->FirstIndex(), 7u);
  EXPECT_EQ(net.At(3).Status().commit, 6u);
  EXPECT_EQ(net.At(3).Status().applied, 6u);
  // Replication continues normally after the snapshot.
  net.At(1).Propose("after");
  net.Deliver();
  EXPECT_EQ(net.Node(3).applied, (std::vector<std::string>{"after"}));
  EXPECT_EQ(net.At(1).PeerProgress(3)->State(), ProgressState::kReplicate);
}

TEST(RaftReplicationTest, LostSnapshotIsSentAgain) {
  Network net;
  for (NodeId id : {1, 2, 3}) net.Add(id, Voters({1, 2, 3}));
  net.Elect(1);
  net.Isolate(3);
  net.At(1).Propose("a");
  net.Deliver();
  MemoryStorage& storage = *net.Node(1).storage;
  storage.CreateSnapshot(2, Voters({1, 2, 3}), "state@2");
  storage.Compact(2);
  net.Heal();
  int snapshots = 0;
  net.filter = [&](Message& m) {
    // The first snapshot is lost on the way.
    return m.type != MessageType::kSnapshot || ++snapshots > 1;
  };
  net.Tick(1, 3);
  EXPECT_EQ(snapshots, 2);
  EXPECT_EQ(net.At(3).Status().commit, 2u);
  EXPECT_EQ(net.At(1).PeerProgress(3)->State(), ProgressState::kReplicate);
}

}  // namespace
}  // namespace phantom::raft
