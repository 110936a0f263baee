// How a local transaction ends on the nodes it touched.
//
// - Remote transactions that only read commit in PRE_COMMIT.
// - One remote transaction that wrote, when nothing was written here,
//   commits with one COMMIT: its node alone decides.
// - Otherwise two-phase commit through Postgres's PREPARE TRANSACTION:
//   every writing participant prepares (all at once) in PRE_COMMIT; then a
//   commit record is inserted into phantomdb.transaction_commits, which
//   commits atomically with the local transaction and so is the decision;
//   after the local commit, COMMIT PREPARED goes to every participant. A
//   participant that fails then gets a WARNING and is left to recovery
//   (prepared_recovery.hpp), which commits it because the record exists.
// - On abort, prepared participants get ROLLBACK PREPARED and open ones
//   ROLLBACK; what cannot be reached is, again, left to recovery.
// GIDs come from core/transactions/global_transaction_id.hpp.
#pragma once

namespace phantom::pg::distributed_commit {

// Registers the transaction callback; from _PG_init.
void Register();

}  // namespace phantom::pg::distributed_commit
