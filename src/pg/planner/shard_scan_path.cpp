// The general fallback planner; see shard_scan_path.hpp.
#include "pg/planner/shard_scan_path.hpp"

#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/common/error.hpp"
#include "pg/executor/shard_scan.hpp"
#include "pg/guard.hpp"
#include "pg/metadata/metadata_cache.hpp"
#include "pg/planner/fragment_path.hpp"
#include "pg/planner/pushdown_planner.hpp"
#include "pg/planner/shippable.hpp"
#include "pg/sharding/distribution_value.hpp"
#include "pg/sql_text.hpp"

extern "C" {
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/optimizer.h"
#include "optimizer/pathnode.h"
#include "optimizer/paths.h"
#include "optimizer/planner.h"
#include "optimizer/restrictinfo.h"
#include "parser/parsetree.h"
#include "rewrite/rewriteManip.h"
#include "utils/lsyscache.h"
#include "utils/ruleutils.h"
}

namespace phantom::pg {

namespace {

bool planning_with_shard_scans = false;
set_rel_pathlist_hook_type previous_pathlist_hook = nullptr;

class ShardScanPlanningScope {
 public:
  ShardScanPlanningScope() : saved_(planning_with_shard_scans) { planning_with_shard_scans = true; }
  ~ShardScanPlanningScope() { planning_with_shard_scans = saved_; }
  ShardScanPlanningScope(const ShardScanPlanningScope&) = delete;
  ShardScanPlanningScope& operator=(const ShardScanPlanningScope&) = delete;

 private:
  bool saved_;
};

bool CollectParams(Node* node, void* context) {
  if (node == nullptr) return false;
  if (IsA(node, Param) && reinterpret_cast<Param*>(node)->paramkind == PARAM_EXTERN)
    static_cast<std::set<int>*>(context)->insert(reinterpret_cast<Param*>(node)->paramid);
  return expression_tree_walker(node, Walker(CollectParams), context);
}

// The shards a table's filters leave, when one pins its distribution column
// to constants (`column = c`, `column IN (...)`); the planner has folded
// constants already. Several such filters intersect. nullopt: all shards.
std::optional<std::set<int32_t>> PrunedShards(List* clauses, Index relid, const DistributedTable& table) {
  if (table.IsReference()) return std::nullopt;
  const auto shard_count = static_cast<int32_t>(table.record.shards.size());
  auto is_key = [&](Node* node) {
    while (node != nullptr && IsA(node, RelabelType))
      node = reinterpret_cast<Node*>(reinterpret_cast<RelabelType*>(node)->arg);
    if (node == nullptr || !IsA(node, Var)) return false;
    auto* var = reinterpret_cast<Var*>(node);
    return var->varno == static_cast<int>(relid) && var->varlevelsup == 0 && var->varattno == table.distribution_attno;
  };
  std::optional<std::set<int32_t>> result;
  ListCell* cell = nullptr;
  foreach (cell, clauses) {
    Node* clause = reinterpret_cast<Node*>(static_cast<RestrictInfo*>(lfirst(cell))->clause);
    std::set<int32_t> shards;
    Const* value = nullptr;
    if (IsA(clause, OpExpr) && list_length(reinterpret_cast<OpExpr*>(clause)->args) == 2) {
      auto* op = reinterpret_cast<OpExpr*>(clause);
      Node* left = static_cast<Node*>(linitial(op->args));
      Node* right = static_cast<Node*>(lsecond(op->args));
      Node* other = is_key(left) ? right : is_key(right) ? left : nullptr;
      if (other == nullptr || !IsA(other, Const)) continue;
      value = reinterpret_cast<Const*>(other);
      if (!IsDistributionEquality(op->opno, table.distribution_type, value->consttype)) continue;
    } else if (IsA(clause, ScalarArrayOpExpr)) {
      auto* op = reinterpret_cast<ScalarArrayOpExpr*>(clause);
      Node* array = static_cast<Node*>(lsecond(op->args));
      if (!op->useOr || !is_key(static_cast<Node*>(linitial(op->args))) || !IsA(array, Const)) continue;
      value = reinterpret_cast<Const*>(array);
      const Oid element = PgCall([&] { return get_element_type(value->consttype); });
      if (!IsDistributionEquality(op->opno, table.distribution_type, element)) continue;
    } else {
      continue;
    }
    // NULL matches nothing: no shard.
    if (!value->constisnull) AddShardsOfPin(value->constvalue, value->consttype, shard_count, shards);
    if (!result) {
      result = shards;
    } else {
      std::set<int32_t> both;
      for (int32_t shard : shards)
        if (result->count(shard) > 0) both.insert(shard);
      result = both;
    }
  }
  return result;
}

Plan* PlanShardScan(PlannerInfo* root, RelOptInfo* rel, CustomPath* best_path, List* tlist, List* clauses,
                    List* custom_plans) {
  return GuardHook([&]() -> Plan* {
    RangeTblEntry* rte = PgCall([&] { return planner_rt_fetch(rel->relid, root); });
    auto table = metadata_cache::Lookup(rte->relid);
    if (!table) throw Error(sqlstate::kInternalError, "a shard scan lost its distributed table");
    // Filters the nodes can apply go with the shard SQL; every filter also
    // runs here, so a node that evaluates one differently cannot change the
    // result, only the amount of rows sent.
    List* pushed = NIL;
    ListCell* cell = nullptr;
    foreach (cell, clauses) {
      auto* info = static_cast<RestrictInfo*>(lfirst(cell));
      Node* clause = reinterpret_cast<Node*>(info->clause);
      const bool shippable = PgCall([&] { return !info->pseudoconstant && !contain_volatile_functions(clause); });
      if (shippable && Shippable(clause, SubqueriesOnNodes::kRefuse))
        pushed = PgCall([&] { return lappend(pushed, copyObjectImpl(clause)); });
    }
    std::string where;
    std::set<int> params;
    if (pushed != NIL) {
      where = WithQualifiedNames([&] {
        return std::string(PgCall([&] {
          Node* expr = reinterpret_cast<Node*>(make_ands_explicit(pushed));
          // deparse_context_for names range table entry 1.
          ChangeVarNodes(expr, static_cast<int>(rel->relid), 1, 0);
          List* context = deparse_context_for(table->record.table_name.c_str(), rte->relid);
          return deparse_expression(expr, context, true, false);
        }));
      });
      PgCall([&] { CollectParams(reinterpret_cast<Node*>(pushed), &params); });
    }
    CustomScan* scan = PgCall([] { return makeNode(CustomScan); });
    scan->scan.scanrelid = rel->relid;
    scan->scan.plan.targetlist = tlist;
    scan->scan.plan.qual = PgCall([&] { return extract_actual_clauses(clauses, false); });
    scan->methods = &ShardScanMethods;
    scan->custom_private =
        EncodeShardScan(table->record.table_id, where, std::vector<int>(params.begin(), params.end()),
                        PrunedShards(clauses, rel->relid, *table));
    return &scan->scan.plan;
  });
}

const CustomPathMethods kShardScanPathMethods = {
    .CustomName = "PhantomDB Shard Scan",
    .PlanCustomPath = PlanShardScan,
    .ReparameterizeCustomPathByChild = nullptr,
};

// Replaces every path of a distributed or reference table with the shard
// scan: the shell is empty, so any local path would read nothing.
void SetRelPathlist(PlannerInfo* root, RelOptInfo* rel, Index rti, RangeTblEntry* rte) {
  if (previous_pathlist_hook != nullptr) previous_pathlist_hook(root, rel, rti, rte);
  // Members of an append relation (a UNION ALL the planner flattened) are
  // scanned like base relations.
  if (!planning_with_shard_scans || (rel->reloptkind != RELOPT_BASEREL && rel->reloptkind != RELOPT_OTHER_MEMBER_REL))
    return;
  double rows = 0;
  if (const Fragment* fragment = rte->rtekind == RTE_FUNCTION ? PendingFragment(rte, &rows) : nullptr) {
    AddFragmentPath(root, rel, *fragment, rows);
    return;
  }
  if (rte->rtekind != RTE_RELATION) return;
  if (!metadata_cache::Find(rte->relid)) return;
  CustomPath* path = makeNode(CustomPath);
  path->path.pathtype = T_CustomScan;
  path->path.parent = rel;
  path->path.pathtarget = rel->reltarget;
  path->path.param_info = nullptr;
  path->path.parallel_aware = false;
  path->path.parallel_safe = false;
  path->path.parallel_workers = 0;
  path->path.rows = rel->rows;
  // A round trip to every node, then every row over the network.
  path->path.startup_cost = 1000.0;
  path->path.total_cost = 1000.0 + rel->rows * (cpu_tuple_cost * 10);
  path->path.pathkeys = NIL;
  path->flags = 0;
  path->custom_paths = NIL;
  path->custom_private = NIL;
  path->methods = &kShardScanPathMethods;
  rel->pathlist = NIL;
  rel->partial_pathlist = NIL;
  add_path(rel, &path->path);
}

bool LocksDistributedRows(Query* parse) {
  ListCell* cell = nullptr;
  foreach (cell, parse->rowMarks) {
    auto* mark = static_cast<RowMarkClause*>(lfirst(cell));
    RangeTblEntry* rte = rt_fetch(mark->rti, parse->rtable);
    if (rte->rtekind == RTE_RELATION && metadata_cache::Find(rte->relid)) return true;
  }
  return false;
}

}  // namespace

PlannedStmt* PlanWithShardScans(Query* parse, const char* query_string, int cursor_options,
                                ParamListInfo bound_params) {
  if (PgCall([&] { return LocksDistributedRows(parse); }))
    throw Error(sqlstate::kFeatureNotSupported,
                "FOR UPDATE/SHARE over several shards of a distributed table is not supported yet", "",
                "Lock rows one shard at a time (with a condition on the distribution column).");
  PlannedStmt* stmt = nullptr;
  {
    ShardScanPlanningScope scope;
    stmt = PgCall([&] { return standard_planner(parse, query_string, cursor_options, bound_params); });
  }
  // A metadata change (shard moved, table dropped) invalidates the plan.
  const Oid catalog = metadata_cache::CatalogRelation();
  if (OidIsValid(catalog)) PgCall([&] { stmt->relationOids = lappend_oid(stmt->relationOids, catalog); });
  return stmt;
}

void InstallShardScanHook() {
  previous_pathlist_hook = set_rel_pathlist_hook;
  set_rel_pathlist_hook = SetRelPathlist;
}

}  // namespace phantom::pg
