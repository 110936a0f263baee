// The raft worker's shared memory; see raft_shared.hpp.
#include "pg/raft/raft_shared.hpp"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>

#include "core/common/error.hpp"
#include "pg/guard.hpp"
#include "pg/latch_nap.hpp"
#include "pg/settings.hpp"
#include "pg/shared_memory.hpp"

extern "C" {
#include "miscadmin.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/proc.h"
#include "storage/spin.h"
}

namespace phantom::pg::raft_shared {

namespace {

// A cluster lives in one database of a node; spare groups cover test
// databases created next to it.
constexpr int kGroups = 8;
// Large enough for a catalog snapshot of thousands of tables; a batch that
// does not fit is refused and resent by Raft.
constexpr uint32_t kInboxBytes = 2u << 20;
constexpr int kMaxPeers = 64;
constexpr int kOutcomes = 64;
constexpr uint32_t kRecordHeader = 1 + 4;

struct SharedPeer {
  int32_t node_id;
  bool voter;
  bool member;
  int64_t match;
  int64_t last_heard_us;
};

struct SharedStatus {
  bool running;
  int32_t node_id;
  char cluster_id[40];
  char role[16];
  int64_t term;
  int32_t leader;
  int64_t commit, applied, first_index, last_index, snapshot_index, leader_since_us;
  int peer_count;
  SharedPeer peers[kMaxPeers];
};

struct SharedOutcome {
  uint64_t proposal_id;
  int64_t index;
  char sqlstate[6];
  char message[256];
  char hint[256];
};

struct Group {
  slock_t mutex;
  Oid database;  // InvalidOid: free
  int owner_pid;
  Latch* latch;
  SharedStatus status;
  SharedOutcome outcomes[kOutcomes];
  uint32_t next_outcome;
  uint32_t used;
  uint8_t inbox[kInboxBytes];
};

struct Groups {
  slock_t mutex;  // guards claiming; each group's own mutex guards the rest
  Group group[kGroups];
};

Groups* groups = nullptr;

size_t Size() { return sizeof(Groups); }

void Initialize(void* memory) {
  auto* all = static_cast<Groups*>(memory);
  SpinLockInit(&all->mutex);
  for (Group& group : all->group) SpinLockInit(&group.mutex);
}

Group* Find(Oid database) {
  if (groups == nullptr || !OidIsValid(database)) return nullptr;
  for (Group& group : groups->group)
    if (group.database == database) return &group;
  return nullptr;
}

void Copy(char* target, size_t size, const std::string& value) {
  const size_t n = std::min(size - 1, value.size());
  memcpy(target, value.data(), n);
  target[n] = '\0';
}

}  // namespace

void Register() { shared_memory::Add({"phantomdb raft groups", Size, Initialize, reinterpret_cast<void**>(&groups)}); }

namespace {

// A group whose worker is gone without releasing it (killed, or ended by a
// FATAL error before its exit callback could run) is free.
bool Abandoned(const Group& group) {
  return OidIsValid(group.database) && group.owner_pid != 0 && kill(group.owner_pid, 0) != 0 && errno == ESRCH;
}

void ReleaseAtExit(int, Datum database) { Release(DatumGetObjectId(database)); }

}  // namespace

bool Claim(Oid database) {
  SpinLockAcquire(&groups->mutex);
  Group* free_group = nullptr;
  for (Group& group : groups->group) {
    if (group.database == database) free_group = &group;  // a previous incarnation's
  }
  for (Group& group : groups->group)
    if (free_group == nullptr && (!OidIsValid(group.database) || Abandoned(group))) free_group = &group;
  if (free_group != nullptr) {
    SpinLockAcquire(&free_group->mutex);
    free_group->database = database;
    free_group->owner_pid = MyProcPid;
    free_group->latch = MyLatch;
    free_group->used = 0;
    free_group->status = SharedStatus{};
    free_group->status.running = true;
    Copy(free_group->status.role, sizeof free_group->status.role, "none");
    SpinLockRelease(&free_group->mutex);
  }
  SpinLockRelease(&groups->mutex);
  if (free_group != nullptr) before_shmem_exit(ReleaseAtExit, ObjectIdGetDatum(database));
  return free_group != nullptr;
}

void Release(Oid database) noexcept {
  if (groups == nullptr) return;
  SpinLockAcquire(&groups->mutex);
  Group* group = Find(database);
  if (group != nullptr && group->owner_pid == MyProcPid) {
    SpinLockAcquire(&group->mutex);
    group->database = InvalidOid;
    group->owner_pid = 0;
    group->latch = nullptr;
    group->used = 0;
    group->status.running = false;
    SpinLockRelease(&group->mutex);
  }
  SpinLockRelease(&groups->mutex);
}

bool Push(Oid database, RecordKind kind, std::string_view payload) noexcept {
  Group* group = Find(database);
  if (group == nullptr) return false;
  const uint32_t length = static_cast<uint32_t>(payload.size());
  bool pushed = false;
  Latch* latch = nullptr;
  SpinLockAcquire(&group->mutex);
  // Checked again under the lock: the worker may have gone meanwhile.
  if (group->database == database && group->latch != nullptr && payload.size() <= kInboxBytes - kRecordHeader &&
      group->used + kRecordHeader + length <= kInboxBytes) {
    uint8_t* at = group->inbox + group->used;
    at[0] = static_cast<uint8_t>(kind);
    memcpy(at + 1, &length, 4);
    memcpy(at + kRecordHeader, payload.data(), length);
    group->used += kRecordHeader + length;
    latch = group->latch;
    pushed = true;
  }
  SpinLockRelease(&group->mutex);
  if (latch != nullptr) SetLatch(latch);
  return pushed;
}

std::vector<Record> Drain(Oid database) {
  Group* group = Find(database);
  std::string bytes;
  if (group == nullptr) return {};
  SpinLockAcquire(&group->mutex);
  // The copy out is the only work under the lock; decoding happens after.
  if (group->used > 0) {
    bytes.assign(reinterpret_cast<const char*>(group->inbox), group->used);
    group->used = 0;
  }
  SpinLockRelease(&group->mutex);
  std::vector<Record> records;
  size_t at = 0;
  while (at + kRecordHeader <= bytes.size()) {
    uint32_t length = 0;
    memcpy(&length, bytes.data() + at + 1, 4);
    records.push_back(
        {static_cast<RecordKind>(static_cast<uint8_t>(bytes[at])), bytes.substr(at + kRecordHeader, length)});
    at += kRecordHeader + length;
  }
  return records;
}

void PublishStatus(Oid database, const Status& status) {
  Group* group = Find(database);
  if (group == nullptr) return;
  SharedStatus shared{};
  shared.running = true;
  shared.node_id = status.node_id;
  Copy(shared.cluster_id, sizeof shared.cluster_id, status.cluster_id);
  Copy(shared.role, sizeof shared.role, status.role);
  shared.term = status.term;
  shared.leader = status.leader;
  shared.commit = status.commit;
  shared.applied = status.applied;
  shared.first_index = status.first_index;
  shared.last_index = status.last_index;
  shared.snapshot_index = status.snapshot_index;
  shared.leader_since_us = status.leader_since_us;
  shared.peer_count = static_cast<int>(std::min<size_t>(status.peers.size(), kMaxPeers));
  for (int i = 0; i < shared.peer_count; i++) {
    const PeerStatus& peer = status.peers[i];
    shared.peers[i] = SharedPeer{peer.node_id, peer.voter, peer.member, peer.match, peer.last_heard_us};
  }
  SpinLockAcquire(&group->mutex);
  group->status = shared;
  SpinLockRelease(&group->mutex);
}

Status ReadStatus(Oid database) {
  Status status;
  Group* group = Find(database);
  if (group == nullptr) return status;
  SharedStatus shared;
  SpinLockAcquire(&group->mutex);
  shared = group->status;
  const bool owned = group->database == database;
  SpinLockRelease(&group->mutex);
  if (!owned) return status;
  status.running = shared.running;
  status.node_id = shared.node_id;
  status.cluster_id = shared.cluster_id;
  status.role = shared.role;
  status.term = shared.term;
  status.leader = shared.leader;
  status.commit = shared.commit;
  status.applied = shared.applied;
  status.first_index = shared.first_index;
  status.last_index = shared.last_index;
  status.snapshot_index = shared.snapshot_index;
  status.leader_since_us = shared.leader_since_us;
  for (int i = 0; i < shared.peer_count; i++)
    status.peers.push_back({shared.peers[i].node_id, shared.peers[i].voter, shared.peers[i].member,
                            shared.peers[i].match, shared.peers[i].last_heard_us});
  return status;
}

Status RunningWorker() {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(node_timeout_ms);
  for (;;) {
    Status status = ReadStatus(MyDatabaseId);
    if (status.running) return status;
    if (std::chrono::steady_clock::now() >= deadline)
      throw Error(sqlstate::kObjectNotInPrerequisiteState, "the raft worker of this node is not running", "",
                  "It starts shortly after CREATE EXTENSION phantomdb and after a restart; check the server log if "
                  "it does not.");
    NapOnLatch(10);
  }
}

void PublishOutcome(Oid database, uint64_t proposal_id, int procno, const Outcome& outcome) noexcept {
  Group* group = Find(database);
  if (group == nullptr) return;
  SharedOutcome shared{};
  shared.proposal_id = proposal_id;
  shared.index = outcome.index;
  try {
    Copy(shared.sqlstate, sizeof shared.sqlstate, outcome.sqlstate);
    Copy(shared.message, sizeof shared.message, outcome.message);
    Copy(shared.hint, sizeof shared.hint, outcome.hint);
  } catch (...) {
  }
  SpinLockAcquire(&group->mutex);
  group->outcomes[group->next_outcome % kOutcomes] = shared;
  group->next_outcome++;
  SpinLockRelease(&group->mutex);
  if (procno >= 0 && static_cast<uint32>(procno) < ProcGlobal->allProcCount)
    SetLatch(&ProcGlobal->allProcs[procno].procLatch);
}

std::optional<Outcome> FindOutcome(Oid database, uint64_t proposal_id) {
  Group* group = Find(database);
  if (group == nullptr) return std::nullopt;
  SharedOutcome found{};
  bool present = false;
  SpinLockAcquire(&group->mutex);
  for (const SharedOutcome& outcome : group->outcomes)
    if (outcome.proposal_id == proposal_id && proposal_id != 0) {
      found = outcome;
      present = true;
    }
  SpinLockRelease(&group->mutex);
  if (!present) return std::nullopt;
  return Outcome{found.index, found.sqlstate, found.message, found.hint};
}

}  // namespace phantom::pg::raft_shared
