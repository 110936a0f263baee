// What the router planner decides and the router executor carries out,
// and its encoding into a CustomScan's custom_private (plans are copied by
// the plan cache, so the decision must be a Postgres node tree).
#pragma once

#include <vector>

#include "core/metadata/command.hpp"
#include "pg/planner/shard_query.hpp"
#include "pg/postgres.hpp"

namespace phantom::pg {

struct RouterPlan {
  CmdType command = CMD_SELECT;
  // The hash-distributed table whose shard map picks the shard (every hash
  // table of the query is colocated with it); 0 when only reference tables
  // are involved.
  metadata::TableId anchor_table = 0;
  // The table written (0 for SELECT); all placements of its shard are written.
  metadata::TableId target_table = 0;
  // Expressions (constants, parameters, stable expressions without columns)
  // equal to the anchor's distribution column; an array expression stands
  // for an IN list. Evaluated at execution, so generic plans prune too.
  List* pins = NIL;
  // SELECT, UPDATE, DELETE: the shard SQL, deparsed once at plan time.
  ShardQueryTemplate query;
  // INSERT: the query itself; rows are evaluated on this node at execution,
  // split by shard and deparsed per shard.
  Query* insert_query = nullptr;
  // INSERT ... SELECT: the SELECT, deparsed, run here at execution; its rows
  // replace the query's subquery entry as a VALUES list.
  std::string select_sql;
  // Parameters ($n) the shard SQL mentions, 1-based.
  std::vector<int> params_used;
  // SELECT ... FOR UPDATE/SHARE: run on this node as a read-write statement.
  bool locks_rows = false;
  // UPDATE/DELETE of one distributed table, or INSERT ... SELECT whose rows
  // stay in the shard group they are read from: runs on every shard the
  // pins name (every shard when there are none), not just one.
  bool several_shards = false;
  // A SELECT whose rows from several shards may simply be concatenated (no
  // aggregate, grouping, DISTINCT, ordering, LIMIT, window or set operation):
  // parameters that turn out to name several shards run on each of them.
  bool concatenable = false;
};

List* EncodeRouterPlan(const RouterPlan& plan);
RouterPlan DecodeRouterPlan(List* custom_private);

}  // namespace phantom::pg
