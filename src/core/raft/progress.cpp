#include "core/raft/progress.hpp"

#include <algorithm>

#include "core/common/pure.hpp"

namespace phantom::raft {

void Inflights::FreeLE(Index index) {
  while (!last_indexes_.empty() && last_indexes_.front() <= index) last_indexes_.pop_front();
}

void Progress::BecomeProbe() {
  // After a snapshot, the peer holds at least the snapshot's entries.
  if (state_ == ProgressState::kSnapshot) {
    next_ = std::max(match_ + 1, pending_snapshot_ + 1);
  } else {
    next_ = match_ + 1;
  }
  state_ = ProgressState::kProbe;
  probe_sent_ = false;
  pending_snapshot_ = 0;
  inflights_.Reset();
}

void Progress::BecomeReplicate() {
  state_ = ProgressState::kReplicate;
  next_ = match_ + 1;
  probe_sent_ = false;
  pending_snapshot_ = 0;
  inflights_.Reset();
}

void Progress::BecomeSnapshot(Index snapshot_index) {
  state_ = ProgressState::kSnapshot;
  probe_sent_ = false;
  pending_snapshot_ = snapshot_index;
  inflights_.Reset();
}

bool Progress::MaybeUpdate(Index index) {
  bool updated = false;
  if (index > match_) {
    match_ = index;
    updated = true;
    probe_sent_ = false;
  }
  next_ = std::max(next_, index + 1);
  if (state_ == ProgressState::kReplicate) inflights_.FreeLE(index);
  return updated;
}

void Progress::SentEntries(Index last_index, size_t entry_count) {
  if (state_ == ProgressState::kReplicate) {
    if (entry_count > 0) {
      next_ = last_index + 1;
      inflights_.Add(last_index);
    }
  } else if (state_ == ProgressState::kProbe) {
    probe_sent_ = true;
  }
}

bool Progress::MaybeDecreaseTo(Index rejected, Index hint) {
  if (state_ == ProgressState::kReplicate) {
    // Only a rejection of something beyond the known match is news.
    if (rejected <= match_) return false;
    next_ = match_ + 1;
    return true;
  }
  // In probe the only live rejection is of the one append sent (after next-1).
  if (next_ == 0 || next_ - 1 != rejected) return false;
  next_ = std::max<Index>(std::min(rejected, hint + 1), match_ + 1);
  probe_sent_ = false;
  return true;
}

void Progress::OnHeartbeatResponse() {
  probe_sent_ = false;
  if (state_ == ProgressState::kReplicate && inflights_.Full()) inflights_.FreeFirstOne();
}

bool Progress::IsPaused() const {
  switch (state_) {
    case ProgressState::kProbe:
      return probe_sent_;
    case ProgressState::kReplicate:
      return inflights_.Full();
    case ProgressState::kSnapshot:
      return true;
  }
  return true;
}

}  // namespace phantom::raft
