// The Raft state machine: leader election (with optional pre-vote and
// check-quorum), log replication, single-step membership changes, ReadIndex,
// leader transfer and snapshots. Deterministic: no threads, clock or I/O; time
// advances only through Tick() and randomness comes from Config::seed.
//
// Driving contract (one node):
//   - Feed inputs: Tick() on a fixed interval, Step() for every message
//     received, and the Propose*/ReadIndex/TransferLeadership/Campaign calls.
//   - When HasReady(), take GetReady() and, in this order:
//       1. persist ready.snapshot (if not Empty(), first: it replaces the log),
//          ready.entries (appending them overwrites any conflicting stored
//          suffix) and ready.hard_state (if set) to stable storage, so that the
//          Storage passed in Config reflects them;
//       2. then send ready.messages (they may depend on what was persisted:
//          votes, acknowledgements of appended entries);
//       3. then apply ready.committed_entries in order; for a kConfChange
//          entry call ApplyConfChange(DecodeConfChange(entry.data.view()))
//          (message_codec.hpp) and persist the returned ConfState with the
//          next snapshot or storage update;
//       4. then call Advance(), exactly once per GetReady().
//   - Messages come out only through GetReady(), and the leader makes its
//     appends there: Propose() and acknowledgements merely note that followers
//     are owed entries or a new commit index, and GetReady() sends what is
//     owed first. So everything proposed between two GetReady() calls reaches
//     each follower in one append (several only past max_bytes_per_message,
//     up to the inflight window), and HasReady() is true while appends are
//     owed. Batching proposals is then a matter of calling GetReady() less
//     often; nothing else changes.
//   - A ReadState may be served once the applied index reaches its index.
//   - The transport reports the fate of each kSnapshot message through
//     ReportSnapshot(); until then the leader sends that peer nothing else.
//   - Proposals and reads may be dropped silently once they left this node
//     (forwarded to a leader that lost leadership, a transfer under way, a
//     conf change pending; a leader stepping down forgets pending reads):
//     retry on timeout.
// Storage is only read by Raft; the application writes it. A node joining an
// existing group starts with the group's current ConfState in its Storage
// (the initial membership is not in the log).
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/raft/progress.hpp"
#include "core/raft/raft_log.hpp"
#include "core/raft/storage.hpp"
#include "core/raft/types.hpp"

namespace phantom::raft {

struct Config {
  NodeId id = kNoNode;
  int election_tick = 10;  // followers campaign after [election_tick, 2*election_tick) ticks of silence
  int heartbeat_tick = 1;  // the leader heartbeats every heartbeat_tick ticks
  const Storage* storage = nullptr;
  size_t max_inflight_messages = 256;         // per follower in replicate state
  uint64_t max_bytes_per_message = 1u << 20;  // entry data per append (at least one entry goes)
  bool pre_vote = false;
  bool check_quorum = false;
  uint64_t seed = 0;
  Index applied = 0;  // the last index the application already applied (on restart)
};

enum class Role : uint8_t { kFollower, kCandidate, kPreCandidate, kLeader };

struct SoftState {
  NodeId leader = kNoNode;
  Role role = Role::kFollower;

  bool operator==(const SoftState&) const = default;
};

// A linearizable read point: serve the read with context once applied >= index.
struct ReadState {
  Index index = 0;
  std::string context;

  bool operator==(const ReadState&) const = default;
};

struct Ready {
  std::optional<SoftState> soft_state;  // set when leader or role changed; needs no persistence
  std::optional<HardState> hard_state;  // set when it changed
  std::vector<Entry> entries;           // to append to stable storage
  Snapshot snapshot;                    // to install, unless Empty()
  std::vector<Message> messages;
  std::vector<Entry> committed_entries;  // to apply
  std::vector<ReadState> read_states;
};

struct RaftStatus {
  NodeId id = kNoNode;
  Role role = Role::kFollower;
  Term term = 0;
  NodeId leader = kNoNode;
  Index commit = 0;
  Index applied = 0;
  std::vector<NodeId> voters;
  std::vector<NodeId> learners;
};

class Raft {
 public:
  // Restores term, vote, commit and membership from config.storage. Throws
  // phantom::Error (22023) on an invalid config.
  explicit Raft(const Config& config);

  void Tick();
  // Starts an election now (through pre-vote when enabled). Ignored by a
  // leader and by a node that is not a voter.
  void Campaign();
  // Appends on the leader, or forwards to the known leader. Throws
  // phantom::Error (55000) when there is no leader or a transfer is under way.
  // Converting a std::string (or literal) copies it once into the entry's
  // shared Payload; no later step copies the bytes again.
  void Propose(Payload data);
  // Like Propose; the leader also throws (55000) while an earlier conf change
  // is not yet applied, or when the change would leave no voter.
  void ProposeConfChange(const ConfChange& change);
  // Makes a committed conf change take effect; returns the new membership.
  ConfState ApplyConfChange(const ConfChange& change);
  // Any message from a peer; never throws for stale or unexpected messages.
  void Step(const Message& message);
  void TransferLeadership(NodeId target);
  // Requests a ReadState for context (contexts of outstanding reads must be
  // unique). Throws phantom::Error (55000) when there is no leader.
  void ReadIndex(std::string context);
  // The transport tells the leader whether a kSnapshot message reached `peer`.
  // Until it does, the leader sends that peer nothing else (a lost snapshot
  // would otherwise stall it forever).
  void ReportSnapshot(NodeId peer, bool delivered);

  bool HasReady() const;
  Ready GetReady();
  void Advance();

  RaftStatus Status() const;
  NodeId Id() const { return id_; }
  // For tests and diagnostics: the leader's view of a peer, if any.
  const Progress* PeerProgress(NodeId peer) const;

 private:
  struct PendingRead {
    Index index = 0;
    std::string context;
    NodeId from = kNoNode;
    std::set<NodeId> acks;
  };

  // Role changes.
  void Reset(Term term);
  void BecomeFollower(Term term, NodeId leader);
  void BecomeCandidate();
  void BecomePreCandidate();
  void BecomeLeader();
  void Hup(bool transfer);
  void StartElection(bool pre_vote, bool transfer);
  bool Promotable() const;
  bool HasUnappliedConfChange() const;
  uint64_t NextRandom();
  void ResetRandomizedElectionTimeout();

  // Message dispatch.
  void Send(Message message);
  void Forward(Message message);
  void Enqueue(Message&& message);
  void StepLeader(const Message& m);
  void StepCandidate(const Message& m);
  void StepFollower(const Message& m);
  void HandleVoteRequest(const Message& m);
  void HandleAppend(const Message& m);
  void HandleHeartbeat(const Message& m);
  void HandleSnapshot(const Message& m);
  void HandleAppendResponse(const Message& m, Progress& pr);
  void HandleHeartbeatResponse(const Message& m, Progress& pr);
  void HandleTransferLeader(NodeId target);
  void HandleReadIndexOnLeader(const Message& m);
  void ReleaseConfirmedReads(NodeId responder, const std::string& context);
  void AddReadState(NodeId requester, Index index, std::string context);

  // Leader replication.
  bool AppendEntry(Entry entry);
  bool SendAppend(NodeId to, bool send_if_empty);
  // Sends the appends that append_pending_ / commit_pending_ owe the followers.
  void FlushAppends();
  void BroadcastHeartbeat(const std::string& context);
  bool MaybeCommit();
  bool CommittedEntryInCurrentTerm() const;
  void AbortLeaderTransfer() { lead_transferee_ = kNoNode; }
  // Returns an empty string on success, else why the proposal was dropped.
  std::string ProposeEntry(Entry entry);
  void ProposeOrForward(Entry entry);

  void RestoreMembership(const ConfState& conf);
  const std::vector<NodeId>& Voters() const { return conf_.voters; }
  HardState CurrentHardState() const { return HardState{term_, vote_, log_.Committed()}; }
  SoftState CurrentSoftState() const { return SoftState{lead_, role_}; }

  NodeId id_;
  int election_tick_;
  int heartbeat_tick_;
  size_t max_inflight_;
  uint64_t max_bytes_;
  bool pre_vote_;
  bool check_quorum_;
  uint64_t rng_state_;

  Term term_ = 0;
  NodeId vote_ = kNoNode;
  RaftLog log_;
  Role role_ = Role::kFollower;
  NodeId lead_ = kNoNode;
  ConfState conf_;
  std::map<NodeId, Progress> prs_;
  std::map<NodeId, bool> votes_;
  std::vector<Message> msgs_;
  size_t msgs_capacity_hint_ = 0;  // what msgs_ reserves when it starts empty; see Enqueue
  // Appends the leader owes its followers, sent when the application next
  // collects a Ready (GetReady flushes them first): new entries to send, and
  // whether the commit index moved. Deferring them lets every proposal and
  // acknowledgement handled before that Ready share one message per follower.
  bool append_pending_ = false;
  bool commit_pending_ = false;

  int election_elapsed_ = 0;
  int heartbeat_elapsed_ = 0;
  int randomized_election_timeout_ = 0;
  NodeId lead_transferee_ = kNoNode;
  Index pending_conf_index_ = 0;

  std::vector<PendingRead> pending_reads_;    // confirmed in order by heartbeat quorums
  std::vector<Message> reads_before_commit_;  // deferred until an entry of this term commits
  std::vector<ReadState> read_states_;

  // What the last Ready handed out, so Advance() knows what became durable/applied.
  SoftState prev_soft_state_;
  HardState prev_hard_state_;
  std::optional<std::pair<Index, Term>> ready_last_entry_;
  Index ready_snapshot_index_ = 0;
  Index ready_last_committed_ = 0;
};

}  // namespace phantom::raft
