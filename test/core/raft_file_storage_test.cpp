#include "core/raft/file_storage.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <optional>
#include <random>
#include <sstream>

#include "core/common/crc32c.hpp"
#include "core/raft/log_file_format.hpp"
#include "core/raft/raft_log.hpp"
#include "expect_error.hpp"
#include "memory_file_system.hpp"

namespace phantom::raft {
namespace {

Entry E(Index index, Term term, std::string data = {}) {
  return Entry{term, index, EntryType::kNormal, std::move(data)};
}

std::vector<Entry> Entries(Index first, Index last, Term term) {
  std::vector<Entry> entries;
  for (Index i = first; i <= last; i++) entries.push_back(E(i, term, "entry " + std::to_string(i)));
  return entries;
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

// Everything a Storage reader can observe, as text, so that a mismatch shows
// where the two differ.
std::string Describe(const Storage& storage) {
  std::ostringstream out;
  const PersistedState state = storage.InitialState();
  out << "hard state " << state.hard_state.term << "/" << state.hard_state.vote << "/" << state.hard_state.commit
      << "\nconf";
  for (NodeId id : state.conf_state.voters) out << " v" << id;
  for (NodeId id : state.conf_state.learners) out << " l" << id;
  const Index first = storage.FirstIndex();
  const Index last = storage.LastIndex();
  out << "\nlog (" << first - 1 << "/" << storage.TermOf(first - 1) << ", " << last << "]\n";
  if (last >= first) {
    for (const Entry& e : storage.Entries(first, last + 1, kNoLimit))
      out << "  " << e.index << "/" << e.term << "/" << static_cast<int>(e.type) << " " << e.data.view() << "\n";
  }
  const Snapshot snapshot = storage.CurrentSnapshot();
  out << "snapshot " << snapshot.meta.index << "/" << snapshot.meta.term;
  for (NodeId id : snapshot.meta.conf.voters) out << " v" << id;
  for (NodeId id : snapshot.meta.conf.learners) out << " l" << id;
  out << " " << snapshot.data << "\n";
  return out.str();
}

FileStorage::Options SegmentSize(uint64_t bytes) {
  FileStorage::Options options;
  options.segment_size = bytes;
  return options;
}

size_t CountFiles(MemoryFileSystem& fs, const char* prefix) {
  const std::vector<std::string> names = fs.List();
  return static_cast<size_t>(
      std::count_if(names.begin(), names.end(), [&](const std::string& name) { return name.starts_with(prefix); }));
}

// The offsets at which the batches of a segment start.
std::vector<size_t> BatchOffsets(MemoryFileSystem& fs, const std::string& name) {
  const std::string bytes = fs.ReadAll(name);
  std::vector<size_t> offsets;
  for (size_t offset = 0;;) {
    LogBatchRead read = ReadLogBatch(bytes, offset, name);
    if (read.status != LogBatchRead::Status::kOk) break;
    offsets.push_back(offset);
    offset += read.size;
  }
  return offsets;
}

// ---------------------------------------------------------------------------
// The record format.

TEST(LogFileFormatTest, ABatchRoundTripsEveryRecordType) {
  const LogCheckpoint checkpoint{7, HardState{3, 2, 9}, ConfState{{1, 2}, {3}}, 4, 2, 5};
  const std::vector<Entry> entries{E(5, 2, "five"), Entry{3, 6, EntryType::kConfChange, std::string("\0x", 2)}};
  const LogSnapshot created{5, SnapshotMeta{6, 3, ConfState{{1}, {}}}, false};
  const LogSnapshot installed{6, SnapshotMeta{10, 4, ConfState{{2}, {1}}}, true};
  LogBatchWriter writer;
  EXPECT_TRUE(writer.Empty());
  writer.AddCheckpoint(checkpoint);
  writer.AddEntries(entries);
  writer.AddHardState(HardState{4, 1, 6});
  writer.AddConfState(ConfState{{1, 2, 3}, {}});
  writer.AddCompact(LogCompact{6, 3});
  writer.AddSnapshot(created);
  writer.AddSnapshot(installed);
  EXPECT_FALSE(writer.Empty());
  std::string bytes = writer.Seal();
  bytes += writer.Seal();  // empty, but still a batch
  EXPECT_TRUE(writer.Empty());

  LogBatchRead read = ReadLogBatch(bytes, 0, "test");
  ASSERT_EQ(read.status, LogBatchRead::Status::kOk) << read.problem;
  const std::vector<LogRecord> expected{checkpoint,       entries, HardState{4, 1, 6}, ConfState{{1, 2, 3}, {}},
                                        LogCompact{6, 3}, created, installed};
  EXPECT_EQ(read.records, expected);
  LogBatchRead second = ReadLogBatch(bytes, read.size, "test");
  ASSERT_EQ(second.status, LogBatchRead::Status::kOk);
  EXPECT_TRUE(second.records.empty());
  EXPECT_EQ(ReadLogBatch(bytes, read.size + second.size, "test").status, LogBatchRead::Status::kEnd);
}

TEST(LogFileFormatTest, EveryTruncationOrFlippedByteIsATornBatch) {
  LogBatchWriter writer;
  writer.AddEntries(Entries(1, 3, 1));
  writer.AddHardState(HardState{1, 1, 3});
  const std::string bytes = writer.Seal();
  for (size_t size = 1; size < bytes.size(); size++)
    EXPECT_EQ(ReadLogBatch(bytes.substr(0, size), 0, "test").status, LogBatchRead::Status::kTorn) << size;
  for (size_t at = 0; at < bytes.size(); at++) {
    std::string damaged = bytes;
    damaged[at] = static_cast<char>(damaged[at] ^ 0x01);
    EXPECT_EQ(ReadLogBatch(damaged, 0, "test").status, LogBatchRead::Status::kTorn) << at;
  }
}

TEST(LogFileFormatTest, ARecordThatPassesTheChecksumButDoesNotDecodeIsAnError) {
  LogBatchWriter writer;
  writer.AddHardState(HardState{1, 1, 1});
  std::string bytes = writer.Seal();
  bytes[kLogBatchHeaderSize + 1] = 99;  // the record type, checksum recomputed below
  const uint32_t crc = Crc32c(std::string_view(bytes).substr(4));
  for (int i = 0; i < 4; i++) bytes[i] = static_cast<char>(crc >> (8 * i));
  ExpectError([&] { ReadLogBatch(bytes, 0, "raft log segment x"); },
              ExpectedError("XX001", "raft log segment x batch at offset 0 is corrupted: unknown record type 99"));
}

TEST(LogFileFormatTest, FileNames) {
  EXPECT_EQ(SegmentFileName(42), "log-00000000000000000042");
  EXPECT_EQ(ParseSegmentFileName("log-00000000000000000042"), std::optional<uint64_t>(42));
  EXPECT_EQ(ParseSegmentFileName(SegmentFileName(UINT64_MAX)), std::optional<uint64_t>(UINT64_MAX));
  EXPECT_EQ(ParseSnapshotFileName(SnapshotFileName(7)), std::optional<uint64_t>(7));
  EXPECT_EQ(ParseSegmentFileName("log-0000000000000000042"), std::nullopt);
  EXPECT_EQ(ParseSegmentFileName("log-0000000000000000004x"), std::nullopt);
  EXPECT_EQ(ParseSegmentFileName("log-99999999999999999999"), std::nullopt);  // past u64
  EXPECT_EQ(ParseSegmentFileName(SnapshotFileName(7)), std::nullopt);
  EXPECT_EQ(ParseSnapshotFileName("snap-00000000000000000007.tmp"), std::nullopt);
}

// ---------------------------------------------------------------------------
// The MemoryStorage contract, run against both storages. A FileStorage is
// also reopened at the end of each test and must read back the same state.

struct MemoryHarness {
  MemoryStorage storage;
  void Sync() {}
  void CheckReopen() {}
};

struct FileHarness {
  MemoryFileSystem fs;
  FileStorage storage = FileStorage::Open(fs);
  void Sync() { storage.Sync(); }
  void CheckReopen() {
    storage.Sync();
    EXPECT_EQ(Describe(FileStorage::Open(fs)), Describe(storage));
  }
};

template <typename Harness>
class StorageContractTest : public testing::Test {
 protected:
  Harness harness_;
  decltype(Harness::storage)& storage_ = harness_.storage;

  void TearDown() override { harness_.CheckReopen(); }
};

using Harnesses = testing::Types<MemoryHarness, FileHarness>;
TYPED_TEST_SUITE(StorageContractTest, Harnesses);

TYPED_TEST(StorageContractTest, EmptyStorage) {
  auto& storage = this->storage_;
  EXPECT_EQ(storage.FirstIndex(), 1u);
  EXPECT_EQ(storage.LastIndex(), 0u);
  EXPECT_EQ(storage.TermOf(0), 0u);
  EXPECT_EQ(KindOf([&] { storage.TermOf(1); }), StorageErrorKind::kUnavailable);
}

TYPED_TEST(StorageContractTest, AppendOverwritesConflictingSuffix) {
  auto& storage = this->storage_;
  storage.Append({E(1, 1), E(2, 1), E(3, 2)});
  this->harness_.Sync();
  storage.Append({E(2, 3)});
  EXPECT_EQ(storage.LastIndex(), 2u);
  EXPECT_EQ(storage.TermOf(2), 3u);
  EXPECT_THROW(storage.Append({E(5, 3)}), Error);
  EXPECT_THROW(storage.Append({E(3, 3), E(5, 3)}), Error);
  EXPECT_EQ(storage.LastIndex(), 2u);
}

TYPED_TEST(StorageContractTest, EntriesHonourMaxBytesButReturnAtLeastOne) {
  auto& storage = this->storage_;
  storage.Append({E(1, 1, "aaaa"), E(2, 1, "bbbb"), E(3, 1, "cccc")});
  EXPECT_EQ(storage.Entries(1, 4, kNoLimit).size(), 3u);
  EXPECT_EQ(storage.Entries(1, 4, 0).size(), 1u);
  EXPECT_EQ(storage.Entries(1, 4, 2 * EntrySize(E(1, 1, "aaaa"))).size(), 2u);
  EXPECT_EQ(KindOf([&] { storage.Entries(1, 5, kNoLimit); }), StorageErrorKind::kUnavailable);
}

TYPED_TEST(StorageContractTest, CompactAndSnapshot) {
  auto& storage = this->storage_;
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
  EXPECT_EQ(KindOf([&] { storage.CreateSnapshot(9, {}, ""); }), StorageErrorKind::kUnavailable);
  EXPECT_EQ(storage.CurrentSnapshot().meta.conf.voters, (std::vector<NodeId>{1, 2, 3}));
  this->harness_.Sync();

  Snapshot newer;
  newer.meta = SnapshotMeta{10, 5, ConfState{{1}, {}}};
  storage.ApplySnapshot(newer);
  EXPECT_EQ(storage.FirstIndex(), 11u);
  EXPECT_EQ(storage.LastIndex(), 10u);
  EXPECT_EQ(storage.TermOf(10), 5u);
  EXPECT_EQ(KindOf([&] { storage.ApplySnapshot(snap); }), StorageErrorKind::kSnapshotOutOfDate);
}

TYPED_TEST(StorageContractTest, MembershipAfterASnapshotLeavesTheSnapshotAlone) {
  auto& storage = this->storage_;
  storage.Append({Entry{1, 1, EntryType::kNormal, "a"}, Entry{1, 2, EntryType::kConfChange, "b"}});
  ConfState three{{1, 2, 3}, {}};
  ConfState four{{1, 2, 3, 4}, {}};
  storage.SetConfState(three);
  storage.CreateSnapshot(1, three, "state@1");
  storage.SetConfState(four);
  EXPECT_EQ(storage.CurrentSnapshot().meta.conf, three);
  EXPECT_EQ(storage.InitialState().conf_state, four);
  this->harness_.CheckReopen();

  Snapshot incoming;
  incoming.meta = SnapshotMeta{5, 2, ConfState{{1, 2}, {7}}};
  incoming.data = "state@5";
  storage.ApplySnapshot(incoming);
  EXPECT_EQ(storage.InitialState().conf_state, incoming.meta.conf);
}

TYPED_TEST(StorageContractTest, AStartingRaftLogSeesTheStoredState) {
  auto& storage = this->storage_;
  storage.Append({E(1, 1), E(2, 2)});
  storage.SetHardState(HardState{2, 1, 2});
  RaftLog log(&storage, 0);
  EXPECT_EQ(log.LastIndex(), 2u);
  EXPECT_EQ(log.LastTerm(), 2u);
  EXPECT_EQ(log.Committed(), 2u);
}

// ---------------------------------------------------------------------------
// Durability.

TEST(FileStorageTest, EverythingRoundTripsThroughACleanReopen) {
  MemoryFileSystem fs;
  FileStorage storage = FileStorage::Open(fs);
  storage.Append(Entries(1, 6, 1));
  storage.Append({Entry{2, 7, EntryType::kConfChange, std::string("\0\xff binary", 9)}, E(8, 2)});
  storage.SetHardState(HardState{2, 3, 7});
  storage.SetConfState(ConfState{{1, 2, 3}, {9}});
  storage.CreateSnapshot(5, ConfState{{1, 2}, {}}, "state@5");
  storage.Compact(4);
  EXPECT_TRUE(storage.HasUnsyncedChanges());
  storage.Sync();
  EXPECT_FALSE(storage.HasUnsyncedChanges());

  const FileStorage reopened = FileStorage::Open(fs);
  EXPECT_EQ(Describe(reopened), Describe(storage));
  EXPECT_EQ(reopened.FirstIndex(), 5u);
  EXPECT_EQ(reopened.TermOf(4), 1u);
  EXPECT_EQ(reopened.Entries(7, 8, kNoLimit).front().type, EntryType::kConfChange);
  EXPECT_EQ(reopened.CurrentSnapshot().data, "state@5");
  EXPECT_EQ(reopened.InitialState().hard_state, (HardState{2, 3, 7}));
}

// The driving contract costs one fsync per Ready: everything queued since the
// last Sync() goes out as one batch.
TEST(FileStorageTest, OneReadyIsOneFsync) {
  MemoryFileSystem fs;
  FileStorage storage = FileStorage::Open(fs);
  const int files = fs.FileSyncs();
  const int directories = fs.DirectorySyncs();
  storage.Append(Entries(1, 3, 1));
  storage.SetHardState(HardState{1, 1, 2});
  storage.Sync();
  EXPECT_EQ(fs.FileSyncs(), files + 1);
  EXPECT_EQ(fs.DirectorySyncs(), directories);
  storage.Sync();  // nothing new: no I/O
  EXPECT_EQ(fs.FileSyncs(), files + 1);
}

TEST(FileStorageTest, ACrashBeforeSyncLosesOnlyTheUnsyncedChanges) {
  MemoryFileSystem fs;
  {
    FileStorage storage = FileStorage::Open(fs);
    storage.Append(Entries(1, 3, 1));
    storage.SetHardState(HardState{1, 1, 2});
    storage.Sync();
    storage.Append(Entries(4, 5, 1));
    storage.SetHardState(HardState{2, 0, 3});
    storage.CreateSnapshot(2, ConfState{{1}, {}}, "state@2");
  }
  fs.Crash();
  const FileStorage reopened = FileStorage::Open(fs);
  EXPECT_EQ(reopened.LastIndex(), 3u);
  EXPECT_EQ(reopened.InitialState().hard_state, (HardState{1, 1, 2}));
  EXPECT_TRUE(reopened.CurrentSnapshot().Empty());
  EXPECT_EQ(CountFiles(fs, "snap-"), 0u);
}

// A batch cut short by the crash is dropped as a whole (its hard state goes
// with its entries), the tail is cut off, and appending carries on behind it.
TEST(FileStorageTest, ATornTailIsTruncatedAndTheLogAppendsAfterIt) {
  MemoryFileSystem fs;
  const std::string segment = SegmentFileName(1);
  uint64_t synced_size = 0;
  {
    FileStorage storage = FileStorage::Open(fs);
    storage.Append(Entries(1, 3, 1));
    storage.Sync();
    synced_size = fs.Size(segment);
    storage.Append(Entries(4, 9, 1));
    storage.SetHardState(HardState{1, 1, 9});
    fs.CrashAt(1);  // the batch is appended, the crash comes before its fsync
    EXPECT_THROW(storage.Sync(), SimulatedCrash);
  }
  fs.CrashKeeping(40);
  EXPECT_EQ(fs.Size(segment), synced_size + 40);
  {
    FileStorage storage = FileStorage::Open(fs);
    EXPECT_EQ(fs.Size(segment), synced_size);
    EXPECT_EQ(storage.LastIndex(), 3u);
    EXPECT_EQ(storage.InitialState().hard_state, HardState{});
    storage.Append(Entries(4, 5, 2));
    storage.Sync();
  }
  fs.Crash();
  const FileStorage reopened = FileStorage::Open(fs);
  EXPECT_EQ(reopened.LastIndex(), 5u);
  EXPECT_EQ(reopened.TermOf(5), 2u);
}

TEST(FileStorageTest, DamageInAnOlderSegmentIsAnError) {
  MemoryFileSystem fs;
  {
    FileStorage storage = FileStorage::Open(fs, SegmentSize(200));
    for (Index i = 1; i <= 20; i++) {
      storage.Append({E(i, 1, "payload")});
      storage.Sync();
    }
    ASSERT_GE(storage.Segments().size(), 3u);
  }
  const std::string first = SegmentFileName(1);
  const std::vector<size_t> offsets = BatchOffsets(fs, first);
  ASSERT_GE(offsets.size(), 3u);
  fs.Corrupt(first, offsets[1] + 12);
  ExpectError([&] { FileStorage::Open(fs); },
              ExpectedError("XX001", "raft log segment " + first + " is corrupted at offset " +
                                         std::to_string(offsets[1]) + ": checksum mismatch"));
}

// A live segment that disappears looks like one compaction deleted; what
// replay then lacks is reported, not skipped.
TEST(FileStorageTest, ALostLiveSegmentIsAnError) {
  MemoryFileSystem fs;
  {
    FileStorage storage = FileStorage::Open(fs, SegmentSize(200));
    for (Index i = 1; i <= 20; i++) {
      storage.Append({E(i, 1, "payload")});
      storage.Sync();
    }
  }
  fs.Remove(SegmentFileName(3));
  const std::string bytes = fs.ReadAll(SegmentFileName(4));
  const LogBatchRead checkpoint = ReadLogBatch(bytes, 0, "test");
  const LogBatchRead first = ReadLogBatch(bytes, checkpoint.size, "test");
  ASSERT_EQ(first.status, LogBatchRead::Status::kOk);
  const Index next = std::get<std::vector<Entry>>(first.records.front()).front().index;
  ExpectError([&] { FileStorage::Open(fs); },
              ExpectedError("XX001", "raft log is missing entry 1 (the next stored is " + std::to_string(next) + ")"));
}

TEST(FileStorageTest, ADamagedSnapshotFileIsAnError) {
  MemoryFileSystem fs;
  {
    FileStorage storage = FileStorage::Open(fs);
    storage.Append(Entries(1, 3, 1));
    storage.CreateSnapshot(2, ConfState{{1}, {}}, "state@2");
    storage.Sync();
  }
  const std::string snapshot = SnapshotFileName(1);
  ASSERT_TRUE(fs.Exists(snapshot));
  fs.Corrupt(snapshot, 20);
  ExpectError([&] { FileStorage::Open(fs); },
              ExpectedError("XX001", "raft snapshot file " + snapshot + " is corrupted: checksum mismatch"));
}

TEST(FileStorageTest, ASuffixOverwriteSurvivesReopen) {
  MemoryFileSystem fs;
  {
    FileStorage storage = FileStorage::Open(fs, SegmentSize(150));
    storage.Append(Entries(1, 5, 1));
    storage.Sync();
    storage.Append(Entries(3, 4, 2));  // drops 5
    storage.Sync();
    storage.Append(Entries(2, 2, 3));  // drops 3 and 4
    storage.Append(Entries(3, 3, 3));
    storage.Sync();
  }
  fs.Crash();
  const FileStorage reopened = FileStorage::Open(fs);
  ASSERT_EQ(reopened.LastIndex(), 3u);
  EXPECT_EQ(reopened.TermOf(1), 1u);
  EXPECT_EQ(reopened.TermOf(2), 3u);
  EXPECT_EQ(reopened.TermOf(3), 3u);
}

TEST(FileStorageTest, AnInstalledSnapshotSurvivesReopenAndFreesTheOldSegments) {
  MemoryFileSystem fs;
  FileStorage storage = FileStorage::Open(fs, SegmentSize(256));
  for (Index i = 1; i <= 30; i++) {
    storage.Append({E(i, 1, "entry")});
    storage.Sync();
  }
  ASSERT_GE(storage.Segments().size(), 4u);
  Snapshot incoming;
  incoming.meta = SnapshotMeta{100, 4, ConfState{{1, 2, 3}, {}}};
  incoming.data = "state@100";
  storage.ApplySnapshot(incoming);
  storage.Append({E(101, 4, "after")});
  storage.SetHardState(HardState{4, 2, 101});
  const int files = fs.FileSyncs();
  const int directories = fs.DirectorySyncs();
  const uint64_t active = storage.Segments().back();
  storage.Sync();
  // The snapshot file and its name, then the batch that names it (and the
  // name of a new segment, if the batch opened one).
  const bool rolled = storage.Segments().back() != active;
  EXPECT_EQ(fs.FileSyncs(), files + 2);
  EXPECT_EQ(fs.DirectorySyncs(), directories + 1 + (rolled ? 1 : 0));
  EXPECT_EQ(storage.Segments().size(), 1u);
  EXPECT_EQ(CountFiles(fs, "log-"), 1u);
  EXPECT_EQ(CountFiles(fs, "snap-"), 1u);

  fs.Crash();
  const FileStorage reopened = FileStorage::Open(fs);
  EXPECT_EQ(Describe(reopened), Describe(storage));
  EXPECT_EQ(reopened.FirstIndex(), 101u);
  EXPECT_EQ(reopened.CurrentSnapshot(), incoming);
}

TEST(FileStorageTest, CompactionDeletesSegmentsBeforeTheCompactionPoint) {
  MemoryFileSystem fs;
  FileStorage storage = FileStorage::Open(fs, SegmentSize(256));
  for (Index i = 1; i <= 40; i++) {
    storage.Append({E(i, 1, "entry")});
    storage.Sync();
  }
  const size_t before = storage.Segments().size();
  ASSERT_GE(before, 6u);
  storage.CreateSnapshot(20, ConfState{{1}, {}}, "state@20");
  storage.Compact(20);
  // Nothing goes before the compaction is durable.
  EXPECT_EQ(CountFiles(fs, "log-"), before);
  storage.Sync();
  const std::deque<uint64_t> after = storage.Segments();
  EXPECT_LT(after.size(), before);
  EXPECT_EQ(CountFiles(fs, "log-"), after.size());
  EXPECT_FALSE(fs.Exists(SegmentFileName(1)));
  storage.CreateSnapshot(30, ConfState{{1}, {}}, "state@30");
  storage.Sync();
  EXPECT_FALSE(fs.Exists(SnapshotFileName(1)));  // superseded
  EXPECT_TRUE(fs.Exists(SnapshotFileName(2)));

  fs.Crash();
  const FileStorage reopened = FileStorage::Open(fs, SegmentSize(256));
  EXPECT_EQ(Describe(reopened), Describe(storage));
  EXPECT_EQ(reopened.FirstIndex(), 21u);
  EXPECT_EQ(reopened.TermOf(20), 1u);
}

// Deletions need not reach the disk, nor all of them: a crash that brings a
// deleted segment back (here: all the unsynced deletions lost, or only the
// oldest one) must not change what is recovered.
TEST(FileStorageTest, SegmentsADirectoryCrashBringsBackAreHarmless) {
  for (int gap = 0; gap < 2; gap++) {
    MemoryFileSystem fs;
    std::string expected;
    {
      FileStorage storage = FileStorage::Open(fs, SegmentSize(200));
      for (Index i = 1; i <= 30; i++) {
        storage.Append({E(i, 1, "entry")});
        storage.SetHardState(HardState{1, 1, i});
        storage.Sync();
      }
      storage.Compact(25);
      storage.Sync();
      ASSERT_FALSE(fs.Exists(SegmentFileName(1)));
      expected = Describe(storage);
    }
    fs.Crash();  // the deletions were not synced: every segment comes back
    ASSERT_TRUE(fs.Exists(SegmentFileName(1)));
    if (gap == 1) fs.Remove(SegmentFileName(2));  // only the second deletion reached the disk
    EXPECT_EQ(Describe(FileStorage::Open(fs, SegmentSize(200))), expected);
  }
}

TEST(FileStorageTest, ManyHardStateUpdatesKeepTheLatest) {
  MemoryFileSystem fs;
  {
    FileStorage storage = FileStorage::Open(fs, SegmentSize(512));
    for (uint64_t term = 1; term <= 500; term++) {
      storage.SetHardState(HardState{term, term % 3, 0});
      if (term % 7 == 0) storage.Sync();
    }
    storage.SetHardState(HardState{1000, 2, 0});
    storage.SetHardState(HardState{1001, 3, 0});  // the later of two in one batch wins
    storage.Sync();
    storage.SetHardState(HardState{2000, 1, 0});  // never synced
  }
  fs.Crash();
  const FileStorage reopened = FileStorage::Open(fs, SegmentSize(512));
  EXPECT_EQ(reopened.InitialState().hard_state, (HardState{1001, 3, 0}));
}

TEST(FileStorageTest, SegmentsRollPastTheirSize) {
  MemoryFileSystem fs;
  FileStorage storage = FileStorage::Open(fs, SegmentSize(100));
  int rolls = 0;
  for (Index i = 1; i <= 25; i++) {
    const size_t segments = storage.Segments().size();
    const int files = fs.FileSyncs();
    const int directories = fs.DirectorySyncs();
    storage.Append({E(i, 1, std::string(30, 'x'))});
    storage.Sync();
    // A new segment costs its name's directory fsync, nothing else.
    const bool rolled = storage.Segments().size() == segments + 1;
    rolls += rolled ? 1 : 0;
    EXPECT_EQ(fs.FileSyncs(), files + 1);
    EXPECT_EQ(fs.DirectorySyncs(), directories + (rolled ? 1 : 0));
  }
  EXPECT_GE(rolls, 10);
  for (uint64_t segment : storage.Segments()) {
    // Closed once it reaches the size: at most one batch past it.
    EXPECT_LT(fs.Size(SegmentFileName(segment)), 100u + 100u);
  }
  fs.Crash();
  EXPECT_EQ(Describe(FileStorage::Open(fs, SegmentSize(100))), Describe(storage));
}

TEST(FileStorageTest, AFailedSyncStopsFurtherWrites) {
  MemoryFileSystem fs;
  FileStorage storage = FileStorage::Open(fs);
  storage.Append(Entries(1, 2, 1));
  fs.FailNextSync();
  EXPECT_THROW(storage.Sync(), Error);
  ExpectError([&] { storage.Append(Entries(3, 3, 1)); },
              ExpectedError("XX000", "raft file storage cannot be written after a failed write",
                            "Whether the failed write reached the disk is unknown.", "Open the storage again."));
  EXPECT_THROW(storage.Sync(), Error);
  fs.Crash();
  EXPECT_EQ(FileStorage::Open(fs).LastIndex(), 0u);
}

// ---------------------------------------------------------------------------
// Random Ready-like batches with crashes at random points (inside Sync() and
// Open() as well as between them). After each reopen the storage must read
// exactly like a MemoryStorage fed the batches that were synced, or those
// plus the batch whose Sync() the crash interrupted, never anything between.

class RandomDriver {
 public:
  explicit RandomDriver(uint64_t seed) : rng_(seed) {}

  std::mt19937_64& Rng() { return rng_; }
  uint64_t Below(uint64_t n) { return n == 0 ? 0 : rng_() % n; }

  // One random write, applied identically to both storages.
  template <typename... Storages>
  void Step(Storages&... storages) {
    const MemoryStorage& model = std::get<0>(std::tie(storages...));
    const Index first = model.FirstIndex();
    const Index last = model.LastIndex();
    const Snapshot snapshot = model.CurrentSnapshot();
    switch (Below(10)) {
      case 0:
      case 1:
      case 2:
      case 3: {
        // Mostly appends at the end; sometimes overwrites a suffix, or
        // starts inside the compacted prefix.
        const Index lowest = first > 1 ? first - 1 : 1;
        const Index start = Below(3) == 0 ? lowest + Below(last + 2 - lowest) : last + 1;
        if (Below(4) == 0) term_++;
        std::vector<Entry> entries;
        const uint64_t count = 1 + Below(4);
        for (uint64_t k = 0; k < count; k++) {
          const EntryType type = Below(5) == 0 ? EntryType::kConfChange : EntryType::kNormal;
          entries.push_back(Entry{term_, start + k, type, std::string(Below(24), static_cast<char>('a' + Below(26)))});
        }
        (storages.Append(entries), ...);
        break;
      }
      case 4:
      case 5: {
        const NodeId vote = Below(4);
        const HardState hard_state{term_, vote, Below(last + 1)};
        (storages.SetHardState(hard_state), ...);
        break;
      }
      case 6: {
        const ConfState conf = RandomConf();
        (storages.SetConfState(conf), ...);
        break;
      }
      case 7: {
        const Index lowest = std::max(snapshot.meta.index + 1, first - 1);
        if (lowest > last) break;
        const Index index = lowest + Below(last + 1 - lowest);
        const ConfState conf = RandomConf();
        const std::string data = "state@" + std::to_string(index) + "#" + std::to_string(Below(1000));
        (storages.CreateSnapshot(index, conf, data), ...);
        break;
      }
      case 8: {
        if (last < first) break;
        const Index index = first + Below(last + 1 - first);
        (storages.Compact(index), ...);
        break;
      }
      case 9: {
        if (Below(3) != 0) break;  // rarer than the rest
        term_++;
        Snapshot incoming;
        incoming.meta = SnapshotMeta{snapshot.meta.index + Below(12), term_, RandomConf()};
        incoming.data = "installed@" + std::to_string(incoming.meta.index);
        (storages.ApplySnapshot(incoming), ...);
        break;
      }
    }
  }

 private:
  ConfState RandomConf() {
    ConfState conf;
    for (NodeId id = 1; id <= 5; id++) {
      const uint64_t role = Below(3);
      if (role == 1) conf.voters.push_back(id);
      if (role == 2) conf.learners.push_back(id);
    }
    return conf;
  }

  std::mt19937_64 rng_;
  Term term_ = 1;
};

void Crash(MemoryFileSystem& fs, RandomDriver& driver) {
  if (driver.Below(2) == 0) {
    fs.Crash();
  } else {
    fs.Crash(driver.Rng());
  }
}

// Opens, crashing inside Open() now and then: recovery must itself survive a
// crash.
FileStorage Reopen(MemoryFileSystem& fs, RandomDriver& driver, FileStorage::Options options) {
  for (;;) {
    if (driver.Below(4) == 0) fs.CrashAt(static_cast<int>(driver.Below(4)));
    try {
      FileStorage storage = FileStorage::Open(fs, options);
      fs.Disarm();
      return storage;
    } catch (const SimulatedCrash&) {
      Crash(fs, driver);
    }
  }
}

TEST(FileStorageRandomTest, CrashesLoseExactlyTheUnsyncedBatches) {
  for (uint64_t seed = 1; seed <= 60; seed++) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    RandomDriver driver(seed);
    MemoryFileSystem fs;
    const FileStorage::Options options = SegmentSize(seed % 3 == 0 ? 4096 : 160 + 40 * (seed % 4));
    std::optional<FileStorage> storage(FileStorage::Open(fs, options));
    MemoryStorage synced;  // the batches whose Sync() returned
    MemoryStorage live;    // ... and the changes since
    int crashes = 0;
    for (int step = 0; step < 400; step++) {
      const uint64_t writes = driver.Below(4);
      for (uint64_t w = 0; w < writes; w++) driver.Step(live, *storage);
      ASSERT_EQ(Describe(*storage), Describe(live)) << "step " << step;

      const uint64_t event = driver.Below(20);
      if (event == 0) {
        // Power loss between Readies: the queued changes were never written.
        Crash(fs, driver);
        storage.reset();
        storage.emplace(Reopen(fs, driver, options));
        ASSERT_EQ(Describe(*storage), Describe(synced)) << "step " << step;
        live = synced;
        crashes++;
        continue;
      }
      if (event <= 4) fs.CrashAt(static_cast<int>(driver.Below(8)));
      try {
        storage->Sync();
        fs.Disarm();
        synced = live;
      } catch (const SimulatedCrash&) {
        Crash(fs, driver);
        storage.reset();
        storage.emplace(Reopen(fs, driver, options));
        const std::string recovered = Describe(*storage);
        if (recovered == Describe(live)) {
          synced = live;
        } else {
          ASSERT_EQ(recovered, Describe(synced)) << "step " << step << ": neither before nor after the batch\nlive:\n"
                                                 << Describe(live);
          live = synced;
        }
        crashes++;
      }
    }
    EXPECT_GT(crashes, 20);
    storage->Sync();
    storage.reset();
    storage.emplace(FileStorage::Open(fs, options));
    EXPECT_EQ(Describe(*storage), Describe(live));
    // No leaks: only the segments in use and the current snapshot remain.
    EXPECT_EQ(CountFiles(fs, "log-"), storage->Segments().size());
    EXPECT_EQ(CountFiles(fs, "snap-"), storage->CurrentSnapshot().Empty() ? 0u : 1u);
  }
}

}  // namespace
}  // namespace phantom::raft
