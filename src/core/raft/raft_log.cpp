#include "core/raft/raft_log.hpp"

#include <algorithm>
#include <string>

#include "core/common/pure.hpp"

namespace phantom::raft {

namespace {

std::string Str(uint64_t i) { return std::to_string(i); }

}  // namespace

RaftLog::RaftLog(const Storage* storage, Index applied) : storage_(storage) {
  if (storage_ == nullptr) throw Error(sqlstate::kInvalidParameterValue, "raft log needs a storage");
  unstable_offset_ = storage_->LastIndex() + 1;
  committed_ = storage_->FirstIndex() - 1;
  applied_ = committed_;
  const Index hard_commit = storage_->InitialState().hard_state.commit;
  if (hard_commit > committed_) committed_ = std::min(hard_commit, LastIndex());
  if (applied > applied_) applied_ = std::min(applied, committed_);
}

Index RaftLog::FirstIndex() const {
  if (unstable_snapshot_) return unstable_snapshot_->meta.index + 1;
  return storage_->FirstIndex();
}

Index RaftLog::LastIndex() const {
  if (!unstable_entries_.empty()) return unstable_offset_ + unstable_entries_.size() - 1;
  if (unstable_snapshot_) return unstable_snapshot_->meta.index;
  return storage_->LastIndex();
}

Term RaftLog::LastTerm() const { return TermAt(LastIndex()).value_or(0); }

std::optional<Term> RaftLog::TermAt(Index i) const {
  if (i + 1 < FirstIndex() || i > LastIndex()) return std::nullopt;
  if (i >= unstable_offset_ && i - unstable_offset_ < unstable_entries_.size()) {
    return unstable_entries_[i - unstable_offset_].term;
  }
  if (unstable_snapshot_) {
    if (i == unstable_snapshot_->meta.index) return unstable_snapshot_->meta.term;
    return std::nullopt;
  }
  try {
    return storage_->TermOf(i);
  } catch (const StorageError&) {
    return std::nullopt;
  }
}

bool RaftLog::MatchTerm(Index i, Term term) const {
  const auto t = TermAt(i);
  return t.has_value() && *t == term;
}

bool RaftLog::IsUpToDate(Index last_index, Term last_term) const {
  const Term mine = LastTerm();
  return last_term > mine || (last_term == mine && last_index >= LastIndex());
}

Index RaftLog::FindConflict(std::span<const Entry> entries) const {
  for (const Entry& entry : entries) {
    if (!MatchTerm(entry.index, entry.term)) return entry.index;
  }
  return 0;
}

std::pair<Index, Term> RaftLog::FindConflictByTerm(Index index, Term term) const {
  index = std::min(index, LastIndex());
  for (;;) {
    const auto t = TermAt(index);
    if (!t.has_value()) return {index, 0};  // compacted: the leader will fall back to a snapshot
    if (*t <= term || index == 0) return {index, *t};
    --index;
  }
}

std::optional<Index> RaftLog::MaybeAppend(Index index, Term log_term, Index committed, std::span<const Entry> entries) {
  if (!MatchTerm(index, log_term)) return std::nullopt;
  const Index last_new = index + entries.size();
  const Index conflict = FindConflict(entries);
  if (conflict != 0) {
    if (conflict <= committed_) {
      throw Error(sqlstate::kInternalError, "raft entry " + Str(conflict) + " conflicts with the committed log");
    }
    const size_t from = conflict - index - 1;
    Append(entries.subspan(from));
  }
  CommitTo(std::min(committed, last_new));
  return last_new;
}

Index RaftLog::Append(std::span<const Entry> entries) {
  if (entries.empty()) return LastIndex();
  const Index after = entries.front().index;
  if (after <= committed_) {
    throw Error(sqlstate::kInternalError,
                "raft append at " + Str(after) + " would overwrite committed index " + Str(committed_));
  }
  if (after > LastIndex() + 1) {
    throw Error(sqlstate::kInternalError, "raft append at " + Str(after) + " leaves a gap after " + Str(LastIndex()));
  }
  if (after == unstable_offset_ + unstable_entries_.size()) {
    // Plain extension of the unstable tail.
  } else if (after <= unstable_offset_) {
    // Replaces everything unstable (and shadows stored entries from `after`).
    unstable_offset_ = after;
    unstable_entries_.clear();
  } else {
    unstable_entries_.resize(after - unstable_offset_);
  }
  unstable_entries_.insert(unstable_entries_.end(), entries.begin(), entries.end());
  return LastIndex();
}

std::vector<Entry> RaftLog::Slice(Index lo, Index hi, uint64_t max_bytes) const {
  std::vector<Entry> out;
  if (lo >= hi) return out;
  if (lo < FirstIndex())
    throw StorageError(StorageErrorKind::kCompacted, "raft log index " + Str(lo) + " is compacted");
  if (hi > LastIndex() + 1) {
    throw StorageError(StorageErrorKind::kUnavailable, "raft log index " + Str(hi - 1) + " is not stored");
  }
  uint64_t size = 0;
  if (lo < unstable_offset_) {
    out = storage_->Entries(lo, std::min(hi, unstable_offset_), max_bytes);
    for (const Entry& entry : out) size += EntrySize(entry);
    // Storage stopped early for the byte limit: the unstable part would be past it.
    if (out.empty() || out.back().index + 1 < std::min(hi, unstable_offset_)) return out;
  }
  const Index from = std::max(lo, unstable_offset_);
  if (from >= hi) return out;
  // Count first, so that the result is allocated once at its final size.
  const auto first = unstable_entries_.begin() + static_cast<std::ptrdiff_t>(from - unstable_offset_);
  auto last = first;
  for (Index i = from; i < hi; ++i, ++last) {
    size += EntrySize(*last);
    if ((!out.empty() || last != first) && size > max_bytes) break;
  }
  out.reserve(out.size() + static_cast<size_t>(last - first));
  out.insert(out.end(), first, last);
  return out;
}

std::vector<Entry> RaftLog::EntriesFrom(Index lo, uint64_t max_bytes) const {
  if (lo > LastIndex()) return {};
  return Slice(lo, LastIndex() + 1, max_bytes);
}

void RaftLog::CommitTo(Index index) {
  if (index <= committed_) return;
  if (index > LastIndex()) {
    throw Error(sqlstate::kInternalError,
                "raft commit index " + Str(index) + " is beyond the last index " + Str(LastIndex()));
  }
  committed_ = index;
}

bool RaftLog::MaybeCommit(Index max_index, Term term) {
  if (max_index > committed_ && MatchTerm(max_index, term)) {
    CommitTo(max_index);
    return true;
  }
  return false;
}

void RaftLog::AppliedTo(Index index) {
  if (index == 0) return;
  if (index > committed_ || index < applied_) {
    throw Error(sqlstate::kInternalError,
                "raft applied index " + Str(index) + " is outside [" + Str(applied_) + ", " + Str(committed_) + "]");
  }
  applied_ = index;
}

bool RaftLog::HasNextCommittedEntries() const { return committed_ > applied_ && applied_ + 1 >= FirstIndex(); }

std::vector<Entry> RaftLog::NextCommittedEntries() const {
  if (!HasNextCommittedEntries()) return {};
  return Slice(std::max(applied_ + 1, FirstIndex()), committed_ + 1, kNoLimit);
}

void RaftLog::StableTo(Index index, Term term) {
  if (index < unstable_offset_ || index - unstable_offset_ >= unstable_entries_.size()) return;
  // A newer append may have replaced the entry that was persisted; then keep it unstable.
  if (unstable_entries_[index - unstable_offset_].term != term) return;
  const size_t n = index - unstable_offset_ + 1;
  unstable_entries_.erase(unstable_entries_.begin(), unstable_entries_.begin() + static_cast<std::ptrdiff_t>(n));
  unstable_offset_ = index + 1;
}

void RaftLog::StableSnapshotTo(Index index) {
  if (unstable_snapshot_ && unstable_snapshot_->meta.index == index) unstable_snapshot_.reset();
}

Snapshot RaftLog::CurrentSnapshot() const {
  if (unstable_snapshot_) return *unstable_snapshot_;
  return storage_->CurrentSnapshot();
}

void RaftLog::Restore(const Snapshot& snapshot) {
  committed_ = snapshot.meta.index;
  applied_ = std::min(applied_, committed_);
  unstable_snapshot_ = snapshot;
  unstable_entries_.clear();
  unstable_offset_ = snapshot.meta.index + 1;
}

}  // namespace phantom::raft
