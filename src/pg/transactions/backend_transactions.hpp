// Which distributed transaction each backend of this node works for, in
// shared memory, so that other processes can see it: the maintenance worker
// maps lock waits to distributed transactions (deadlock detection) and marks
// victims, and phantom_dist_transactions lists what is in flight.
//
// A coordinator's backend gets an id when its transaction opens its first
// remote transaction; the remote backends on the participants join the same
// id (phantomdb.join_transaction, sent with the remote BEGIN). Slots are
// cleared when the local transaction ends.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "core/metadata/command.hpp"

namespace phantom::pg::backend_transactions {

struct DistributedId {
  uint32_t node = 0;     // the coordinator node
  uint64_t number = 0;   // that node's counter (not durable: unique while it runs)
  int64_t start_us = 0;  // when the coordinator's transaction started (Unix microseconds)
};

enum class State : uint8_t {
  kNone,        // no distributed transaction
  kRunning,     // statements are running
  kPreparing,   // PREPARE TRANSACTION on the participants
  kCommitting,  // committed here; COMMIT PREPARED on the participants
  kAborting,    // rolling back on the participants
};
const char* StateName(State state);

struct Snapshot {
  int pid = 0;
  DistributedId id;
  State state = State::kNone;
  bool coordinator = false;  // this node started it (else: a participant's backend)
  uint64_t full_xid = 0;     // the coordinator's transaction id, once assigned (0 before)
  std::vector<metadata::NodeId> participants;
};

// This backend's id, assigning one (this node coordinating) on first use in
// the current transaction.
DistributedId Coordinate(metadata::NodeId local_node);
// This backend works for another node's distributed transaction.
void Join(const DistributedId& id);
void SetState(State state);
// The transaction opened a remote transaction on node.
void AddParticipant(metadata::NodeId node);
void SetCommitting(uint64_t full_xid, const std::vector<metadata::NodeId>& participants);
// Ends this backend's part (at the local transaction's end).
void Clear() noexcept;

// Every backend's slot with a distributed transaction.
std::vector<Snapshot> All();
// The slot of a backend, if it is in a distributed transaction.
std::optional<Snapshot> OfPid(int pid);

// Marks the coordinator backend of id as a deadlock victim and cancels its
// statement; false when no backend runs id any more.
bool CancelAsDeadlockVictim(const DistributedId& id);
// Whether this backend's transaction was cancelled as a deadlock victim.
bool IsDeadlockVictim() noexcept;
// This backend's distributed transaction id when it was cancelled as a
// deadlock victim (for the victim's error message; never throws).
std::optional<DistributedId> DeadlockVictimId() noexcept;

// Reserves the shared memory; from _PG_init.
void Register();

}  // namespace phantom::pg::backend_transactions
