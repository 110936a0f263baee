#include "core/raft/storage.hpp"

#include <gtest/gtest.h>

#include "core/raft/raft_log.hpp"

namespace phantom::raft {
namespace {

Entry E(Index index, Term term, std::string data = {}) {
  return Entry{term, index, EntryType::kNormal, std::move(data)};
}

StorageErrorKind KindOf(const auto& call) {
  try {
    call();
  } catch (const StorageError& error) {
    return error.Kind();
  }
  ADD_FAILURE() << "no StorageError";
  return StorageErrorKind::kSnapshotOutOfDate;
}

TEST(MemoryStorageTest, EmptyStorage) {
  MemoryStorage storage;
  EXPECT_EQ(storage.FirstIndex(), 1u);
  EXPECT_EQ(storage.LastIndex(), 0u);
  EXPECT_EQ(storage.TermOf(0), 0u);
  EXPECT_EQ(KindOf([&] { storage.TermOf(1); }), StorageErrorKind::kUnavailable);
}

TEST(MemoryStorageTest, AppendOverwritesConflictingSuffix) {
  MemoryStorage storage;
  storage.Append({E(1, 1), E(2, 1), E(3, 2)});
  storage.Append({E(2, 3)});
  EXPECT_EQ(storage.LastIndex(), 2u);
  EXPECT_EQ(storage.TermOf(2), 3u);
  EXPECT_THROW(storage.Append({E(5, 3)}), Error);
}

TEST(MemoryStorageTest, EntriesHonourMaxBytesButReturnAtLeastOne) {
  MemoryStorage storage;
  storage.Append({E(1, 1, "aaaa"), E(2, 1, "bbbb"), E(3, 1, "cccc")});
  EXPECT_EQ(storage.Entries(1, 4, kNoLimit).size(), 3u);
  EXPECT_EQ(storage.Entries(1, 4, 0).size(), 1u);
  EXPECT_EQ(storage.Entries(1, 4, 2 * EntrySize(E(1, 1, "aaaa"))).size(), 2u);
  EXPECT_EQ(KindOf([&] { storage.Entries(1, 5, kNoLimit); }), StorageErrorKind::kUnavailable);
}

TEST(MemoryStorageTest, CompactAndSnapshot) {
  MemoryStorage storage;
  storage.Append({E(1, 1), E(2, 1), E(3, 2), E(4, 2)});
  const Snapshot snap = storage.CreateSnapshot(3, ConfState{{1, 2, 3}, {}}, "state");
  EXPECT_EQ(snap.meta.term, 2u);
  storage.Compact(3);
  EXPECT_EQ(storage.FirstIndex(), 4u);
  EXPECT_EQ(storage.TermOf(3), 2u);
  EXPECT_EQ(KindOf([&] { storage.TermOf(2); }), StorageErrorKind::kCompacted);
  EXPECT_EQ(KindOf([&] { storage.Entries(3, 5, kNoLimit); }), StorageErrorKind::kCompacted);
  EXPECT_EQ(KindOf([&] { storage.Compact(2); }), StorageErrorKind::kCompacted);
  EXPECT_EQ(KindOf([&] { storage.CreateSnapshot(2, {}, ""); }), StorageErrorKind::kSnapshotOutOfDate);
  EXPECT_EQ(storage.CurrentSnapshot().meta.conf.voters, (std::vector<NodeId>{1, 2, 3}));

  Snapshot newer;
  newer.meta = SnapshotMeta{10, 5, ConfState{{1}, {}}};
  storage.ApplySnapshot(newer);
  EXPECT_EQ(storage.FirstIndex(), 11u);
  EXPECT_EQ(storage.LastIndex(), 10u);
  EXPECT_EQ(storage.TermOf(10), 5u);
  EXPECT_EQ(KindOf([&] { storage.ApplySnapshot(snap); }), StorageErrorKind::kSnapshotOutOfDate);
}

// A membership change after a snapshot must not rewrite the membership the
// snapshot records as of its own index; restart and snapshot installs each
// see the right one.
TEST(MemoryStorageTest, MembershipAfterASnapshotLeavesTheSnapshotAlone) {
  MemoryStorage storage;
  storage.Append({Entry{1, 1, EntryType::kNormal, "a"}, Entry{1, 2, EntryType::kNormal, "b"}});
  ConfState three{{1, 2, 3}, {}};
  ConfState four{{1, 2, 3, 4}, {}};
  storage.SetConfState(three);
  storage.CreateSnapshot(1, three, "state@1");
  storage.SetConfState(four);
  EXPECT_EQ(storage.CurrentSnapshot().meta.conf, three);
  EXPECT_EQ(storage.InitialState().conf_state, four);

  Snapshot incoming;
  incoming.meta = SnapshotMeta{5, 2, ConfState{{1, 2}, {7}}};
  incoming.data = "state@5";
  storage.ApplySnapshot(incoming);
  EXPECT_EQ(storage.InitialState().conf_state, incoming.meta.conf);
}

TEST(RaftLogTest, StartsFromStorage) {
  MemoryStorage storage;
  storage.Append({E(1, 1), E(2, 2)});
  storage.SetHardState(HardState{2, 1, 2});
  RaftLog log(&storage, 0);
  EXPECT_EQ(log.LastIndex(), 2u);
  EXPECT_EQ(log.LastTerm(), 2u);
  EXPECT_EQ(log.Committed(), 2u);
  EXPECT_EQ(log.NextCommittedEntries().size(), 2u);
}

TEST(RaftLogTest, MaybeAppendTruncatesConflictsAndCommits) {
  MemoryStorage storage;
  storage.Append({E(1, 1), E(2, 2), E(3, 2)});
  RaftLog log(&storage, 0);
  EXPECT_EQ(log.MaybeAppend(3, 3, 3, {E(4, 3)}), std::nullopt);  // term mismatch at 3
  EXPECT_EQ(log.MaybeAppend(1, 1, 2, {E(2, 3), E(3, 3)}), std::optional<Index>(3));
  EXPECT_EQ(log.TermAt(2), std::optional<Term>(3));
  EXPECT_EQ(log.Committed(), 2u);
  EXPECT_EQ(log.UnstableEntries().size(), 2u);
  // Stale duplicates change nothing.
  EXPECT_EQ(log.MaybeAppend(1, 1, 3, {E(2, 3)}), std::optional<Index>(2));
  EXPECT_EQ(log.LastIndex(), 3u);
  EXPECT_EQ(log.Committed(), 2u);
  // The committed prefix is never overwritten.
  EXPECT_THROW(log.MaybeAppend(1, 1, 3, {E(2, 4)}), Error);
}

TEST(RaftLogTest, SliceSpansStorageAndUnstable) {
  MemoryStorage storage;
  storage.Append({E(1, 1), E(2, 1)});
  RaftLog log(&storage, 0);
  log.Append({E(3, 2), E(4, 2)});
  const auto all = log.Slice(1, 5, kNoLimit);
  ASSERT_EQ(all.size(), 4u);
  EXPECT_EQ(all[3], E(4, 2));
  EXPECT_EQ(log.Slice(2, 4, 0).size(), 1u);
  log.StableTo(4, 2);
  EXPECT_TRUE(log.UnstableEntries().empty());
  log.StableTo(4, 2);  // repeated persistence notice is harmless
}

TEST(RaftLogTest, StableToIgnoresReplacedEntry) {
  MemoryStorage storage;
  RaftLog log(&storage, 0);
  log.Append({E(1, 1), E(2, 1)});
  log.Append({E(2, 2)});
  log.StableTo(2, 1);
  EXPECT_EQ(log.UnstableEntries().size(), 2u);
}

TEST(RaftLogTest, UpToDateAndConflictByTerm) {
  MemoryStorage storage;
  storage.Append({E(1, 1), E(2, 1), E(3, 2), E(4, 2), E(5, 4)});
  RaftLog log(&storage, 0);
  EXPECT_TRUE(log.IsUpToDate(5, 4));
  EXPECT_TRUE(log.IsUpToDate(1, 5));
  EXPECT_FALSE(log.IsUpToDate(9, 3));
  EXPECT_FALSE(log.IsUpToDate(4, 4));
  EXPECT_EQ(log.FindConflictByTerm(5, 3), (std::pair<Index, Term>{4, 2}));
  EXPECT_EQ(log.FindConflictByTerm(9, 1), (std::pair<Index, Term>{2, 1}));
  EXPECT_EQ(log.FindConflictByTerm(5, 0), (std::pair<Index, Term>{0, 0}));
}

TEST(RaftLogTest, RestoreFromSnapshot) {
  MemoryStorage storage;
  storage.Append({E(1, 1)});
  RaftLog log(&storage, 0);
  Snapshot snap;
  snap.meta = SnapshotMeta{7, 3, ConfState{{1}, {}}};
  log.Restore(snap);
  EXPECT_EQ(log.FirstIndex(), 8u);
  EXPECT_EQ(log.LastIndex(), 7u);
  EXPECT_EQ(log.Committed(), 7u);
  EXPECT_EQ(log.TermAt(7), std::optional<Term>(3));
  EXPECT_FALSE(log.HasNextCommittedEntries());
  EXPECT_EQ(log.CurrentSnapshot(), snap);
  log.Append({E(8, 3)});
  EXPECT_EQ(log.LastIndex(), 8u);
  EXPECT_THROW(log.Slice(5, 8, kNoLimit), StorageError);
}

}  // namespace
}  // namespace phantom::raft
