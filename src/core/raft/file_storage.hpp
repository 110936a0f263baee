// Durable Raft storage: MemoryStorage's read side and write API, backed by a
// segmented log and snapshot files in one directory, reached only through an
// injected FileSystem (the glue implements it with real files and fsync; the
// tests with a model of what survives a crash).
//
// Driving it for one Ready (raft.hpp):
//   if (!ready.snapshot.Empty()) storage.ApplySnapshot(ready.snapshot);
//   storage.Append(std::move(ready.entries));
//   if (ready.hard_state) storage.SetHardState(*ready.hard_state);
//   storage.Sync();   // now durable: the messages may go out
// The write calls change the in-memory state at once (Raft reads it) and
// queue a record; Sync() writes every queued record as one checksummed batch
// and fsyncs once. Fsyncs per Sync():
//   - 1 usually (the active segment);
//   - 2 when the batch opens a new segment (also the directory, for its name);
//   - 2 more when the batch holds a new snapshot (the snapshot file and the
//     directory, before the batch that names it is written).
// A crash loses at most the batches whose Sync() had not returned, each as a
// whole: recovery never sees half of a Ready.
//
// Open() recovers: it replays the segments, truncates a torn batch at the end
// of the last one, and throws phantom::Error (XX001) for damage anywhere else
// (naming the file and offset): a torn write can only be at the tail, so
// anything else is corruption that must not be silently dropped. (Damage to
// a batch in the last segment cannot be told from a torn write, so it is
// dropped with everything after it.)
//
// Compaction deletes whole segments once none of their entries is live and
// the batch that made them dead is durable; every segment starts with a
// checkpoint of the rest of the state, so replay can start at any segment.
//
// Not thread-safe. After any FileSystem failure during Sync() the storage
// refuses further writes (the durable state is unknown, as after a failed
// fsync); Open() it again.
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/raft/log_file_format.hpp"
#include "core/raft/storage.hpp"
#include "core/raft/types.hpp"

namespace phantom::raft {

// One directory of files, addressed by name. Implementations throw
// phantom::Error when an operation fails.
class FileSystem {
 public:
  virtual ~FileSystem() = default;

  // The names of the files in the directory, in any order.
  virtual std::vector<std::string> List() = 0;
  // The whole file.
  virtual std::string ReadAll(const std::string& name) = 0;
  // Appends to the file, creating it when absent. The bytes are durable only
  // after Sync(name); a new file's name only after SyncDirectory().
  virtual void Append(const std::string& name, std::string_view bytes) = 0;
  // fsync (fdatasync suffices) of the file's contents.
  virtual void Sync(const std::string& name) = 0;
  // Cuts the file to `size` bytes; durable after Sync(name).
  virtual void Truncate(const std::string& name, uint64_t size) = 0;
  // Durable after SyncDirectory().
  virtual void Remove(const std::string& name) = 0;
  // fsync of the directory: makes creations and removals so far durable.
  virtual void SyncDirectory() = 0;
};

class FileStorage final : public Storage {
 public:
  static constexpr uint64_t kDefaultSegmentSize = 16u << 20;

  struct Options {
    // A segment is closed once it reaches this size (so a segment may exceed
    // it by one batch); a new one starts with the next Sync().
    uint64_t segment_size = kDefaultSegmentSize;
  };

  // Recovers the state of the last durable batch from the directory (empty:
  // a fresh storage) and leaves the directory ready to append to. Throws
  // phantom::Error (XX001) for damage a crash cannot explain.
  static FileStorage Open(FileSystem& fs, Options options);
  static FileStorage Open(FileSystem& fs) { return Open(fs, Options()); }

  FileStorage(FileStorage&&) = default;
  FileStorage& operator=(FileStorage&&) = default;

  PersistedState InitialState() const override { return memory_.InitialState(); }
  std::vector<Entry> Entries(Index lo, Index hi, uint64_t max_bytes) const override {
    return memory_.Entries(lo, hi, max_bytes);
  }
  phantom::raft::Term TermOf(Index i) const override { return memory_.TermOf(i); }
  Index FirstIndex() const override { return memory_.FirstIndex(); }
  Index LastIndex() const override { return memory_.LastIndex(); }
  Snapshot CurrentSnapshot() const override { return snapshot_; }

  // The write API and its errors are MemoryStorage's; each takes effect in
  // memory at once and becomes durable with the next Sync().
  void SetHardState(const HardState& hard_state);
  void SetConfState(const ConfState& conf_state);
  void Append(const std::vector<Entry>& entries);
  void Append(std::vector<Entry>&& entries);
  void ApplySnapshot(const Snapshot& snapshot);
  Snapshot CreateSnapshot(Index index, const ConfState& conf, std::string data);
  void Compact(Index index);

  // Makes every change since the last Sync() durable (see the top of the
  // file for the fsyncs), then deletes files that are no longer needed. Does
  // nothing when nothing changed.
  void Sync();
  bool HasUnsyncedChanges() const { return !pending_.Empty(); }

  // For tests and diagnostics: the segments on disk, oldest first.
  const std::deque<uint64_t>& Segments() const { return segments_; }

 private:
  // Which segment holds each live entry, as runs: entries from `first` up to
  // the next run's first live in `segment`. Segment numbers never decrease
  // along the log (an entry is written no earlier than the ones before it),
  // so the first run names the oldest segment still needed.
  struct Run {
    Index first = 0;
    uint64_t segment = 0;
  };
  // The segment of entries written since the last Sync(), not yet chosen.
  static constexpr uint64_t kPendingSegment = UINT64_MAX;

  FileStorage(FileSystem& fs, Options options) : fs_(&fs), options_(options) {}

  void Recover();
  void CheckWritable() const;
  LogCheckpoint Checkpoint(uint64_t segment) const;
  void NoteAppend(Index first);
  void NoteCompact(Index index);
  void WriteBatch();
  void RemoveDeadFiles(uint64_t old_snapshot_generation);

  FileSystem* fs_;
  Options options_;
  // The live state, as Raft reads it. Its own snapshot is only the log's
  // base; the snapshot is kept here (the two differ after Compact()).
  MemoryStorage memory_;
  Snapshot snapshot_;
  uint64_t snapshot_generation_ = 0;    // 0: none
  uint64_t next_generation_ = 1;        // never reuses a name that may still exist
  bool snapshot_file_pending_ = false;  // snapshot_ is newer than any file
  uint64_t durable_snapshot_generation_ = 0;

  std::deque<uint64_t> segments_;  // on disk, ascending; back() is the active one
  uint64_t next_segment_ = 1;
  uint64_t active_size_ = 0;
  // Non-empty: the active segment is full; the next Sync() starts a segment
  // with this batch (a checkpoint of the durable state when it filled up).
  std::string roll_checkpoint_;
  std::vector<Run> runs_;

  LogBatchWriter pending_;
  bool failed_ = false;
};

}  // namespace phantom::raft
