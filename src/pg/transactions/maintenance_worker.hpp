// The maintenance background workers: one launcher per server, started by
// the postmaster, and per database where phantomdb is installed one worker
// of each kind. Each runs its kind's periodic duties (registered below):
// the maintenance worker resolves prepared transactions and detects
// distributed deadlocks; the saga worker runs saga steps, which may take
// long and so must never hold up the other two. The third kind is the raft
// worker, which runs the metadata Raft member (raft_worker.hpp).
//
// The launcher scans pg_database every few seconds and starts the workers
// of each database that can take connections and lacks them. A worker that finds
// no phantomdb extension in its database exits, and the launcher tries that
// database again a minute later, or at once after CREATE EXTENSION phantomdb
// there. Statements that need a database free of other sessions (DROP,
// RENAME, use as a template) stop its worker first.
#pragma once

#include <cstdint>

#include "pg/postgres.hpp"

namespace phantom::pg::maintenance_worker {

// A duty of the per-database worker, run inside a transaction with SPI
// available; it returns how long (ms) until it wants to run again. An
// exception is logged and the duty retried after its interval.
// The raft worker (raft_worker.hpp) runs its own loop and has no duties.
enum class WorkerKind : uint8_t { kMaintenance = 0, kSaga = 1, kRaft = 2 };
inline constexpr int kWorkerKinds = 3;

struct Duty {
  const char* name;
  int (*run)();
  WorkerKind worker = WorkerKind::kMaintenance;
};
// From _PG_init, before the server starts workers.
void AddDuty(const Duty& duty);

// Wakes the launcher to start the workers of database now (CREATE EXTENSION).
void RequestWorker(Oid database) noexcept;
// RequestWorker once the current transaction commits (nothing if it aborts):
// a worker started before CREATE EXTENSION commits finds no extension and
// stays away for a minute.
void RequestWorkerAtCommit(Oid database);
// Stops database's workers and keeps them stopped for a while, so that a
// statement needing the database to itself can run. Waits up to 5 s.
void StopWorker(Oid database) noexcept;

// Registers the launcher and the shared memory; from _PG_init when preloaded.
void Register();

}  // namespace phantom::pg::maintenance_worker
