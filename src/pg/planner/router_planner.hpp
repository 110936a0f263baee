// Planning a query over distributed and reference tables as a router plan:
// one shard (or every copy of a reference table) runs the whole query. The
// shapes that need several shards fail with 0A000 naming the construct until
// the multi-shard planner exists; they never run on the empty shells.
#pragma once

#include "pg/postgres.hpp"

extern "C" {
#include "nodes/params.h"
#include "nodes/plannodes.h"
}

namespace phantom::pg {

PlannedStmt* PlanRouterQuery(Query* parse, int cursor_options, ParamListInfo bound_params);

}  // namespace phantom::pg
