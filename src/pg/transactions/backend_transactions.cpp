// Per-backend distributed transaction slots; see backend_transactions.hpp.
#include "pg/transactions/backend_transactions.hpp"

#include <csignal>

#include "pg/guard.hpp"
#include "pg/shared_memory.hpp"

extern "C" {
#include "access/twophase.h"
#include "access/xact.h"
#include "port/atomics.h"
#include "storage/proc.h"
#include "storage/procarray.h"
#include "storage/spin.h"
#include "utils/timestamp.h"
}

namespace phantom::pg::backend_transactions {

namespace {

constexpr int kMaxParticipants = 64;

struct Slot {
  slock_t mutex;
  int pid;
  DistributedId id;
  State state;
  bool coordinator;
  bool deadlock_victim;
  uint64_t full_xid;
  int participant_count;
  metadata::NodeId participants[kMaxParticipants];
};

struct Shared {
  pg_atomic_uint64 next_number;
  int slot_count;
  Slot slots[FLEXIBLE_ARRAY_MEMBER];
};

Shared* shared = nullptr;

// One slot per PGPROC, indexed by pgprocno.
int SlotCount() { return MaxBackends + NUM_AUXILIARY_PROCS + max_prepared_xacts; }

size_t Size() { return offsetof(Shared, slots) + sizeof(Slot) * static_cast<size_t>(SlotCount()); }

void Initialize(void* memory) {
  auto* state = static_cast<Shared*>(memory);
  pg_atomic_init_u64(&state->next_number, 1);
  state->slot_count = SlotCount();
  for (int i = 0; i < state->slot_count; i++) SpinLockInit(&state->slots[i].mutex);
}

Slot* Mine() {
  if (shared == nullptr || MyProc == nullptr || MyProc->pgprocno >= shared->slot_count) return nullptr;
  return &shared->slots[MyProc->pgprocno];
}

Snapshot Copy(const Slot& slot) {
  Snapshot snapshot;
  snapshot.pid = slot.pid;
  snapshot.id = slot.id;
  snapshot.state = slot.state;
  snapshot.coordinator = slot.coordinator;
  snapshot.full_xid = slot.full_xid;
  snapshot.participants.assign(slot.participants, slot.participants + slot.participant_count);
  return snapshot;
}

int64_t UnixMicroseconds(TimestampTz timestamp) {
  return static_cast<int64_t>(timestamp) +
         (static_cast<int64_t>(POSTGRES_EPOCH_JDATE) - UNIX_EPOCH_JDATE) * SECS_PER_DAY * USECS_PER_SEC;
}

// This backend's slot starts working for id.
void Start(Slot& slot, const DistributedId& id, bool coordinator) {
  SpinLockAcquire(&slot.mutex);
  slot.pid = MyProcPid;
  slot.id = id;
  slot.state = State::kRunning;
  slot.coordinator = coordinator;
  slot.deadlock_victim = false;
  slot.full_xid = 0;
  slot.participant_count = 0;
  SpinLockRelease(&slot.mutex);
}

}  // namespace

const char* StateName(State state) {
  switch (state) {
    case State::kNone:
      return "none";
    case State::kRunning:
      return "running";
    case State::kPreparing:
      return "preparing";
    case State::kCommitting:
      return "committing";
    case State::kAborting:
      return "aborting";
  }
  return "unknown";
}

DistributedId Coordinate(metadata::NodeId local_node) {
  Slot* slot = Mine();
  if (slot == nullptr) return {};
  if (slot->state != State::kNone) return slot->id;
  DistributedId id;
  id.node = local_node;
  id.number = pg_atomic_fetch_add_u64(&shared->next_number, 1);
  id.start_us = UnixMicroseconds(GetCurrentTransactionStartTimestamp());
  Start(*slot, id, true);
  return id;
}

void Join(const DistributedId& id) {
  Slot* slot = Mine();
  if (slot != nullptr) Start(*slot, id, false);
}

void SetState(State state) {
  Slot* slot = Mine();
  if (slot == nullptr || slot->state == State::kNone) return;
  SpinLockAcquire(&slot->mutex);
  slot->state = state;
  SpinLockRelease(&slot->mutex);
}

void AddParticipant(metadata::NodeId node) {
  Slot* slot = Mine();
  if (slot == nullptr || slot->state == State::kNone) return;
  SpinLockAcquire(&slot->mutex);
  bool known = false;
  for (int i = 0; i < slot->participant_count; i++) known = known || slot->participants[i] == node;
  if (!known && slot->participant_count < kMaxParticipants) slot->participants[slot->participant_count++] = node;
  SpinLockRelease(&slot->mutex);
}

void SetCommitting(uint64_t full_xid, const std::vector<metadata::NodeId>& participants) {
  Slot* slot = Mine();
  if (slot == nullptr || slot->state == State::kNone) return;
  SpinLockAcquire(&slot->mutex);
  slot->full_xid = full_xid;
  slot->participant_count = 0;
  for (metadata::NodeId node : participants)
    if (slot->participant_count < kMaxParticipants) slot->participants[slot->participant_count++] = node;
  SpinLockRelease(&slot->mutex);
}

void Clear() noexcept {
  Slot* slot = Mine();
  if (slot == nullptr || slot->state == State::kNone) return;
  SpinLockAcquire(&slot->mutex);
  slot->state = State::kNone;
  slot->deadlock_victim = false;
  slot->participant_count = 0;
  SpinLockRelease(&slot->mutex);
}

std::vector<Snapshot> All() {
  std::vector<Snapshot> result;
  if (shared == nullptr) return result;
  for (int i = 0; i < shared->slot_count; i++) {
    Slot& slot = shared->slots[i];
    SpinLockAcquire(&slot.mutex);
    const bool active = slot.state != State::kNone;
    Slot copy = slot;  // copied under the lock; converted outside it
    SpinLockRelease(&slot.mutex);
    if (active) result.push_back(Copy(copy));
  }
  return result;
}

std::optional<Snapshot> OfPid(int pid) {
  for (Snapshot& snapshot : All())
    if (snapshot.pid == pid) return snapshot;
  return std::nullopt;
}

bool CancelAsDeadlockVictim(const DistributedId& id) {
  if (shared == nullptr) return false;
  for (int i = 0; i < shared->slot_count; i++) {
    Slot& slot = shared->slots[i];
    SpinLockAcquire(&slot.mutex);
    const bool match =
        slot.state != State::kNone && slot.coordinator && slot.id.node == id.node && slot.id.number == id.number;
    int pid = 0;
    if (match) {
      slot.deadlock_victim = true;
      pid = slot.pid;
    }
    SpinLockRelease(&slot.mutex);
    // What pg_cancel_backend sends; the victim's error report is reworded
    // (deadlock_detector.cpp) because the slot is marked.
    if (match) return kill(pid, SIGINT) == 0;
  }
  return false;
}

bool IsDeadlockVictim() noexcept {
  Slot* slot = Mine();
  return slot != nullptr && slot->state != State::kNone && slot->deadlock_victim;
}

std::optional<DistributedId> DeadlockVictimId() noexcept {
  Slot* slot = Mine();
  if (slot == nullptr) return std::nullopt;
  SpinLockAcquire(&slot->mutex);
  const bool victim = slot->state != State::kNone && slot->deadlock_victim;
  const DistributedId id = slot->id;
  SpinLockRelease(&slot->mutex);
  if (!victim) return std::nullopt;
  return id;
}

void Register() {
  shared_memory::Add({"phantomdb backend transactions", Size, Initialize, reinterpret_cast<void**>(&shared)});
}

}  // namespace phantom::pg::backend_transactions
