// Fragment paths; see fragment_path.hpp.
#include "pg/planner/fragment_path.hpp"

#include "core/common/error.hpp"
#include "pg/guard.hpp"
#include "pg/planner/extension_function.hpp"

extern "C" {
#include "catalog/pg_type.h"
#include "nodes/makefuncs.h"
#include "optimizer/cost.h"
#include "optimizer/optimizer.h"
#include "parser/parsetree.h"
#include "optimizer/pathnode.h"
#include "optimizer/restrictinfo.h"
}

namespace phantom::pg {

namespace {

Plan* PlanFragmentScan(PlannerInfo*, RelOptInfo* rel, CustomPath* best_path, List* tlist, List* clauses, List*) {
  return GuardHook([&]() -> Plan* {
    return PgCall([&] {
      CustomScan* scan = makeNode(CustomScan);
      // The scan tuple is the fragment's row, every column in order; the
      // entry is not a relation, so the scan names none (scanrelid 0).
      List* scan_tlist = NIL;
      auto* function =
          static_cast<RangeTblFunction*>(linitial(static_cast<List*>(linitial(best_path->custom_private))));
      AttrNumber attno = 1;
      ListCell* type = nullptr;
      ListCell* typmod = nullptr;
      ListCell* collation = nullptr;
      forthree(type, function->funccoltypes, typmod, function->funccoltypmods, collation, function->funccolcollations) {
        Var* var = makeVar(rel->relid, attno, lfirst_oid(type), lfirst_int(typmod), lfirst_oid(collation), 0);
        scan_tlist = lappend(scan_tlist, makeTargetEntry(reinterpret_cast<Expr*>(var), attno, nullptr, false));
        attno++;
      }
      scan->scan.scanrelid = 0;
      scan->custom_scan_tlist = scan_tlist;
      scan->scan.plan.targetlist = tlist;
      scan->scan.plan.qual = extract_actual_clauses(clauses, false);
      scan->methods = &FragmentScanMethods;
      scan->custom_private = static_cast<List*>(lsecond(best_path->custom_private));
      return &scan->scan.plan;
    });
  });
}

const CustomPathMethods kFragmentPathMethods = {
    .CustomName = "PhantomDB Fragment Scan",
    .PlanCustomPath = PlanFragmentScan,
    .ReparameterizeCustomPathByChild = nullptr,
};

}  // namespace

void AddFragmentPath(PlannerInfo* root, RelOptInfo* rel, const Fragment& fragment, double rows) {
  RangeTblEntry* rte = PgCall([&] { return planner_rt_fetch(rel->relid, root); });
  List* encoded = EncodeFragment(fragment);
  PgCall([&] {
    CustomPath* path = makeNode(CustomPath);
    path->path.pathtype = T_CustomScan;
    path->path.parent = rel;
    path->path.pathtarget = rel->reltarget;
    rel->rows = rows;
    path->path.rows = rows;
    // A round trip to every node, then the fragments' rows over the network.
    path->path.startup_cost = 1000.0;
    path->path.total_cost = 1000.0 + rows * cpu_tuple_cost * 10;
    path->methods = &kFragmentPathMethods;
    path->custom_private = list_make2(rte->functions, encoded);
    rel->pathlist = NIL;
    rel->partial_pathlist = NIL;
    add_path(rel, &path->path);
  });
}

Oid FragmentFunction() { return ExtensionFunction("fragment_results", {}); }

}  // namespace phantom::pg

extern "C" {
PG_FUNCTION_INFO_V1(phantom_fragment_results);
// Only ever planned, never run: a pushdown plan scans its fragment instead.
Datum phantom_fragment_results(PG_FUNCTION_ARGS) {
  ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
                  errmsg("phantomdb.fragment_results() stands for a pushed-down query and cannot be called")));
  PG_RETURN_NULL();
}
}
