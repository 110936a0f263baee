// What the raft worker of a database shares with that database's backends:
// an inbox the backends (and peers, through phantomdb.raft_deliver) write
// into and only the worker reads, the worker's published status, and the
// outcomes of proposals made on this node. One group per database running a
// raft worker; a fixed number of them, since shared memory is sized at start.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pg/postgres.hpp"

namespace phantom::pg::raft_shared {

enum class RecordKind : uint8_t {
  kMessages = 1,   // a batch of Raft messages from a peer (raft::EncodeMessages)
  kProposal = 2,   // a metadata::Proposal to propose (see ProposalRecord)
  kTransfer = 3,   // phantom_raft_transfer_leadership: 4-byte target node id
  kBootstrap = 4,  // found a cluster: the identity (IdentityRecord) of its first node
  kJoin = 5,       // join a cluster as IdentityRecord says
  kLeave = 6,      // this node was removed from its cluster
};

struct Record {
  RecordKind kind;
  std::string payload;
};

// The worker's view of one peer (or of itself), for phantom_raft_status and
// phantom_nodes.
struct PeerStatus {
  int32_t node_id = 0;
  bool voter = false;
  bool member = false;        // in the Raft group (voter or learner), not only in the catalog
  int64_t match = 0;          // the leader's view of its log; 0 on followers
  int64_t last_heard_us = 0;  // last message from it, Unix microseconds; 0 = never
};

struct Status {
  bool running = false;
  int32_t node_id = 0;  // 0: not in a cluster
  std::string cluster_id;
  std::string role;  // "leader", "follower", "candidate", "pre-candidate", "none"
  int64_t term = 0;
  int32_t leader = 0;
  int64_t commit = 0;
  int64_t applied = 0;
  int64_t first_index = 0;  // the oldest entry still in the log
  int64_t last_index = 0;
  int64_t snapshot_index = 0;
  int64_t leader_since_us = 0;  // when this node last became leader
  std::vector<PeerStatus> peers;
};

struct Outcome {
  int64_t index = 0;     // the log index it was applied at; 0 when refused before the log
  std::string sqlstate;  // empty: applied
  std::string message;
  std::string hint;
};

// Sizes the segment; from _PG_init.
void Register();

// Called by the worker when it starts and stops; Claim returns false when
// every group is taken (it then retries later).
bool Claim(Oid database);
void Release(Oid database) noexcept;

// Appends a record to database's inbox and wakes its worker. False when no
// worker runs for database or the inbox is full: the sender retries (Raft
// messages may simply be lost).
bool Push(Oid database, RecordKind kind, std::string_view payload) noexcept;
// The worker's side: everything queued so far, oldest first.
std::vector<Record> Drain(Oid database);

void PublishStatus(Oid database, const Status& status);
// The status of this database's worker, waiting up to
// phantomdb.node_timeout_ms for it to start (just after CREATE EXTENSION or
// a restart); throws phantom::Error (55000) when it does not.
Status RunningWorker();
// The status of database's worker; running is false when none runs.
Status ReadStatus(Oid database);

// The worker records the outcome of a proposal made on this node and wakes
// the backend that made it (procno < 0: none waits).
void PublishOutcome(Oid database, uint64_t proposal_id, int procno, const Outcome& outcome) noexcept;
std::optional<Outcome> FindOutcome(Oid database, uint64_t proposal_id);

}  // namespace phantom::pg::raft_shared
