// The Raft log as the state machine sees it: what Storage already holds plus
// the entries (or snapshot) accepted but not yet persisted, and the commit and
// apply positions.
#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <span>
#include <utility>
#include <vector>

#include "core/raft/storage.hpp"
#include "core/raft/types.hpp"

namespace phantom::raft {

inline constexpr uint64_t kNoLimit = std::numeric_limits<uint64_t>::max();

class RaftLog {
 public:
  // Starts from what storage holds: committed and applied begin at the
  // snapshot's index (or `applied`, when the application says it got further).
  RaftLog(const Storage* storage, Index applied);

  Index FirstIndex() const;
  Index LastIndex() const;
  Term LastTerm() const;
  // Nullopt when i is compacted away or beyond the last entry.
  std::optional<Term> TermAt(Index i) const;
  bool MatchTerm(Index i, Term term) const;
  // Whether a candidate whose log ends at (last_index, last_term) is at least
  // as up to date as this one (dissertation 3.6.1).
  bool IsUpToDate(Index last_index, Term last_term) const;

  // The first entry whose term differs from the log's (or that is new), or 0
  // when all of them are already present.
  Index FindConflict(std::span<const Entry> entries) const;
  // The largest index <= index whose term is <= term: where a leader whose
  // log has `term` at `index` can next probe. Returns that index and its term.
  std::pair<Index, Term> FindConflictByTerm(Index index, Term term) const;
  // A follower's append: when (index, log_term) matches, appends entries
  // (dropping a conflicting suffix), advances commit to min(committed, last
  // new index) and returns the last new index; nullopt when it does not match.
  std::optional<Index> MaybeAppend(Index index, Term log_term, Index committed, std::span<const Entry> entries);
  std::optional<Index> MaybeAppend(Index index, Term log_term, Index committed, const std::vector<Entry>& entries) {
    return MaybeAppend(index, log_term, committed, std::span<const Entry>(entries));
  }
  // Appends after truncating anything from entries.front().index on; returns
  // the new last index.
  Index Append(std::span<const Entry> entries);
  Index Append(const std::vector<Entry>& entries) { return Append(std::span<const Entry>(entries)); }

  // Entries [lo, hi) from storage and unstable together, cut by max_bytes but
  // never empty when lo < hi. Throws StorageError kCompacted when lo is gone.
  std::vector<Entry> Slice(Index lo, Index hi, uint64_t max_bytes) const;
  std::vector<Entry> EntriesFrom(Index lo, uint64_t max_bytes) const;

  Index Committed() const { return committed_; }
  Index Applied() const { return applied_; }
  void CommitTo(Index index);
  // Commits up to max_index only when that entry is of `term` (a leader
  // commits by counting only entries of its own term).
  bool MaybeCommit(Index max_index, Term term);
  void AppliedTo(Index index);

  const std::vector<Entry>& UnstableEntries() const { return unstable_entries_; }
  const std::optional<Snapshot>& UnstableSnapshot() const { return unstable_snapshot_; }
  bool HasNextCommittedEntries() const;
  std::vector<Entry> NextCommittedEntries() const;
  // The application persisted entries up to (index, term) / the snapshot.
  void StableTo(Index index, Term term);
  void StableSnapshotTo(Index index);

  // The newest snapshot: the unstable one if any, else storage's.
  Snapshot CurrentSnapshot() const;
  // Replaces the log with a snapshot received from the leader.
  void Restore(const Snapshot& snapshot);

 private:
  const Storage* storage_;
  std::optional<Snapshot> unstable_snapshot_;
  std::vector<Entry> unstable_entries_;
  Index unstable_offset_ = 0;  // index of unstable_entries_[0]
  Index committed_ = 0;
  Index applied_ = 0;
};

}  // namespace phantom::raft
