// The leader's view of one peer's log: how far it is known to match, what to
// send next, and how many append messages are in flight to it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>

#include "core/raft/types.hpp"

namespace phantom::raft {

// A bounded window of in-flight append messages, each remembered by the last
// index it carried, so that acknowledgements free them in order.
class Inflights {
 public:
  explicit Inflights(size_t capacity) : capacity_(capacity) {}

  bool Full() const { return last_indexes_.size() >= capacity_; }
  size_t Count() const { return last_indexes_.size(); }
  void Add(Index last_index) { last_indexes_.push_back(last_index); }
  // Frees every message whose entries are all at or below index.
  void FreeLE(Index index);
  void FreeFirstOne() {
    if (!last_indexes_.empty()) last_indexes_.pop_front();
  }
  void Reset() { last_indexes_.clear(); }

 private:
  size_t capacity_;
  std::deque<Index> last_indexes_;
};

enum class ProgressState : uint8_t {
  kProbe,      // unknown match: one append at a time until one is accepted
  kReplicate,  // known match: stream appends, bounded by the inflight window
  kSnapshot,   // a snapshot is on its way; send nothing else until it lands
};

class Progress {
 public:
  Progress(Index next, size_t max_inflight, bool is_learner)
      : next_(next), inflights_(max_inflight), is_learner_(is_learner) {}

  Index Match() const { return match_; }
  Index Next() const { return next_; }
  ProgressState State() const { return state_; }
  Index PendingSnapshot() const { return pending_snapshot_; }
  bool IsLearner() const { return is_learner_; }
  void SetLearner(bool is_learner) { is_learner_ = is_learner; }
  bool RecentActive() const { return recent_active_; }
  void SetRecentActive(bool active) { recent_active_ = active; }
  const Inflights& InFlight() const { return inflights_; }
  // The commit index the last append to this peer carried: a moved commit
  // index needs an append of its own only for peers not yet sent it.
  Index CommitSent() const { return commit_sent_; }
  void SetCommitSent(Index commit) { commit_sent_ = commit; }

  void BecomeProbe();
  void BecomeReplicate();
  void BecomeSnapshot(Index snapshot_index);
  // The snapshot in flight was lost: forget it so a probe starts from match.
  void AbortSnapshot() { pending_snapshot_ = 0; }

  // The peer acknowledged entries up to index; returns whether match moved.
  bool MaybeUpdate(Index index);
  // Records an append sent with entries up to last_index (none: a probe).
  void SentEntries(Index last_index, size_t entry_count);
  // The peer rejected an append after `rejected`; `hint` is where it suggests
  // to retry. Returns false when the rejection is stale.
  bool MaybeDecreaseTo(Index rejected, Index hint);
  // The peer answered a heartbeat: a probe may be resent, and a full window
  // opens by one (its acknowledgements may have been lost).
  void OnHeartbeatResponse();
  // Whether the leader must hold back appends to this peer for now.
  bool IsPaused() const;

 private:
  Index match_ = 0;
  Index next_;
  ProgressState state_ = ProgressState::kProbe;
  bool probe_sent_ = false;
  Index pending_snapshot_ = 0;
  bool recent_active_ = false;
  Index commit_sent_ = 0;
  Inflights inflights_;
  bool is_learner_;
};

}  // namespace phantom::raft
