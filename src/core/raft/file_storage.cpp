// See file_storage.hpp for the durability contract and log_file_format.hpp for
// the bytes.
#include "core/raft/file_storage.hpp"

#include <algorithm>
#include <limits>
#include <map>
#include <span>

#include "core/common/error.hpp"
#include "core/common/pure.hpp"

namespace phantom::raft {

namespace {

constexpr uint64_t kAll = std::numeric_limits<uint64_t>::max();

std::string Str(uint64_t i) { return std::to_string(i); }

[[noreturn]] void Corrupt(const std::string& name, size_t offset, const std::string& problem) {
  throw Error(sqlstate::kDataCorrupted,
              "raft log segment " + name + " is corrupted at offset " + Str(offset) + ": " + problem);
}

// The state the records describe, rebuilt record by record. Entries are kept
// by index rather than as a contiguous run because replay may start at a
// segment whose first entries follow entries in deleted segments: those were
// dead (overwritten or compacted) when the segments went, and the records that
// made them dead follow, so the holes close by the end of the replay.
struct Replay {
  bool started = false;
  HardState hard_state;
  ConfState conf_state;
  Index base_index = 0;
  Term base_term = 0;
  uint64_t snapshot_generation = 0;
  std::map<Index, std::pair<Entry, uint64_t>> entries;  // entry, and the segment it was read from

  LogCheckpoint Checkpoint(uint64_t segment) const {
    return LogCheckpoint{segment, hard_state, conf_state, base_index, base_term, snapshot_generation};
  }

  void Apply(const LogRecord& record, uint64_t segment, const std::string& name, size_t offset) {
    if (const auto* checkpoint = std::get_if<LogCheckpoint>(&record)) {
      if (!started) {
        hard_state = checkpoint->hard_state;
        conf_state = checkpoint->conf_state;
        base_index = checkpoint->base_index;
        base_term = checkpoint->base_term;
        snapshot_generation = checkpoint->snapshot_generation;
        started = true;
      } else if (*checkpoint != Checkpoint(segment)) {
        Corrupt(name, offset, "its checkpoint does not match the segments before it");
      }
    } else if (const auto* entries = std::get_if<std::vector<Entry>>(&record)) {
      // As MemoryStorage::Append: entries the base covers are skipped, the
      // rest replace everything from their first index on.
      auto first = std::find_if(entries->begin(), entries->end(), [&](const Entry& e) { return e.index > base_index; });
      if (first == entries->end()) return;
      this->entries.erase(this->entries.lower_bound(first->index), this->entries.end());
      for (auto it = first; it != entries->end(); ++it) this->entries.emplace(it->index, std::pair{*it, segment});
    } else if (const auto* hard = std::get_if<HardState>(&record)) {
      hard_state = *hard;
    } else if (const auto* conf = std::get_if<ConfState>(&record)) {
      conf_state = *conf;
    } else if (const auto* compact = std::get_if<LogCompact>(&record)) {
      base_index = compact->index;
      base_term = compact->term;
      this->entries.erase(this->entries.begin(), this->entries.upper_bound(compact->index));
    } else if (const auto* snapshot = std::get_if<LogSnapshot>(&record)) {
      snapshot_generation = snapshot->generation;
      if (snapshot->install) {
        base_index = snapshot->meta.index;
        base_term = snapshot->meta.term;
        conf_state = snapshot->meta.conf;
        this->entries.clear();
      }
    }
  }
};

}  // namespace

FileStorage FileStorage::Open(FileSystem& fs, Options options) {
  FileStorage storage(fs, options);
  storage.Recover();
  return storage;
}

void FileStorage::Recover() {
  std::vector<uint64_t> segments;
  std::vector<uint64_t> generations;
  for (const std::string& name : fs_->List()) {
    if (auto segment = ParseSegmentFileName(name)) segments.push_back(*segment);
    if (auto generation = ParseSnapshotFileName(name)) generations.push_back(*generation);
  }
  std::sort(segments.begin(), segments.end());
  std::sort(generations.begin(), generations.end());
  next_segment_ = segments.empty() ? 1 : segments.back() + 1;

  // Segments are deleted oldest first, but the deletions need not all reach
  // the disk: a gap means the ones before it were being deleted, and the
  // segments after it hold everything still needed.
  size_t start = segments.empty() ? 0 : segments.size() - 1;
  while (start > 0 && segments[start - 1] + 1 == segments[start]) start--;
  const std::vector<uint64_t> deleted(segments.begin(), segments.begin() + static_cast<std::ptrdiff_t>(start));
  segments.erase(segments.begin(), segments.begin() + static_cast<std::ptrdiff_t>(start));

  Replay replay;
  bool removed_empty_segment = false;
  for (size_t k = 0; k < segments.size(); k++) {
    const uint64_t segment = segments[k];
    const bool last = k + 1 == segments.size();
    const std::string name = SegmentFileName(segment);
    const std::string bytes = fs_->ReadAll(name);
    const std::string what = "raft log segment " + name;
    size_t offset = 0;
    for (;;) {
      LogBatchRead read = ReadLogBatch(bytes, offset, what);
      if (read.status == LogBatchRead::Status::kEnd) break;
      if (read.status == LogBatchRead::Status::kTorn) {
        // Only the last segment can end in a batch whose Sync() never
        // returned: a segment is closed only after its last batch is durable.
        if (!last) Corrupt(name, offset, read.problem);
        break;
      }
      if (offset == 0 && (read.records.empty() || !std::holds_alternative<LogCheckpoint>(read.records.front())))
        Corrupt(name, offset, "it does not start with a checkpoint");
      for (size_t r = 0; r < read.records.size(); r++) {
        const auto* checkpoint = std::get_if<LogCheckpoint>(&read.records[r]);
        if (checkpoint != nullptr && (offset != 0 || r != 0))
          Corrupt(name, offset, "a checkpoint that is not at the start of the segment");
        if (checkpoint != nullptr && checkpoint->segment != segment)
          Corrupt(name, offset, "its checkpoint is for segment " + Str(checkpoint->segment));
        replay.Apply(read.records[r], segment, name, offset);
      }
      offset += read.size;
    }
    if (offset == 0) {
      // Not even the checkpoint became durable: the segment was being
      // created. Its removal must be durable before anything is appended to
      // the segment before it, or a crash could bring it back after that one.
      // Its number is reused: a gap in the numbers means "deleted by
      // compaction" (above), which the segment before it is not.
      if (!last) Corrupt(name, 0, "it does not start with a checkpoint");
      fs_->Remove(name);
      removed_empty_segment = true;
      next_segment_ = segment;
      continue;
    }
    if (offset < bytes.size()) {
      fs_->Truncate(name, offset);
      fs_->Sync(name);
    }
    segments_.push_back(segment);
    active_size_ = offset;
  }

  Index expected = replay.base_index + 1;
  for (const auto& [index, entry] : replay.entries) {
    if (index != expected)
      throw Error(sqlstate::kDataCorrupted,
                  "raft log is missing entry " + Str(expected) + " (the next stored is " + Str(index) + ")");
    expected++;
  }

  if (replay.base_index != 0 || replay.base_term != 0)
    memory_.ApplySnapshot(Snapshot{SnapshotMeta{replay.base_index, replay.base_term, replay.conf_state}, {}});
  memory_.SetConfState(replay.conf_state);
  memory_.SetHardState(replay.hard_state);
  std::vector<Entry> entries;
  entries.reserve(replay.entries.size());
  for (auto& [index, entry] : replay.entries) {
    entries.push_back(std::move(entry.first));
    if (runs_.empty() || runs_.back().segment != entry.second) runs_.push_back(Run{index, entry.second});
  }
  memory_.Append(std::move(entries));

  snapshot_generation_ = durable_snapshot_generation_ = replay.snapshot_generation;
  if (snapshot_generation_ != 0) {
    const std::string name = SnapshotFileName(snapshot_generation_);
    if (!std::binary_search(generations.begin(), generations.end(), snapshot_generation_))
      throw Error(sqlstate::kDataCorrupted, "raft snapshot file " + name + " is missing");
    snapshot_ = DecodeSnapshotFile(fs_->ReadAll(name), snapshot_generation_, "raft snapshot file " + name);
  }
  next_generation_ = std::max(generations.empty() ? 0 : generations.back(), snapshot_generation_) + 1;

  // Leftovers: not needed, and harmless if a crash brings them back.
  for (uint64_t segment : deleted) fs_->Remove(SegmentFileName(segment));
  for (uint64_t generation : generations)
    if (generation != snapshot_generation_) fs_->Remove(SnapshotFileName(generation));

  if (segments_.empty()) {
    const uint64_t segment = next_segment_++;
    LogBatchWriter batch;
    batch.AddCheckpoint(Checkpoint(segment));
    const std::string bytes = batch.Seal();
    const std::string name = SegmentFileName(segment);
    fs_->Append(name, bytes);
    fs_->Sync(name);
    fs_->SyncDirectory();
    segments_.push_back(segment);
    active_size_ = bytes.size();
  } else if (removed_empty_segment) {
    fs_->SyncDirectory();
  }
  if (active_size_ >= options_.segment_size) {
    LogBatchWriter batch;
    batch.AddCheckpoint(Checkpoint(next_segment_));
    roll_checkpoint_ = batch.Seal();
  }
}

void FileStorage::CheckWritable() const {
  if (failed_)
    throw Error(sqlstate::kInternalError, "raft file storage cannot be written after a failed write",
                "Whether the failed write reached the disk is unknown.", "Open the storage again.");
}

LogCheckpoint FileStorage::Checkpoint(uint64_t segment) const {
  const Index base = memory_.FirstIndex() - 1;
  const PersistedState state = memory_.InitialState();
  return LogCheckpoint{segment, state.hard_state, state.conf_state, base, memory_.TermOf(base), snapshot_generation_};
}

void FileStorage::SetHardState(const HardState& hard_state) {
  CheckWritable();
  pending_.AddHardState(hard_state);
  memory_.SetHardState(hard_state);
}

void FileStorage::SetConfState(const ConfState& conf_state) {
  CheckWritable();
  pending_.AddConfState(conf_state);  // first: it rejects a conf state it could not decode again
  memory_.SetConfState(conf_state);
}

void FileStorage::Append(const std::vector<Entry>& entries) {
  CheckWritable();
  if (entries.empty()) return;
  const Index first = std::max(entries.front().index, memory_.FirstIndex());
  memory_.Append(entries);                   // first: it rejects a gap or a non-contiguous run
  if (entries.back().index < first) return;  // the base covers them all
  const std::span<const Entry> stored(entries.begin() + static_cast<std::ptrdiff_t>(first - entries.front().index),
                                      entries.end());
  pending_.AddEntries(stored);
  NoteAppend(first);
}

void FileStorage::Append(std::vector<Entry>&& entries) {
  CheckWritable();
  if (entries.empty()) return;
  const Index first = std::max(entries.front().index, memory_.FirstIndex());
  const Index last = entries.back().index;
  memory_.Append(std::move(entries));
  if (last < first) return;
  // Encoded from the stored copies: the caller's are gone.
  pending_.AddEntries(memory_.Entries(first, last + 1, kAll));
  NoteAppend(first);
}

void FileStorage::ApplySnapshot(const Snapshot& snapshot) {
  CheckWritable();
  if (snapshot.meta.index < snapshot_.meta.index) {
    throw StorageError(StorageErrorKind::kSnapshotOutOfDate, "raft snapshot at index " + Str(snapshot.meta.index) +
                                                                 " is older than the stored one at " +
                                                                 Str(snapshot_.meta.index));
  }
  const uint64_t generation = next_generation_;
  pending_.AddSnapshot(LogSnapshot{generation, snapshot.meta, true});
  next_generation_++;
  // A fresh MemoryStorage: its own snapshot is only the log's base (which
  // Compact() may have moved past the real snapshot), so it must not judge
  // whether this one is out of date. The data lives in snapshot_ alone.
  const HardState hard_state = memory_.InitialState().hard_state;
  memory_ = MemoryStorage();
  memory_.ApplySnapshot(Snapshot{snapshot.meta, {}});
  memory_.SetHardState(hard_state);
  snapshot_ = snapshot;
  snapshot_generation_ = generation;
  snapshot_file_pending_ = true;
  runs_.clear();
}

Snapshot FileStorage::CreateSnapshot(Index index, const ConfState& conf, std::string data) {
  CheckWritable();
  if (index <= snapshot_.meta.index) {
    throw StorageError(
        StorageErrorKind::kSnapshotOutOfDate,
        "raft snapshot at index " + Str(index) + " is not newer than the stored one at " + Str(snapshot_.meta.index));
  }
  if (index > LastIndex()) {
    throw StorageError(StorageErrorKind::kUnavailable, "raft snapshot index " + Str(index) + " is not stored");
  }
  const SnapshotMeta meta{index, memory_.TermOf(index), conf};
  const uint64_t generation = next_generation_;
  pending_.AddSnapshot(LogSnapshot{generation, meta, false});
  next_generation_++;
  snapshot_ = Snapshot{meta, std::move(data)};
  snapshot_generation_ = generation;
  snapshot_file_pending_ = true;
  return snapshot_;
}

void FileStorage::Compact(Index index) {
  CheckWritable();
  memory_.Compact(index);
  pending_.AddCompact(LogCompact{index, memory_.TermOf(index)});
  NoteCompact(index);
}

void FileStorage::NoteAppend(Index first) {
  while (!runs_.empty() && runs_.back().first >= first) runs_.pop_back();
  if (runs_.empty() || runs_.back().segment != kPendingSegment) runs_.push_back(Run{first, kPendingSegment});
}

void FileStorage::NoteCompact(Index index) {
  if (index >= LastIndex()) {
    runs_.clear();
    return;
  }
  size_t dead = 0;
  while (dead + 1 < runs_.size() && runs_[dead + 1].first <= index + 1) dead++;
  runs_.erase(runs_.begin(), runs_.begin() + static_cast<std::ptrdiff_t>(dead));
  if (!runs_.empty()) runs_.front().first = std::max(runs_.front().first, index + 1);
}

void FileStorage::Sync() {
  CheckWritable();
  if (pending_.Empty()) return;
  const uint64_t old_snapshot_generation = durable_snapshot_generation_;
  try {
    WriteBatch();
    RemoveDeadFiles(old_snapshot_generation);
  } catch (...) {
    failed_ = true;
    throw;
  }
}

void FileStorage::WriteBatch() {
  // The snapshot file, name included, is durable before the batch that names
  // it can be: otherwise a crash could leave a log that needs a snapshot the
  // directory does not hold.
  if (snapshot_file_pending_) {
    const std::string name = SnapshotFileName(snapshot_generation_);
    fs_->Append(name, EncodeSnapshotFile(snapshot_generation_, snapshot_));
    fs_->Sync(name);
    fs_->SyncDirectory();
    snapshot_file_pending_ = false;
  }
  const std::string batch = pending_.Seal();
  if (!roll_checkpoint_.empty()) {
    const uint64_t segment = next_segment_++;
    const std::string name = SegmentFileName(segment);
    fs_->Append(name, roll_checkpoint_);
    fs_->Append(name, batch);
    fs_->Sync(name);
    fs_->SyncDirectory();  // the batch is durable only once the new name is
    segments_.push_back(segment);
    active_size_ = roll_checkpoint_.size() + batch.size();
    roll_checkpoint_.clear();
  } else {
    const std::string name = SegmentFileName(segments_.back());
    fs_->Append(name, batch);
    fs_->Sync(name);
    active_size_ += batch.size();
  }
  durable_snapshot_generation_ = snapshot_generation_;

  // The entries of this batch now have a segment.
  for (Run& run : runs_)
    if (run.segment == kPendingSegment) run.segment = segments_.back();
  if (runs_.size() >= 2 && runs_[runs_.size() - 2].segment == runs_.back().segment) runs_.pop_back();

  // Captured now, while the durable state and the live one agree: the next
  // batch belongs after it.
  if (active_size_ >= options_.segment_size) {
    LogBatchWriter checkpoint;
    checkpoint.AddCheckpoint(Checkpoint(next_segment_));
    roll_checkpoint_ = checkpoint.Seal();
  }
}

void FileStorage::RemoveDeadFiles(uint64_t old_snapshot_generation) {
  // Oldest first, so that an interrupted deletion leaves a gap, never a hole
  // in the middle of what recovery replays (see Recover()).
  const uint64_t oldest_needed = runs_.empty() ? segments_.back() : std::min(runs_.front().segment, segments_.back());
  while (segments_.front() < oldest_needed) {
    fs_->Remove(SegmentFileName(segments_.front()));
    segments_.pop_front();
  }
  if (old_snapshot_generation != 0 && old_snapshot_generation != durable_snapshot_generation_)
    fs_->Remove(SnapshotFileName(old_snapshot_generation));
}

}  // namespace phantom::raft
