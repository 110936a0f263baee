// The general fallback for SELECTs the router cannot run: every distributed
// or reference table in the query becomes a scan that fetches its rows from
// its shards (with the filters that can run there), and Postgres's own
// planner does everything else locally — joins, aggregates, subqueries,
// set operations — so any SELECT returns what it would on one server, only
// slower. The multi-shard planner (issue 5) will push more work down.
#pragma once

#include "pg/postgres.hpp"

extern "C" {
#include "nodes/params.h"
#include "nodes/plannodes.h"
}

namespace phantom::pg {

// Plans parse with the standard planner, distributed and reference tables
// read by shard scans. Throws 0A000 for what the fallback cannot do yet
// (row locks on distributed tables).
PlannedStmt* PlanWithShardScans(Query* parse, const char* query_string, int cursor_options, ParamListInfo bound_params);

// From _PG_init.
void InstallShardScanHook();

}  // namespace phantom::pg
