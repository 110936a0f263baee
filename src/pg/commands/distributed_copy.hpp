// COPY into and out of distributed and reference tables.
#pragma once

#include "pg/postgres.hpp"

extern "C" {
#include "nodes/params.h"
#include "nodes/plannodes.h"
#include "tcop/cmdtag.h"
#include "tcop/dest.h"
#include "utils/queryenvironment.h"
}

namespace phantom::pg {

// Runs a COPY whose table is distributed or a reference table and returns
// true; returns false, having done nothing, for any other COPY (the caller
// lets Postgres run it). COPY (query) TO is left to Postgres: the query is
// planned like any other, so the distributed planner already handles it.
bool ExecuteDistributedCopy(PlannedStmt* pstmt, const char* query_string, ParamListInfo params,
                            QueryEnvironment* query_env, DestReceiver* dest, QueryCompletion* completion);

}  // namespace phantom::pg
