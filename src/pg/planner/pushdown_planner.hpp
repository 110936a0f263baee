// The pushdown planner: a SELECT over several shards whose FROM clause each
// shard group can compute on its own — one distributed table, or colocated
// ones joined on their distribution columns, with reference tables,
// sub-queries and CTEs complete per shard group, and sub-queries in WHERE
// tied to the row's key — runs that part on the shards and combines the
// rows here.
//
// The query is split in two. The fragment runs once per shard group: the
// FROM and WHERE clauses, and as much of the rest as is safe there. The
// combining query is the user's query with its FROM clause replaced by the
// fragments' rows; Postgres plans it as usual (docs/query-processing.md):
//   - grouped by a distribution column: each group lives in one shard, so
//     the whole query runs there and only ORDER BY, LIMIT and DISTINCT are
//     applied again here, over few rows (LIMIT pushed down as a top-N);
//   - other aggregates that split (count, sum, avg, min, max, bool and bit
//     aggregates): the shards group and compute partial results, and the
//     combining query aggregates those;
//   - anything else: the shards return the joined, filtered rows and the
//     combining query computes the rest (LIMIT pushed down where it can).
#pragma once

#include "pg/executor/fragment_scan.hpp"
#include "pg/postgres.hpp"

extern "C" {
#include "nodes/params.h"
#include "nodes/plannodes.h"
}

namespace phantom::pg {

// The plan, or nullptr when the query's FROM clause cannot run per shard
// group (the caller then takes the general fallback).
PlannedStmt* PlanPushdown(Query* parse, const char* query_string, int cursor_options, ParamListInfo bound_params);

// Whether select, the source of an INSERT ... SELECT into a distributed
// table of colocation group colocation, can run shard group by shard group:
// its FROM clause runs per shard group in that group, it computes whole rows
// per shard (no LIMIT, DISTINCT, window, set operation, and aggregates only
// grouped by a distribution column), everything runs on a node, and its
// output column key (1-based) is a distribution column, so that each row
// lands in the shard group it was read from.
bool RunsPerShardGroup(Query* select, metadata::ColocationId colocation, AttrNumber key);

// Whether every sub-query over distributed tables in query (a SELECT, UPDATE
// or DELETE whose FROM clause runs per shard group), in WHERE, the select
// list, SET or RETURNING, gives each row the same answer on its shard group
// as over the whole tables: then each shard's statement may carry it.
bool SubqueriesStayInShardGroup(Query* query);

// For the set_rel_pathlist hook: the fragment that rte stands for while its
// pushdown plan is being made, and the rows it is expected to return;
// nullptr for every other entry.
const Fragment* PendingFragment(const RangeTblEntry* rte, double* rows);

}  // namespace phantom::pg
