// Distributed deadlock detection. Each node's lock manager sees only the
// waits between its own backends, so a cycle that crosses nodes (T1 waits
// on node 2 for T2 while T2 waits on node 3 for T1) is never broken by
// Postgres. The maintenance worker of the administering node gathers every
// node's lock waits (lock_waits.hpp), keeps the waits seen in two successive
// passes (core/transactions/deadlock.hpp explains why), and cancels the
// youngest transaction of each cycle through its coordinator backend
// (backend_transactions::CancelAsDeadlockVictim). The victim's "canceling
// statement due to user request" is reworded into a distributed deadlock
// error (40P01) by an emit_log_hook.
//
// Local deadlocks stay Postgres's job: a cycle formed by one node's waits
// alone is left to that node's deadlock detector.
#pragma once

namespace phantom::pg::deadlock_detector {

// One pass of the maintenance worker's duty; returns the ms until the next
// (phantomdb.distributed_deadlock_interval_ms, rechecked each second while
// 0 disables detection).
int RunPass();

// Installs the emit_log_hook that rewords a victim's cancel; from _PG_init
// when preloaded.
void InstallVictimErrorHook();

}  // namespace phantom::pg::deadlock_detector
