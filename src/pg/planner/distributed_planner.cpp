// The planner hook; see distributed_planner.hpp.
#include "pg/planner/distributed_planner.hpp"

#include "pg/guard.hpp"
#include "pg/metadata/metadata_cache.hpp"
#include "pg/planner/pushdown_planner.hpp"
#include "pg/planner/router_planner.hpp"
#include "pg/planner/shard_scan_path.hpp"
#include "core/common/error.hpp"

extern "C" {
#include "nodes/nodeFuncs.h"
#include "parser/parsetree.h"
#include "optimizer/planner.h"
}

namespace phantom::pg {

namespace {

bool planning_locally = false;
planner_hook_type previous_planner = nullptr;

bool FindDistributed(Node* node, void* context) {
  if (node == nullptr) return false;
  if (IsA(node, RangeTblEntry)) {
    auto* rte = reinterpret_cast<RangeTblEntry*>(node);
    return rte->rtekind == RTE_RELATION && metadata_cache::Find(rte->relid) != nullptr;
  }
  if (IsA(node, Query))
    return query_tree_walker(reinterpret_cast<Query*>(node), Walker(FindDistributed), context, QTW_EXAMINE_RTES_BEFORE);
  return expression_tree_walker(node, Walker(FindDistributed), context);
}

PlannedStmt* StandardPlanner(Query* parse, const char* query_string, int cursor_options, ParamListInfo bound_params) {
  return PgCall([&] {
    return previous_planner ? previous_planner(parse, query_string, cursor_options, bound_params)
                            : standard_planner(parse, query_string, cursor_options, bound_params);
  });
}

PlannedStmt* Planner(Query* parse, const char* query_string, int cursor_options, ParamListInfo bound_params) {
  return GuardHook([&] {
    if (planning_locally) return StandardPlanner(parse, query_string, cursor_options, bound_params);
    metadata_cache::EnsureLoaded();
    const bool distributed =
        PgCall([&] { return query_tree_walker(parse, Walker(FindDistributed), nullptr, QTW_EXAMINE_RTES_BEFORE); });
    if (!distributed) return StandardPlanner(parse, query_string, cursor_options, bound_params);
    // INSERT into a local table of rows read from distributed ones: the
    // standard plan with shard scans for the source.
    if (parse->commandType == CMD_INSERT &&
        !metadata_cache::Lookup(PgCall([&] { return rt_fetch(parse->resultRelation, parse->rtable)->relid; })))
      return PlanWithShardScans(parse, query_string, cursor_options, bound_params);
    if (parse->commandType != CMD_SELECT) return PlanRouterQuery(parse, cursor_options, bound_params);
    // A SELECT the router cannot run on one shard still runs: pushed down
    // to every shard group when its FROM clause allows, else through the
    // general fallback, which reads the shards and computes the rest here.
    try {
      return PlanRouterQuery(parse, cursor_options, bound_params);
    } catch (const Error& error) {
      if (error.Sqlstate() != sqlstate::kFeatureNotSupported) throw;
    }
    if (PlannedStmt* pushed = PlanPushdown(parse, query_string, cursor_options, bound_params)) return pushed;
    return PlanWithShardScans(parse, query_string, cursor_options, bound_params);
  });
}

}  // namespace

LocalPlanningScope::LocalPlanningScope() : saved_(planning_locally) { planning_locally = true; }
LocalPlanningScope::~LocalPlanningScope() { planning_locally = saved_; }

bool PlanningLocally() { return planning_locally; }

void InstallPlannerHook() {
  previous_planner = planner_hook;
  planner_hook = Planner;
}

}  // namespace phantom::pg
