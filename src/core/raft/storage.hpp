// What the Raft library reads from stable storage, and an in-memory Storage
// for tests and for holding the persisted log before the application's own
// durable store exists.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/common/error.hpp"
#include "core/raft/types.hpp"

namespace phantom::raft {

// Why a Storage read could not be served. The library reacts differently to
// each (a compacted index means "send a snapshot instead"), so they are a
// kind rather than only a message.
enum class StorageErrorKind : uint8_t {
  kCompacted,          // the index lies at or before the snapshot
  kUnavailable,        // the index lies beyond the last stored entry
  kSnapshotOutOfDate,  // a snapshot older than the one already held
};

class StorageError : public Error {
 public:
  StorageError(StorageErrorKind kind, std::string message)
      : Error(sqlstate::kObjectNotInPrerequisiteState, std::move(message)), kind_(kind) {}

  StorageErrorKind Kind() const noexcept { return kind_; }

 private:
  StorageErrorKind kind_;
};

struct PersistedState {
  HardState hard_state;
  ConfState conf_state;
};

// Read side of stable storage. Indexes run from FirstIndex() to LastIndex();
// everything before FirstIndex() is covered by CurrentSnapshot().
class Storage {
 public:
  virtual ~Storage() = default;

  virtual PersistedState InitialState() const = 0;
  // Entries [lo, hi), cut after max_bytes of entry data but never empty when
  // lo < hi. Throws kCompacted when lo < FirstIndex(), kUnavailable when
  // hi > LastIndex() + 1.
  virtual std::vector<Entry> Entries(Index lo, Index hi, uint64_t max_bytes) const = 0;
  // The term of entry i; i may be FirstIndex() - 1 (the snapshot's own index).
  virtual phantom::raft::Term TermOf(Index i) const = 0;
  virtual Index FirstIndex() const = 0;
  virtual Index LastIndex() const = 0;
  virtual Snapshot CurrentSnapshot() const = 0;
};

// Entry data size used for max_bytes limits; a rough measure is enough.
uint64_t EntrySize(const Entry& entry);

class MemoryStorage final : public Storage {
 public:
  MemoryStorage();

  PersistedState InitialState() const override;
  std::vector<Entry> Entries(Index lo, Index hi, uint64_t max_bytes) const override;
  phantom::raft::Term TermOf(Index i) const override;
  Index FirstIndex() const override;
  Index LastIndex() const override;
  Snapshot CurrentSnapshot() const override;

  void SetHardState(const HardState& hard_state);
  void SetConfState(const ConfState& conf_state);
  // Entries must be contiguous; those overlapping stored entries replace them
  // and everything after (the leader overwrote a conflicting suffix).
  void Append(const std::vector<Entry>& entries);
  // The same, taking the entries over (e.g. std::move(ready.entries)) instead
  // of copying them: no reference-count traffic on their payloads.
  void Append(std::vector<Entry>&& entries);
  // Replaces the whole log by the snapshot (a follower installing one).
  void ApplySnapshot(const Snapshot& snapshot);
  // Records a snapshot of the state machine as of applied index `index`, with
  // the membership as of that index. The membership in force is what
  // SetConfState (or ApplySnapshot) last set.
  Snapshot CreateSnapshot(Index index, const ConfState& conf, std::string data);
  // Discards entries before `index`; entry `index` stays as the new base.
  void Compact(Index index);

 private:
  // Checks an append, drops the stored entries it replaces and returns how
  // many leading entries a snapshot already covers (all: nothing to append).
  size_t TruncateForAppend(const std::vector<Entry>& entries);

  HardState hard_state_;
  // The membership now in force; the snapshot keeps the one as of its own
  // index, which a later change must not rewrite.
  ConfState conf_state_;
  Snapshot snapshot_;
  // entries_[0] is a placeholder for the snapshot's (index, term), so that
  // TermOf(FirstIndex() - 1) needs no special case.
  std::vector<Entry> entries_;
};

}  // namespace phantom::raft
