// Resolving the prepared transactions this node's two-phase commits left on
// other nodes (distributed_commit.hpp): committed where the coordinator's
// commit record exists, rolled back where the coordinator's transaction
// ended without one, left alone while it may still be running. Commit
// records whose participants have all finished are deleted.
//
// Run by the maintenance worker every phantomdb.max_prepared_recovery_interval_ms
// and on demand by phantom_recover_prepared_transactions().
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/metadata/command.hpp"

namespace phantom::pg::prepared_recovery {

struct Outcome {
  int resolved = 0;                   // COMMIT/ROLLBACK PREPARED that succeeded
  int waiting = 0;                    // prepared transactions of running coordinator transactions
  std::vector<std::string> problems;  // nodes that could not be asked, commands that failed
};

// One pass; call inside a transaction at READ COMMITTED (each lookup needs a
// fresh snapshot). wait_for_lock: false (the worker) skips the pass while
// another recovery runs in this database.
Outcome Recover(bool wait_for_lock);

// The prepared transactions of this coordinator on a node, as GIDs; used by
// phantom_dist_transactions as well.
struct InDoubt {
  metadata::NodeId node_id;
  std::string node;  // host:port
  std::string gid;
};
std::vector<InDoubt> ListPrepared(std::vector<std::string>* unreachable);

}  // namespace phantom::pg::prepared_recovery
