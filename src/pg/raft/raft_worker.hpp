// The raft worker: one per database where phantomdb is installed, started
// by the maintenance launcher (maintenance_worker.hpp). It is this node's
// member of the metadata Raft group (docs/raft.md, "In Postgres"):
//   - it owns the Raft state and persists log and hard state under
//     $PGDATA/phantomdb_raft/<database oid>/ (fsync'd before any message
//     that depends on them leaves);
//   - it drives the Ready loop on its latch, ticking every
//     phantomdb.heartbeat_interval_ms;
//   - it applies committed entries to the catalog in log order, exactly
//     once (the applied index commits with them);
//   - on the leader, it decides node states (failure_detector.hpp) and
//     voters (voter_policy.hpp) and proposes them;
//   - without a cluster, it waits to found one (phantom_add_node) or to be
//     added to one (phantomdb.join_cluster, or by itself through
//     phantomdb.seeds / phantomdb.discovery_url).
#pragma once

#include "pg/postgres.hpp"

namespace phantom::pg::raft_worker {

// The worker's body; returns when it should exit (SIGTERM, or the
// extension is gone). Errors are reported and end the process (the launcher
// starts it again).
void Run(Oid database);

}  // namespace phantom::pg::raft_worker
