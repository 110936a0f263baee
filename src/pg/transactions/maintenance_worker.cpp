// The maintenance launcher and per-database workers; see maintenance_worker.hpp.
#include "pg/transactions/maintenance_worker.hpp"

#include <algorithm>
#include <csignal>
#include <string>
#include <vector>

#include "pg/guard.hpp"
#include "pg/raft/raft_worker.hpp"
#include "pg/shared_memory.hpp"

extern "C" {
#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/relscan.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/pg_database.h"
#include "commands/extension.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/proc.h"
#include "storage/spin.h"
#include "tcop/tcopprot.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"
}

namespace phantom::pg::maintenance_worker {

namespace {

constexpr int kMaxEntries = 256 * kWorkerKinds;
constexpr int kScanIntervalMs = 5000;
constexpr int kNoExtensionRetryMs = 60000;
constexpr int kStoppedForMs = 10000;
// RequestWorker runs before CREATE EXTENSION commits, and a worker may have
// looked for the extension just before: for this long after a request, a
// worker that finds none is started again soon rather than in a minute.
constexpr int kRequestGraceMs = 10000;
constexpr int kRequestedRetryMs = 1000;

struct Entry {
  Oid database;
  WorkerKind kind;
  int pid;                   // the worker's, 0 when none runs
  bool starting;             // registered, not yet running
  TimestampTz not_before;    // no worker before then (no extension, or stopped)
  TimestampTz requested_at;  // the last RequestWorker
};

struct Registry {
  slock_t mutex;
  Latch* launcher_latch;
  Entry entries[kMaxEntries];
  int count;
};

Registry* registry = nullptr;

std::vector<Duty>& Duties() {
  static std::vector<Duty> duties;
  return duties;
}

size_t Size() { return sizeof(Registry); }
void Initialize(void* memory) { SpinLockInit(&static_cast<Registry*>(memory)->mutex); }

// The entry of database's worker of kind, created if missing; call with the
// mutex held.
Entry* EntryFor(Oid database, WorkerKind kind) {
  for (int i = 0; i < registry->count; i++)
    if (registry->entries[i].database == database && registry->entries[i].kind == kind) return &registry->entries[i];
  if (registry->count == kMaxEntries) return nullptr;
  Entry* entry = &registry->entries[registry->count++];
  *entry = Entry{database, kind, 0, false, 0, 0};
  return entry;
}

// The raft worker, and the kinds some duty was registered for.
std::vector<WorkerKind> KindsInUse() {
  std::vector<WorkerKind> kinds{WorkerKind::kRaft};
  for (const Duty& duty : Duties())
    if (std::find(kinds.begin(), kinds.end(), duty.worker) == kinds.end()) kinds.push_back(duty.worker);
  return kinds;
}

const char* KindName(WorkerKind kind) {
  switch (kind) {
    case WorkerKind::kSaga:
      return "phantomdb saga worker";
    case WorkerKind::kRaft:
      return "phantomdb raft worker";
    case WorkerKind::kMaintenance:
      break;
  }
  return "phantomdb maintenance worker";
}

void WakeLauncher() {
  SpinLockAcquire(&registry->mutex);
  Latch* latch = registry->launcher_latch;
  SpinLockRelease(&registry->mutex);
  if (latch != nullptr) SetLatch(latch);
}

// --- launcher ---------------------------------------------------------------

std::vector<Oid> ConnectableDatabases() {
  std::vector<Oid> databases;
  StartTransactionCommand();
  (void)GetTransactionSnapshot();
  Relation relation = table_open(DatabaseRelationId, AccessShareLock);
  TableScanDesc scan = table_beginscan_catalog(relation, 0, nullptr);
  HeapTuple tuple;
  while ((tuple = heap_getnext(scan, ForwardScanDirection)) != nullptr) {
    auto* row = reinterpret_cast<Form_pg_database>(GETSTRUCT(tuple));
    // -2: a database left invalid by an interrupted DROP DATABASE.
    if (!row->datallowconn || row->datistemplate || row->datconnlimit == -2) continue;
    databases.push_back(row->oid);
  }
  table_endscan(scan);
  table_close(relation, AccessShareLock);
  CommitTransactionCommand();
  return databases;
}

void StartWorker(Oid database, WorkerKind kind) {
  BackgroundWorker worker = {};
  snprintf(worker.bgw_name, BGW_MAXLEN, "%s for database %u", KindName(kind), database);
  snprintf(worker.bgw_type, BGW_MAXLEN, "%s", KindName(kind));
  worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
  worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
  worker.bgw_restart_time = BGW_NEVER_RESTART;  // the launcher starts it again
  snprintf(worker.bgw_library_name, BGW_MAXLEN, "phantomdb");
  snprintf(worker.bgw_function_name, BGW_MAXLEN, "phantom_maintenance_worker_main");
  worker.bgw_main_arg = ObjectIdGetDatum(database);
  worker.bgw_extra[0] = static_cast<char>(kind);
  worker.bgw_notify_pid = MyProcPid;
  BackgroundWorkerHandle* handle = nullptr;
  const bool started = RegisterDynamicBackgroundWorker(&worker, &handle);
  SpinLockAcquire(&registry->mutex);
  Entry* entry = EntryFor(database, kind);
  if (entry != nullptr) {
    entry->starting = started;
    // No free worker slot: try again on a later scan.
    if (!started) entry->not_before = GetCurrentTimestamp() + kScanIntervalMs * 1000L;
  }
  SpinLockRelease(&registry->mutex);
}

void LaunchMissingWorkers() {
  const std::vector<Oid> databases = ConnectableDatabases();
  const TimestampTz now = GetCurrentTimestamp();
  std::vector<std::pair<Oid, WorkerKind>> to_start;
  SpinLockAcquire(&registry->mutex);
  // Forget databases that are gone.
  int kept = 0;
  for (int i = 0; i < registry->count; i++) {
    const Entry& entry = registry->entries[i];
    if (entry.pid != 0 || entry.starting ||
        std::find(databases.begin(), databases.end(), entry.database) != databases.end())
      registry->entries[kept++] = entry;
  }
  registry->count = kept;
  const std::vector<WorkerKind> kinds = KindsInUse();
  for (Oid database : databases) {
    for (WorkerKind kind : kinds) {
      Entry* entry = EntryFor(database, kind);
      if (entry != nullptr && entry->pid == 0 && !entry->starting && entry->not_before <= now) {
        entry->starting = true;
        to_start.emplace_back(database, kind);
      }
    }
  }
  SpinLockRelease(&registry->mutex);
  for (const auto& [database, kind] : to_start) StartWorker(database, kind);
}

// --- worker -----------------------------------------------------------------

Oid my_database = InvalidOid;
WorkerKind my_kind = WorkerKind::kMaintenance;

void ForgetWorker(int, Datum) {
  SpinLockAcquire(&registry->mutex);
  for (int i = 0; i < registry->count; i++) {
    Entry& entry = registry->entries[i];
    if (entry.database == my_database && entry.pid == MyProcPid) {
      entry.pid = 0;
      entry.starting = false;
    }
  }
  SpinLockRelease(&registry->mutex);
  WakeLauncher();
}

bool ExtensionInstalled() {
  StartTransactionCommand();
  const bool installed = OidIsValid(get_extension_oid("phantomdb", true));
  CommitTransactionCommand();
  return installed;
}

// False, after telling the launcher when to try again, when the database
// has no phantomdb (yet, or any more).
bool ExtensionPresentElseBackOff() {
  const TimestampTz looked_at = GetCurrentTimestamp();
  if (ExtensionInstalled()) return true;
  SpinLockAcquire(&registry->mutex);
  Entry* entry = EntryFor(my_database, my_kind);
  // A CREATE EXTENSION that committed after the look asked for a worker:
  // backing off now would lose that request.
  if (entry != nullptr && entry->requested_at < looked_at) {
    const bool requested = looked_at - entry->requested_at < kRequestGraceMs * 1000L;
    const TimestampTz when = looked_at + (requested ? kRequestedRetryMs : kNoExtensionRetryMs) * 1000L;
    entry->not_before = std::max(entry->not_before, when);
  }
  SpinLockRelease(&registry->mutex);
  return false;
}

// Runs one duty in its own transaction; returns the ms until it is due
// again. Errors are logged, never fatal: the worker must outlive them.
int RunDuty(const Duty& duty, int fallback_ms) {
  MemoryContext context = CurrentMemoryContext;
  int next_ms = fallback_ms;
  SetCurrentStatementStartTimestamp();
  StartTransactionCommand();
  pgstat_report_activity(STATE_RUNNING, duty.name);
  PendingError pending;
  bool failed = false;
  try {
    PgCall([] { PushActiveSnapshot(GetTransactionSnapshot()); });
    next_ms = duty.run();
    PgCall([] { PopActiveSnapshot(); });
  } catch (...) {
    CaptureCurrentException(pending);
    failed = true;
  }
  if (failed) {
    // Logged as a WARNING with the original SQLSTATE; the transaction is
    // rolled back and the duty tried again later.
    if (pending.pg_error != nullptr) {
      MemoryContextSwitchTo(context);
      ereport(WARNING, (errmsg("%s: %s: %s", KindName(my_kind), duty.name,
                               pending.pg_error->message ? pending.pg_error->message : "error")));
    } else {
      ereport(WARNING, (errmsg("%s: %s: %s", KindName(my_kind), duty.name, pending.message),
                        pending.detail[0] ? errdetail("%s", pending.detail) : 0));
    }
    AbortCurrentTransaction();
  } else {
    CommitTransactionCommand();
  }
  pgstat_report_activity(STATE_IDLE, nullptr);
  MemoryContextSwitchTo(context);
  return next_ms;
}

void WorkerLoop() {
  std::vector<Duty> duties;
  for (const Duty& duty : Duties())
    if (duty.worker == my_kind) duties.push_back(duty);
  std::vector<TimestampTz> due(duties.size(), 0);
  for (;;) {
    CHECK_FOR_INTERRUPTS();
    if (ConfigReloadPending) {
      ConfigReloadPending = false;
      ProcessConfigFile(PGC_SIGHUP);
    }
    if (!ExtensionPresentElseBackOff()) return;
    TimestampTz next = GetCurrentTimestamp() + kScanIntervalMs * 1000L;
    for (size_t i = 0; i < duties.size(); i++) {
      if (GetCurrentTimestamp() >= due[i]) {
        const int wait_ms = std::max(10, RunDuty(duties[i], 1000));
        due[i] = GetCurrentTimestamp() + static_cast<TimestampTz>(wait_ms) * 1000;
      }
      next = std::min(next, due[i]);
    }
    const long wait_ms = std::max<long>(1, (next - GetCurrentTimestamp()) / 1000);
    (void)WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, wait_ms, PG_WAIT_EXTENSION);
    ResetLatch(MyLatch);
  }
}

}  // namespace

void AddDuty(const Duty& duty) { Duties().push_back(duty); }

void RequestWorker(Oid database) noexcept {
  if (registry == nullptr) return;
  SpinLockAcquire(&registry->mutex);
  for (int kind = 0; kind < kWorkerKinds; kind++) {
    Entry* entry = EntryFor(database, static_cast<WorkerKind>(kind));
    if (entry != nullptr) {
      entry->not_before = 0;
      entry->requested_at = GetCurrentTimestamp();
    }
  }
  SpinLockRelease(&registry->mutex);
  WakeLauncher();
}

namespace {

Oid requested_at_commit = InvalidOid;

void RequestAtCommit(XactEvent event, void*) {
  if (event == XACT_EVENT_COMMIT && OidIsValid(requested_at_commit)) RequestWorker(requested_at_commit);
  if (event == XACT_EVENT_COMMIT || event == XACT_EVENT_ABORT || event == XACT_EVENT_PARALLEL_ABORT)
    requested_at_commit = InvalidOid;
}

}  // namespace

void RequestWorkerAtCommit(Oid database) {
  static bool registered = false;
  if (!registered) {
    PgCall([] { RegisterXactCallback(RequestAtCommit, nullptr); });
    registered = true;
  }
  requested_at_commit = database;
}

void StopWorker(Oid database) noexcept {
  if (registry == nullptr || !OidIsValid(database)) return;
  for (int waited_ms = 0; waited_ms < 5000; waited_ms += 10) {
    int pids[kWorkerKinds] = {};
    bool running = false;
    SpinLockAcquire(&registry->mutex);
    for (int kind = 0; kind < kWorkerKinds; kind++) {
      Entry* entry = EntryFor(database, static_cast<WorkerKind>(kind));
      if (entry == nullptr) continue;
      entry->not_before = GetCurrentTimestamp() + kStoppedForMs * 1000L;
      pids[kind] = entry->pid;
      running = running || entry->pid != 0 || entry->starting;
    }
    SpinLockRelease(&registry->mutex);
    if (!running) return;
    for (int pid : pids)
      if (pid != 0) kill(pid, SIGTERM);
    pg_usleep(10000);
  }
}

void Register() {
  shared_memory::Add({"phantomdb maintenance workers", Size, Initialize, reinterpret_cast<void**>(&registry)});
  BackgroundWorker launcher = {};
  snprintf(launcher.bgw_name, BGW_MAXLEN, "phantomdb maintenance launcher");
  snprintf(launcher.bgw_type, BGW_MAXLEN, "phantomdb maintenance launcher");
  launcher.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
  launcher.bgw_start_time = BgWorkerStart_RecoveryFinished;
  launcher.bgw_restart_time = 5;
  snprintf(launcher.bgw_library_name, BGW_MAXLEN, "phantomdb");
  snprintf(launcher.bgw_function_name, BGW_MAXLEN, "phantom_maintenance_launcher_main");
  RegisterBackgroundWorker(&launcher);
}

}  // namespace phantom::pg::maintenance_worker

using namespace phantom::pg::maintenance_worker;

extern "C" {

PGDLLEXPORT void phantom_maintenance_launcher_main(Datum);
PGDLLEXPORT void phantom_maintenance_worker_main(Datum);

void phantom_maintenance_launcher_main(Datum) {
  pqsignal(SIGTERM, die);
  pqsignal(SIGHUP, SignalHandlerForConfigReload);
  BackgroundWorkerUnblockSignals();
  BackgroundWorkerInitializeConnection(nullptr, nullptr, 0);
  SpinLockAcquire(&registry->mutex);
  registry->launcher_latch = MyLatch;
  // Workers of a previous launcher (the postmaster restarts this one after
  // a crash, when every worker died too).
  for (int i = 0; i < registry->count; i++) {
    registry->entries[i].starting = false;
  }
  SpinLockRelease(&registry->mutex);
  for (;;) {
    CHECK_FOR_INTERRUPTS();
    if (ConfigReloadPending) {
      ConfigReloadPending = false;
      ProcessConfigFile(PGC_SIGHUP);
    }
    LaunchMissingWorkers();
    (void)WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, kScanIntervalMs, PG_WAIT_EXTENSION);
    ResetLatch(MyLatch);
  }
}

void phantom_maintenance_worker_main(Datum argument) {
  my_database = DatumGetObjectId(argument);
  my_kind = static_cast<WorkerKind>(MyBgworkerEntry->bgw_extra[0]);
  // The raft worker holds C++ state across its loop: it ends at the top of
  // an iteration rather than wherever SIGTERM finds it.
  pqsignal(SIGTERM, my_kind == WorkerKind::kRaft ? SignalHandlerForShutdownRequest : die);
  pqsignal(SIGHUP, SignalHandlerForConfigReload);
  BackgroundWorkerUnblockSignals();
  SpinLockAcquire(&registry->mutex);
  Entry* entry = EntryFor(my_database, my_kind);
  const bool wanted = entry != nullptr && entry->not_before <= GetCurrentTimestamp();
  if (entry != nullptr) {
    entry->starting = false;
    if (wanted) entry->pid = MyProcPid;
  }
  SpinLockRelease(&registry->mutex);
  // Stopped (DROP DATABASE) between the launcher's decision and now.
  if (!wanted) proc_exit(0);
  on_shmem_exit(ForgetWorker, 0);
  BackgroundWorkerInitializeConnectionByOid(my_database, InvalidOid, 0);
  if (my_kind == WorkerKind::kRaft) {
    if (ExtensionPresentElseBackOff()) phantom::pg::raft_worker::Run(my_database);
  } else
    WorkerLoop();
  proc_exit(0);
}
}
