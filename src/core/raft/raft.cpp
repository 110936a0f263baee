#include "core/raft/raft.hpp"

#include <algorithm>
#include <span>
#include <utility>

#include "core/common/error.hpp"
#include "core/raft/message_codec.hpp"
#include "core/raft/quorum.hpp"
#include "core/common/pure.hpp"

namespace phantom::raft {

namespace {

// Marks vote requests caused by a leader transfer, which must win even where
// voters still believe in the current leader's lease.
constexpr const char* kTransferContext = "transfer";

// The fewest messages a Ready's vector starts with room for.
constexpr size_t kMinMessagesCapacity = 4;

void InsertSorted(std::vector<NodeId>& ids, NodeId id) {
  const auto it = std::lower_bound(ids.begin(), ids.end(), id);
  if (it == ids.end() || *it != id) ids.insert(it, id);
}

void EraseId(std::vector<NodeId>& ids, NodeId id) { ids.erase(std::remove(ids.begin(), ids.end(), id), ids.end()); }

bool Contains(const std::vector<NodeId>& ids, NodeId id) { return std::find(ids.begin(), ids.end(), id) != ids.end(); }

}  // namespace

Raft::Raft(const Config& config)
    : id_(config.id),
      election_tick_(config.election_tick),
      heartbeat_tick_(config.heartbeat_tick),
      max_inflight_(config.max_inflight_messages),
      max_bytes_(config.max_bytes_per_message),
      pre_vote_(config.pre_vote),
      check_quorum_(config.check_quorum),
      rng_state_(config.seed ^ (config.id * 0x9E3779B97F4A7C15ull)),
      log_(config.storage, config.applied) {
  if (id_ == kNoNode) throw Error(sqlstate::kInvalidParameterValue, "raft node id must not be 0");
  if (heartbeat_tick_ <= 0 || election_tick_ <= heartbeat_tick_) {
    throw Error(sqlstate::kInvalidParameterValue,
                "raft election_tick must exceed heartbeat_tick, which must be positive");
  }
  if (max_inflight_ == 0) throw Error(sqlstate::kInvalidParameterValue, "raft max_inflight_messages must be positive");
  const PersistedState state = config.storage->InitialState();
  RestoreMembership(state.conf_state);
  term_ = state.hard_state.term;
  vote_ = state.hard_state.vote;
  prev_hard_state_ = CurrentHardState();
  BecomeFollower(term_, kNoNode);
  prev_soft_state_ = CurrentSoftState();
}

// ---- randomness and timers -------------------------------------------------

uint64_t Raft::NextRandom() {
  // splitmix64: tiny, and identical on every platform.
  uint64_t z = (rng_state_ += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

void Raft::ResetRandomizedElectionTimeout() {
  randomized_election_timeout_ =
      election_tick_ + static_cast<int>(NextRandom() % static_cast<uint64_t>(election_tick_));
}

void Raft::Tick() {
  if (role_ != Role::kLeader) {
    ++election_elapsed_;
    if (Promotable() && election_elapsed_ >= randomized_election_timeout_) {
      election_elapsed_ = 0;
      Hup(false);
    }
    return;
  }
  ++heartbeat_elapsed_;
  ++election_elapsed_;
  if (election_elapsed_ >= election_tick_) {
    election_elapsed_ = 0;
    if (check_quorum_) {
      const bool active = QuorumActive(Voters(), [&](NodeId peer) {
        const auto it = prs_.find(peer);
        return peer == id_ || (it != prs_.end() && it->second.RecentActive());
      });
      for (auto& [peer, pr] : prs_) pr.SetRecentActive(peer == id_);
      if (!active) {
        BecomeFollower(term_, kNoNode);
        return;
      }
    }
    // A transfer that did not finish within an election timeout is abandoned.
    AbortLeaderTransfer();
  }
  if (heartbeat_elapsed_ >= heartbeat_tick_) {
    heartbeat_elapsed_ = 0;
    BroadcastHeartbeat(pending_reads_.empty() ? std::string() : pending_reads_.back().context);
  }
}

// ---- roles -----------------------------------------------------------------

void Raft::Reset(Term term) {
  if (term != term_) {
    term_ = term;
    vote_ = kNoNode;
  }
  lead_ = kNoNode;
  election_elapsed_ = 0;
  heartbeat_elapsed_ = 0;
  ResetRandomizedElectionTimeout();
  AbortLeaderTransfer();
  votes_.clear();
  for (auto& [peer, pr] : prs_) {
    const bool learner = pr.IsLearner();
    pr = Progress(log_.LastIndex() + 1, max_inflight_, learner);
    if (peer == id_) pr.MaybeUpdate(log_.LastIndex());
  }
  pending_conf_index_ = 0;
  pending_reads_.clear();
  reads_before_commit_.clear();
  // Appends owed by a former leadership must not go out under this one.
  append_pending_ = false;
  commit_pending_ = false;
}

void Raft::BecomeFollower(Term term, NodeId leader) {
  Reset(term);
  role_ = Role::kFollower;
  lead_ = leader;
}

void Raft::BecomeCandidate() {
  Reset(term_ + 1);
  role_ = Role::kCandidate;
  vote_ = id_;
}

void Raft::BecomePreCandidate() {
  // The term stays: a pre-candidate that loses has disturbed nobody.
  votes_.clear();
  lead_ = kNoNode;
  role_ = Role::kPreCandidate;
}

void Raft::BecomeLeader() {
  Reset(term_);
  role_ = Role::kLeader;
  lead_ = id_;
  prs_.at(id_).SetRecentActive(true);
  // Everything not yet applied may hold a conf change; be conservative.
  pending_conf_index_ = log_.LastIndex();
  // An entry of the new term lets earlier entries commit (and reads proceed).
  AppendEntry(Entry{});
  append_pending_ = true;
}

bool Raft::Promotable() const { return Contains(conf_.voters, id_); }

bool Raft::HasUnappliedConfChange() const {
  if (log_.Committed() <= log_.Applied()) return false;
  try {
    for (const Entry& entry : log_.Slice(log_.Applied() + 1, log_.Committed() + 1, kNoLimit)) {
      if (entry.type == EntryType::kConfChange) return true;
    }
  } catch (const StorageError&) {
    return true;  // cannot tell: do not risk campaigning under the wrong membership
  }
  return false;
}

void Raft::Hup(bool transfer) {
  if (role_ == Role::kLeader || !Promotable()) return;
  // Until a committed conf change is applied this node may count votes wrongly.
  if (HasUnappliedConfChange()) return;
  StartElection(pre_vote_ && !transfer, transfer);
}

void Raft::StartElection(bool pre_vote, bool transfer) {
  Term vote_term = 0;
  MessageType type = MessageType::kVote;
  if (pre_vote) {
    BecomePreCandidate();
    vote_term = term_ + 1;
    type = MessageType::kPreVote;
  } else {
    BecomeCandidate();
    vote_term = term_;
  }
  votes_[id_] = true;
  if (TallyVotes(Voters(), votes_) == VoteResult::kWon) {
    if (pre_vote) {
      StartElection(false, transfer);
    } else {
      BecomeLeader();
    }
    return;
  }
  for (NodeId voter : conf_.voters) {
    if (voter == id_) continue;
    Message m;
    m.type = type;
    m.to = voter;
    m.term = vote_term;
    m.index = log_.LastIndex();
    m.log_term = log_.LastTerm();
    if (transfer) m.context = kTransferContext;
    Send(std::move(m));
  }
}

void Raft::Campaign() { Hup(false); }

// ---- messages --------------------------------------------------------------

void Raft::Send(Message message) {
  message.from = id_;
  // Votes carry their own (possibly future) term; everything else the current one.
  if (message.type != MessageType::kVote && message.type != MessageType::kPreVote &&
      message.type != MessageType::kPreVoteResponse) {
    message.term = term_;
  }
  Enqueue(std::move(message));
}

void Raft::Forward(Message message) {
  // Keeps `from`: the leader answers (or transfers to) the original requester.
  message.term = term_;
  Enqueue(std::move(message));
}

void Raft::Enqueue(Message&& message) {
  // GetReady hands the vector over with the Ready, so each Ready's messages
  // need a fresh one; sizing it like the last Ready's avoids regrowing it (and
  // moving every Message) while it fills.
  if (msgs_.capacity() == 0) msgs_.reserve(msgs_capacity_hint_);
  msgs_.push_back(std::move(message));
}

// Response fields: kAppendResponse.index is the follower's last matching index
// (or, when reject, the rejected prev index, with reject_hint/hint_term); a
// kHeartbeatResponse echoes the heartbeat's context; kReadIndexResponse
// carries the read's index and context; vote responses only term and reject.
void Raft::Step(const Message& m) {
  if (m.term > term_) {
    if (m.type == MessageType::kVote || m.type == MessageType::kPreVote) {
      const bool forced = m.context == kTransferContext;
      const bool in_lease =
          (check_quorum_ || m.type == MessageType::kPreVote) && lead_ != kNoNode && election_elapsed_ < election_tick_;
      // A node that heard from a leader recently keeps it: a partitioned node
      // rejoining must not depose a healthy leader.
      if (!forced && in_lease) return;
    }
    if (m.type == MessageType::kPreVote) {
      // Answering a pre-vote never changes the term.
    } else if (m.type == MessageType::kPreVoteResponse && !m.reject) {
      // Granted pre-votes carry the future term; the election itself bumps it.
    } else if (m.type == MessageType::kAppend || m.type == MessageType::kHeartbeat ||
               m.type == MessageType::kSnapshot) {
      BecomeFollower(m.term, m.from);
    } else {
      BecomeFollower(m.term, kNoNode);
    }
  } else if (m.term < term_) {
    if ((check_quorum_ || pre_vote_) && (m.type == MessageType::kAppend || m.type == MessageType::kHeartbeat)) {
      // A deposed leader cut off from the rest learns the new term from here;
      // without this it would keep disrupting with stale appends.
      Message resp;
      resp.type = MessageType::kAppendResponse;
      resp.to = m.from;
      Send(std::move(resp));
    } else if (m.type == MessageType::kPreVote) {
      Message resp;
      resp.type = MessageType::kPreVoteResponse;
      resp.to = m.from;
      resp.term = term_;
      resp.reject = true;
      Send(std::move(resp));
    }
    return;
  }

  if (m.type == MessageType::kVote || m.type == MessageType::kPreVote) {
    HandleVoteRequest(m);
    return;
  }
  switch (role_) {
    case Role::kLeader:
      StepLeader(m);
      break;
    case Role::kCandidate:
    case Role::kPreCandidate:
      StepCandidate(m);
      break;
    case Role::kFollower:
      StepFollower(m);
      break;
  }
}

void Raft::HandleVoteRequest(const Message& m) {
  const bool pre = m.type == MessageType::kPreVote;
  const bool can_vote = vote_ == m.from || (vote_ == kNoNode && lead_ == kNoNode) || (pre && m.term > term_);
  Message resp;
  resp.type = pre ? MessageType::kPreVoteResponse : MessageType::kVoteResponse;
  resp.to = m.from;
  if (can_vote && log_.IsUpToDate(m.index, m.log_term)) {
    // A granted pre-vote carries the term the candidate will run in, so it is not discarded as stale.
    resp.term = m.term;
    if (!pre) {
      election_elapsed_ = 0;
      vote_ = m.from;
    }
  } else {
    resp.term = term_;
    resp.reject = true;
  }
  Send(std::move(resp));
}

void Raft::StepFollower(const Message& m) {
  switch (m.type) {
    case MessageType::kPropose:
    case MessageType::kTransferLeader:
    case MessageType::kReadIndex:
      if (lead_ != kNoNode) {
        Message fwd = m;
        fwd.to = lead_;
        Forward(std::move(fwd));
      }
      break;
    case MessageType::kAppend:
      election_elapsed_ = 0;
      lead_ = m.from;
      HandleAppend(m);
      break;
    case MessageType::kHeartbeat:
      election_elapsed_ = 0;
      lead_ = m.from;
      HandleHeartbeat(m);
      break;
    case MessageType::kSnapshot:
      election_elapsed_ = 0;
      lead_ = m.from;
      HandleSnapshot(m);
      break;
    case MessageType::kTimeoutNow:
      Hup(true);
      break;
    case MessageType::kReadIndexResponse:
      read_states_.push_back(ReadState{m.index, m.context});
      break;
    default:
      break;
  }
}

void Raft::StepCandidate(const Message& m) {
  const MessageType wanted = role_ == Role::kPreCandidate ? MessageType::kPreVoteResponse : MessageType::kVoteResponse;
  switch (m.type) {
    case MessageType::kAppend:
      BecomeFollower(m.term, m.from);
      HandleAppend(m);
      break;
    case MessageType::kHeartbeat:
      BecomeFollower(m.term, m.from);
      HandleHeartbeat(m);
      break;
    case MessageType::kSnapshot:
      BecomeFollower(m.term, m.from);
      HandleSnapshot(m);
      break;
    default:
      if (m.type != wanted) break;
      votes_.emplace(m.from, !m.reject);
      switch (TallyVotes(Voters(), votes_)) {
        case VoteResult::kWon:
          if (role_ == Role::kPreCandidate) {
            StartElection(false, false);
          } else {
            BecomeLeader();
          }
          break;
        case VoteResult::kLost:
          BecomeFollower(term_, kNoNode);
          break;
        case VoteResult::kPending:
          break;
      }
      break;
  }
}

void Raft::HandleAppend(const Message& m) {
  Message resp;
  resp.type = MessageType::kAppendResponse;
  resp.to = m.from;
  if (m.index < log_.Committed()) {
    resp.index = log_.Committed();
    Send(std::move(resp));
    return;
  }
  // Entries at or below our commit are already known to match and are
  // left as they are.
  if (const auto last = log_.MaybeAppend(m.index, m.log_term, m.commit, m.entries)) {
    resp.index = *last;
    Send(std::move(resp));
    return;
  }
  // Suggest where the leader should retry: the last index whose term is no
  // larger than the leader's term at m.index, skipping a whole term per round.
  const auto [hint_index, hint_term] = log_.FindConflictByTerm(std::min(m.index, log_.LastIndex()), m.log_term);
  resp.index = m.index;
  resp.reject = true;
  resp.reject_hint = hint_index;
  resp.hint_term = hint_term;
  Send(std::move(resp));
}

void Raft::HandleHeartbeat(const Message& m) {
  log_.CommitTo(std::min(m.commit, log_.LastIndex()));
  Message resp;
  resp.type = MessageType::kHeartbeatResponse;
  resp.to = m.from;
  resp.context = m.context;
  Send(std::move(resp));
}

void Raft::HandleSnapshot(const Message& m) {
  const SnapshotMeta& meta = m.snapshot.meta;
  Message resp;
  resp.type = MessageType::kAppendResponse;
  resp.to = m.from;
  if (meta.index <= log_.Committed()) {
    resp.index = log_.Committed();
  } else if (log_.MatchTerm(meta.index, meta.term)) {
    // We already hold the snapshot's entries; committing them is enough.
    log_.CommitTo(meta.index);
    resp.index = log_.LastIndex();
  } else {
    log_.Restore(m.snapshot);
    RestoreMembership(meta.conf);
    resp.index = log_.LastIndex();
  }
  Send(std::move(resp));
}

// ---- leader ----------------------------------------------------------------

void Raft::StepLeader(const Message& m) {
  switch (m.type) {
    case MessageType::kPropose: {
      if (m.entries.empty()) break;
      ProposeEntry(m.entries.front());
      break;
    }
    case MessageType::kReadIndex:
      HandleReadIndexOnLeader(m);
      break;
    case MessageType::kTransferLeader:
      HandleTransferLeader(m.from);
      break;
    case MessageType::kAppendResponse:
    case MessageType::kHeartbeatResponse: {
      const auto it = prs_.find(m.from);
      if (it == prs_.end()) break;
      it->second.SetRecentActive(true);
      if (m.type == MessageType::kAppendResponse) {
        HandleAppendResponse(m, it->second);
      } else {
        HandleHeartbeatResponse(m, it->second);
      }
      break;
    }
    default:
      break;
  }
}

std::string Raft::ProposeEntry(Entry entry) {
  if (lead_transferee_ != kNoNode) return "raft leadership transfer is in progress";
  if (entry.type == EntryType::kConfChange) {
    if (pending_conf_index_ > log_.Applied()) return "raft has a membership change that is not yet applied";
    ConfChange change;
    try {
      change = DecodeConfChange(entry.data.view());
    } catch (const Error&) {
      return "raft conf change entry is malformed";
    }
    std::vector<NodeId> voters = conf_.voters;
    if (change.type != ConfChangeType::kAddVoter) EraseId(voters, change.node);
    if (voters.empty()) return "raft membership change would leave no voter";
    pending_conf_index_ = log_.LastIndex() + 1;
  }
  AppendEntry(std::move(entry));
  // Sent with the next Ready, together with every other proposal made until
  // then: one append per follower per Ready rather than per proposal.
  append_pending_ = true;
  return {};
}

bool Raft::AppendEntry(Entry entry) {
  entry.term = term_;
  entry.index = log_.LastIndex() + 1;
  log_.Append(std::span<const Entry>(&entry, 1));
  prs_.at(id_).MaybeUpdate(entry.index);
  // A single voter commits by itself.
  return MaybeCommit();
}

bool Raft::MaybeCommit() {
  const Index quorum_index = QuorumCommittedIndex(Voters(), [&](NodeId peer) {
    const auto it = prs_.find(peer);
    return it == prs_.end() ? Index{0} : it->second.Match();
  });
  // Only an entry of this term commits by counting (dissertation 3.6.2, Figure 8).
  if (!log_.MaybeCommit(quorum_index, term_)) return false;
  if (!reads_before_commit_.empty() && CommittedEntryInCurrentTerm()) {
    // First commit of this term: deferred reads can now be served.
    std::vector<Message> deferred;
    deferred.swap(reads_before_commit_);
    for (const Message& read : deferred) HandleReadIndexOnLeader(read);
  }
  return true;
}

bool Raft::CommittedEntryInCurrentTerm() const { return log_.TermAt(log_.Committed()).value_or(0) == term_; }

bool Raft::SendAppend(NodeId to, bool send_if_empty) {
  const auto it = prs_.find(to);
  if (it == prs_.end() || to == id_) return false;
  Progress& pr = it->second;
  if (pr.IsPaused()) return false;

  const Index prev_index = pr.Next() - 1;
  const auto prev_term = log_.TermAt(prev_index);
  std::vector<Entry> entries;
  bool compacted = !prev_term.has_value();
  if (!compacted) {
    try {
      entries = log_.EntriesFrom(pr.Next(), max_bytes_);
    } catch (const StorageError&) {
      compacted = true;
    }
  }
  if (compacted) {
    // The peer needs entries we no longer have: ship the snapshot instead.
    Snapshot snapshot = log_.CurrentSnapshot();
    if (snapshot.Empty()) return false;
    Message m;
    m.type = MessageType::kSnapshot;
    m.to = to;
    pr.BecomeSnapshot(snapshot.meta.index);
    m.snapshot = std::move(snapshot);
    Send(std::move(m));
    return true;
  }
  if (entries.empty() && !send_if_empty) return false;
  Message m;
  m.type = MessageType::kAppend;
  m.to = to;
  m.index = prev_index;
  m.log_term = *prev_term;
  m.commit = log_.Committed();
  pr.SetCommitSent(m.commit);
  const Index last = entries.empty() ? prev_index : entries.back().index;
  const size_t count = entries.size();
  m.entries = std::move(entries);
  pr.SentEntries(last, count);
  Send(std::move(m));
  return true;
}

void Raft::FlushAppends() {
  if (!append_pending_ && !commit_pending_) return;
  const bool commit_moved = commit_pending_;
  append_pending_ = false;
  commit_pending_ = false;
  if (role_ != Role::kLeader) return;
  for (const auto& [peer, pr] : prs_) {
    if (peer == id_) continue;
    // A moved commit index is news even to a follower that has every entry,
    // unless an append since it moved (filling the window) already carried it.
    const bool send_if_empty = commit_moved && pr.CommitSent() < log_.Committed();
    // Then as many more as the byte limit per message and the inflight window
    // allow, instead of waiting a round trip for each max_bytes of backlog.
    if (SendAppend(peer, send_if_empty)) {
      while (SendAppend(peer, false)) {
      }
    }
  }
}

void Raft::BroadcastHeartbeat(const std::string& context) {
  for (const auto& [peer, pr] : prs_) {
    if (peer == id_) continue;
    Message m;
    m.type = MessageType::kHeartbeat;
    m.to = peer;
    // Never let a follower commit past what it is known to hold.
    m.commit = std::min(pr.Match(), log_.Committed());
    m.context = context;
    Send(std::move(m));
  }
}

void Raft::HandleAppendResponse(const Message& m, Progress& pr) {
  if (m.reject) {
    Index next_probe = m.reject_hint;
    if (m.hint_term > 0) next_probe = log_.FindConflictByTerm(m.reject_hint, m.hint_term).first;
    if (pr.MaybeDecreaseTo(m.index, next_probe)) {
      if (pr.State() == ProgressState::kReplicate) pr.BecomeProbe();
      SendAppend(m.from, true);
    }
    return;
  }
  const bool was_paused = pr.IsPaused();
  if (pr.MaybeUpdate(m.index)) {
    if (pr.State() == ProgressState::kProbe) {
      pr.BecomeReplicate();
    } else if (pr.State() == ProgressState::kSnapshot && pr.Match() >= pr.PendingSnapshot()) {
      pr.BecomeProbe();
      pr.BecomeReplicate();
    }
    if (MaybeCommit()) {
      commit_pending_ = true;
    } else if (was_paused) {
      SendAppend(m.from, true);
    }
    // Fill the inflight window.
    while (SendAppend(m.from, false)) {
    }
    if (m.from == lead_transferee_ && pr.Match() == log_.LastIndex()) {
      Message timeout;
      timeout.type = MessageType::kTimeoutNow;
      timeout.to = m.from;
      Send(std::move(timeout));
    }
  }
}

void Raft::HandleHeartbeatResponse(const Message& m, Progress& pr) {
  pr.OnHeartbeatResponse();
  if (pr.Match() < log_.LastIndex()) SendAppend(m.from, true);
  if (!m.context.empty()) ReleaseConfirmedReads(m.from, m.context);
}

void Raft::HandleTransferLeader(NodeId target) {
  const auto it = prs_.find(target);
  if (it == prs_.end() || it->second.IsLearner() || target == id_) return;
  if (lead_transferee_ == target) return;
  AbortLeaderTransfer();
  // The transfer has one election timeout to finish.
  election_elapsed_ = 0;
  lead_transferee_ = target;
  if (it->second.Match() == log_.LastIndex()) {
    Message timeout;
    timeout.type = MessageType::kTimeoutNow;
    timeout.to = target;
    Send(std::move(timeout));
  } else {
    SendAppend(target, true);
  }
}

void Raft::HandleReadIndexOnLeader(const Message& m) {
  if (Voters().size() == 1 && Promotable()) {
    AddReadState(m.from, log_.Committed(), m.context);
    return;
  }
  // Our commit index is only known to be current once an entry of this term committed.
  if (!CommittedEntryInCurrentTerm()) {
    reads_before_commit_.push_back(m);
    return;
  }
  PendingRead read;
  read.index = log_.Committed();
  read.context = m.context;
  read.from = m.from;
  read.acks.insert(id_);
  pending_reads_.push_back(std::move(read));
  BroadcastHeartbeat(m.context);
}

void Raft::ReleaseConfirmedReads(NodeId responder, const std::string& context) {
  const auto it = std::find_if(pending_reads_.begin(), pending_reads_.end(),
                               [&](const PendingRead& read) { return read.context == context; });
  if (it == pending_reads_.end()) return;
  it->acks.insert(responder);
  if (!QuorumActive(Voters(), [&](NodeId peer) { return it->acks.count(peer) > 0; })) return;
  // A quorum still followed us after this read was queued, and so after every
  // earlier one: all of them are confirmed.
  std::vector<PendingRead> done(std::make_move_iterator(pending_reads_.begin()), std::make_move_iterator(it + 1));
  pending_reads_.erase(pending_reads_.begin(), it + 1);
  for (PendingRead& read : done) AddReadState(read.from, read.index, std::move(read.context));
}

void Raft::AddReadState(NodeId requester, Index index, std::string context) {
  if (requester == kNoNode || requester == id_) {
    read_states_.push_back(ReadState{index, std::move(context)});
    return;
  }
  Message resp;
  resp.type = MessageType::kReadIndexResponse;
  resp.to = requester;
  resp.index = index;
  resp.context = std::move(context);
  Send(std::move(resp));
}

// ---- public proposals --------------------------------------------------------

void Raft::Propose(Payload data) {
  Entry entry;
  entry.data = std::move(data);
  ProposeOrForward(std::move(entry));
}

void Raft::ProposeConfChange(const ConfChange& change) {
  Entry entry;
  entry.type = EntryType::kConfChange;
  entry.data = EncodeConfChange(change);
  ProposeOrForward(std::move(entry));
}

// The leader appends (or says why not); a follower forwards to its leader.
void Raft::ProposeOrForward(Entry entry) {
  if (role_ == Role::kLeader) {
    const std::string why = ProposeEntry(std::move(entry));
    if (!why.empty()) throw Error(sqlstate::kObjectNotInPrerequisiteState, why);
    return;
  }
  if (lead_ == kNoNode) throw Error(sqlstate::kObjectNotInPrerequisiteState, "raft has no leader to propose to");
  Message m;
  m.type = MessageType::kPropose;
  m.to = lead_;
  m.entries.push_back(std::move(entry));
  Send(std::move(m));
}

void Raft::TransferLeadership(NodeId target) {
  if (role_ == Role::kLeader) {
    HandleTransferLeader(target);
  } else if (lead_ != kNoNode) {
    Message m;
    m.type = MessageType::kTransferLeader;
    m.from = target;  // the transferee rides in `from`, as the leader expects
    m.to = lead_;
    Forward(std::move(m));
  }
}

void Raft::ReadIndex(std::string context) {
  Message m;
  m.type = MessageType::kReadIndex;
  m.from = id_;
  m.context = std::move(context);
  if (role_ == Role::kLeader) {
    HandleReadIndexOnLeader(m);
    return;
  }
  if (lead_ == kNoNode) throw Error(sqlstate::kObjectNotInPrerequisiteState, "raft has no leader to read from");
  m.to = lead_;
  Send(std::move(m));
}

void Raft::ReportSnapshot(NodeId peer, bool delivered) {
  if (role_ != Role::kLeader) return;
  const auto it = prs_.find(peer);
  if (it == prs_.end() || it->second.State() != ProgressState::kSnapshot) return;
  // Either way probe next: after the snapshot when it arrived, else from the
  // last known match (which finds out again whether a snapshot is needed).
  if (!delivered) it->second.AbortSnapshot();
  it->second.BecomeProbe();
}

// ---- membership --------------------------------------------------------------

void Raft::RestoreMembership(const ConfState& conf) {
  conf_ = conf;
  std::sort(conf_.voters.begin(), conf_.voters.end());
  std::sort(conf_.learners.begin(), conf_.learners.end());
  prs_.clear();
  for (NodeId id : conf_.voters) prs_.emplace(id, Progress(log_.LastIndex() + 1, max_inflight_, false));
  for (NodeId id : conf_.learners) prs_.emplace(id, Progress(log_.LastIndex() + 1, max_inflight_, true));
  const auto self = prs_.find(id_);
  if (self != prs_.end()) self->second.MaybeUpdate(log_.LastIndex());
}

ConfState Raft::ApplyConfChange(const ConfChange& change) {
  const NodeId node = change.node;
  if (node == kNoNode) return conf_;
  EraseId(conf_.voters, node);
  EraseId(conf_.learners, node);
  switch (change.type) {
    case ConfChangeType::kAddVoter:
      InsertSorted(conf_.voters, node);
      break;
    case ConfChangeType::kAddLearner:
      InsertSorted(conf_.learners, node);
      break;
    case ConfChangeType::kRemoveNode:
      break;
  }
  if (change.type == ConfChangeType::kRemoveNode) {
    prs_.erase(node);
  } else {
    const bool learner = change.type == ConfChangeType::kAddLearner;
    auto it = prs_.find(node);
    if (it == prs_.end()) {
      it = prs_.emplace(node, Progress(log_.LastIndex() + 1, max_inflight_, learner)).first;
      if (node == id_) it->second.MaybeUpdate(log_.LastIndex());
    } else {
      it->second.SetLearner(learner);
    }
  }
  if (role_ != Role::kLeader) return conf_;
  if (!Promotable()) {
    // Removed or demoted leaders stop leading; the rest elect a successor.
    BecomeFollower(term_, kNoNode);
    return conf_;
  }
  if (lead_transferee_ != kNoNode && !Contains(conf_.voters, lead_transferee_)) AbortLeaderTransfer();
  // A smaller quorum may already agree on more.
  if (MaybeCommit()) {
    commit_pending_ = true;
  } else {
    for (const auto& [peer, pr] : prs_) {
      if (peer != id_) SendAppend(peer, false);
    }
  }
  return conf_;
}

// ---- ready -------------------------------------------------------------------

bool Raft::HasReady() const {
  return CurrentSoftState() != prev_soft_state_ || CurrentHardState() != prev_hard_state_ ||
         !log_.UnstableEntries().empty() || log_.UnstableSnapshot().has_value() || !msgs_.empty() || append_pending_ ||
         commit_pending_ || log_.HasNextCommittedEntries() || !read_states_.empty();
}

Ready Raft::GetReady() {
  FlushAppends();
  Ready ready;
  if (CurrentSoftState() != prev_soft_state_) {
    ready.soft_state = CurrentSoftState();
    prev_soft_state_ = CurrentSoftState();
  }
  if (CurrentHardState() != prev_hard_state_) {
    ready.hard_state = CurrentHardState();
    prev_hard_state_ = CurrentHardState();
  }
  ready.entries = log_.UnstableEntries();
  ready_last_entry_.reset();
  if (!ready.entries.empty()) ready_last_entry_ = std::make_pair(ready.entries.back().index, ready.entries.back().term);
  ready_snapshot_index_ = 0;
  if (log_.UnstableSnapshot()) {
    ready.snapshot = *log_.UnstableSnapshot();
    ready_snapshot_index_ = ready.snapshot.meta.index;
  }
  ready.committed_entries = log_.NextCommittedEntries();
  ready_last_committed_ = ready.committed_entries.empty() ? 0 : ready.committed_entries.back().index;
  ready.messages.swap(msgs_);
  msgs_capacity_hint_ = std::max(ready.messages.size(), kMinMessagesCapacity);
  ready.read_states.swap(read_states_);
  return ready;
}

void Raft::Advance() {
  if (ready_snapshot_index_ != 0) {
    log_.StableSnapshotTo(ready_snapshot_index_);
    log_.AppliedTo(std::max(ready_snapshot_index_, log_.Applied()));
  }
  if (ready_last_entry_) log_.StableTo(ready_last_entry_->first, ready_last_entry_->second);
  if (ready_last_committed_ != 0) log_.AppliedTo(std::max(ready_last_committed_, log_.Applied()));
  ready_last_entry_.reset();
  ready_snapshot_index_ = 0;
  ready_last_committed_ = 0;
}

RaftStatus Raft::Status() const {
  RaftStatus status;
  status.id = id_;
  status.role = role_;
  status.term = term_;
  status.leader = lead_;
  status.commit = log_.Committed();
  status.applied = log_.Applied();
  status.voters = conf_.voters;
  status.learners = conf_.learners;
  return status;
}

const Progress* Raft::PeerProgress(NodeId peer) const {
  const auto it = prs_.find(peer);
  return it == prs_.end() ? nullptr : &it->second;
}

}  // namespace phantom::raft
