// The maintenance background workers: one launcher per server, started by
// the postmaster, and one worker per database where phantomdb is installed.
// Each database's worker runs its periodic duties (registered below):
// resolving prepared transactions, detecting distributed deadlocks, running
// sagas.
//
// The launcher scans pg_database every few seconds and starts a worker for
// each database that can take connections and has none. A worker that finds
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
struct Duty {
  const char* name;
  int (*run)();
};
// From _PG_init, before the server starts workers.
void AddDuty(const Duty& duty);

// Wakes the launcher to start the worker of database now (CREATE EXTENSION).
void RequestWorker(Oid database) noexcept;
// RequestWorker once the current transaction commits (nothing if it aborts):
// a worker started before CREATE EXTENSION commits finds no extension and
// stays away for a minute.
void RequestWorkerAtCommit(Oid database);
// Stops database's worker and keeps it stopped for a while, so that a
// statement needing the database to itself can run. Waits up to 5 s.
void StopWorker(Oid database) noexcept;

// Registers the launcher and the shared memory; from _PG_init when preloaded.
void Register();

}  // namespace phantom::pg::maintenance_worker
