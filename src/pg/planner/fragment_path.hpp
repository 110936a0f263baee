// The path and plan of a pushdown plan's fragment entry: the range table
// entry (a call of the placeholder phantomdb.fragment_results(), typed with
// the fragment's columns) that the pushdown planner puts where the query's
// FROM clause was. Its only path is a fragment scan.
#pragma once

#include "pg/executor/fragment_scan.hpp"
#include "pg/postgres.hpp"

extern "C" {
#include "nodes/pathnodes.h"
}

namespace phantom::pg {

// Replaces rel's paths with the fragment scan of fragment.
void AddFragmentPath(PlannerInfo* root, RelOptInfo* rel, const Fragment& fragment, double rows);

// The placeholder function's oid (phantomdb.fragment_results()).
Oid FragmentFunction();

}  // namespace phantom::pg
