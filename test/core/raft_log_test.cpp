#include "core/raft/storage.hpp"

#include <gtest/gtest.h>

#include "core/raft/raft_log.hpp"

namespace phantom::raft {
namespace {

Entry E(Index index, Term term, std::string data = {}) {
  return Entry{term, index, EntryType::kNormal, std::move(data)};
}

// The Storage contract (MemoryStorage and FileStorage alike) is tested in
// raft_file_storage_test.cpp; these are the log's own tests.

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
