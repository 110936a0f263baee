// DDL on distributed and reference tables: applied to the local table (the
// shell) and to every node's shell and shard tables within the user's
// transaction, so that it takes effect everywhere or nowhere as far as a
// single transaction can promise (docs/distributed-tables.md, "DDL").
#pragma once

#include <functional>

#include "pg/postgres.hpp"

extern "C" {
#include "nodes/params.h"
#include "nodes/plannodes.h"
#include "tcop/cmdtag.h"
#include "tcop/dest.h"
#include "tcop/utility.h"
#include "utils/queryenvironment.h"
}

namespace phantom::pg {

// Handles a utility statement that concerns a distributed or reference
// table: runs run_local (the standard ProcessUtility for this statement) at
// the right moment itself, propagates the change, and returns true. Returns
// false, having done nothing, for statements that do not concern one.
// Unsupported DDL on such a table throws 0A000 naming the construct, before
// anything changed.
bool ExecuteDistributedDdl(PlannedStmt* pstmt, const char* query_string, ProcessUtilityContext context,
                           const std::function<void()>& run_local);

// CREATE INDEX CONCURRENTLY on a distributed or reference table commits
// transactions of its own, so the hook runs it in steps around a direct call
// to the standard ProcessUtility (no C++ frame or PG_TRY spans it):
//  1. PrepareConcurrentIndex: checks the statement before anything runs;
//     false when the table is not distributed (then the rest is skipped).
//  2. The standard ProcessUtility builds the shell's index.
//  3. ResolveConcurrentIndex: finds the index just built (false: none, e.g.
//     IF NOT EXISTS found one of another name).
//  4. FinishConcurrentIndex: builds it concurrently on every shard (this
//     node's included) and every other shell, each over an autocommit
//     connection to the node.
bool PrepareConcurrentIndex(PlannedStmt* pstmt);
bool ResolveConcurrentIndex();
void FinishConcurrentIndex();

// From _PG_init: installs the ProcessUtility hook (which also routes COPY to
// distributed_copy.hpp).
void InstallUtilityHook();

}  // namespace phantom::pg
