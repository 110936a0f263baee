#include "core/raft/storage.hpp"

#include <algorithm>
#include <iterator>
#include <string>

#include "core/common/pure.hpp"

namespace phantom::raft {

namespace {

std::string Str(Index i) { return std::to_string(i); }

}  // namespace

uint64_t EntrySize(const Entry& entry) { return entry.data.size() + 24; }

MemoryStorage::MemoryStorage() : entries_(1) {}

PersistedState MemoryStorage::InitialState() const { return {hard_state_, conf_state_}; }

Index MemoryStorage::FirstIndex() const { return entries_.front().index + 1; }

Index MemoryStorage::LastIndex() const { return entries_.front().index + entries_.size() - 1; }

Snapshot MemoryStorage::CurrentSnapshot() const { return snapshot_; }

phantom::raft::Term MemoryStorage::TermOf(Index i) const {
  const Index base = entries_.front().index;
  if (i < base) throw StorageError(StorageErrorKind::kCompacted, "raft log index " + Str(i) + " is compacted");
  if (i - base >= entries_.size()) {
    throw StorageError(StorageErrorKind::kUnavailable, "raft log index " + Str(i) + " is not stored");
  }
  return entries_[i - base].term;
}

std::vector<Entry> MemoryStorage::Entries(Index lo, Index hi, uint64_t max_bytes) const {
  const Index base = entries_.front().index;
  if (lo <= base) throw StorageError(StorageErrorKind::kCompacted, "raft log index " + Str(lo) + " is compacted");
  if (hi > LastIndex() + 1) {
    throw StorageError(StorageErrorKind::kUnavailable, "raft log index " + Str(hi - 1) + " is not stored");
  }
  // Count first, so that the result is allocated once at its final size.
  const auto first = entries_.begin() + static_cast<std::ptrdiff_t>(lo - base);
  auto last = first;
  uint64_t size = 0;
  for (Index i = lo; i < hi; ++i, ++last) {
    size += EntrySize(*last);
    if (last != first && size > max_bytes) break;
  }
  return std::vector<Entry>(first, last);
}

void MemoryStorage::SetHardState(const HardState& hard_state) { hard_state_ = hard_state; }

void MemoryStorage::SetConfState(const ConfState& conf_state) { conf_state_ = conf_state; }

void MemoryStorage::Append(const std::vector<Entry>& entries) {
  const size_t compacted = TruncateForAppend(entries);
  entries_.insert(entries_.end(), entries.begin() + static_cast<std::ptrdiff_t>(compacted), entries.end());
}

void MemoryStorage::Append(std::vector<Entry>&& entries) {
  const size_t compacted = TruncateForAppend(entries);
  entries_.insert(entries_.end(), std::make_move_iterator(entries.begin() + static_cast<std::ptrdiff_t>(compacted)),
                  std::make_move_iterator(entries.end()));
}

size_t MemoryStorage::TruncateForAppend(const std::vector<Entry>& entries) {
  if (entries.empty()) return 0;
  for (size_t k = 1; k < entries.size(); ++k) {
    if (entries[k].index != entries[k - 1].index + 1) {
      throw Error(sqlstate::kInternalError, "raft entries to append are not contiguous");
    }
  }
  const Index first = FirstIndex();
  if (entries.back().index < first) return entries.size();  // all already compacted away
  if (entries.front().index > LastIndex() + 1) {
    throw Error(sqlstate::kInternalError, "raft entries to append leave a gap after index " + Str(LastIndex()));
  }
  // The leading entries a snapshot already covers are not stored again.
  const size_t compacted = entries.front().index < first ? first - entries.front().index : 0;
  const Index start = entries[compacted].index;
  entries_.resize(start - entries_.front().index);
  return compacted;
}

void MemoryStorage::ApplySnapshot(const Snapshot& snapshot) {
  if (snapshot.meta.index < snapshot_.meta.index) {
    throw StorageError(StorageErrorKind::kSnapshotOutOfDate, "raft snapshot at index " + Str(snapshot.meta.index) +
                                                                 " is older than the stored one at " +
                                                                 Str(snapshot_.meta.index));
  }
  snapshot_ = snapshot;
  conf_state_ = snapshot.meta.conf;  // the whole log is replaced, membership with it
  entries_.assign(1, Entry{snapshot.meta.term, snapshot.meta.index, EntryType::kNormal, {}});
}

Snapshot MemoryStorage::CreateSnapshot(Index index, const ConfState& conf, std::string data) {
  if (index <= snapshot_.meta.index) {
    throw StorageError(
        StorageErrorKind::kSnapshotOutOfDate,
        "raft snapshot at index " + Str(index) + " is not newer than the stored one at " + Str(snapshot_.meta.index));
  }
  if (index > LastIndex()) {
    throw StorageError(StorageErrorKind::kUnavailable, "raft snapshot index " + Str(index) + " is not stored");
  }
  snapshot_.meta.index = index;
  snapshot_.meta.term = TermOf(index);
  snapshot_.meta.conf = conf;
  snapshot_.data = std::move(data);
  return snapshot_;
}

void MemoryStorage::Compact(Index index) {
  const Index base = entries_.front().index;
  if (index <= base) throw StorageError(StorageErrorKind::kCompacted, "raft log index " + Str(index) + " is compacted");
  if (index > LastIndex()) {
    throw StorageError(StorageErrorKind::kUnavailable, "raft log index " + Str(index) + " is not stored");
  }
  entries_.erase(entries_.begin(), entries_.begin() + static_cast<std::ptrdiff_t>(index - base));
  entries_.front().data = Payload();
  entries_.front().type = EntryType::kNormal;
}

}  // namespace phantom::raft
