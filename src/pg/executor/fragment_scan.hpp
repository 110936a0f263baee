// The fragment scan: the CustomScan under a pushdown plan. At execution it
// runs the plan's fragment (a query over the shards of colocated tables and
// reference tables) on every shard group — each node gets one statement,
// its shards' fragments joined by UNION ALL, and every node works at once —
// and returns the rows to the plan above it, which combines them.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/metadata/command.hpp"
#include "pg/planner/shard_query.hpp"
#include "pg/postgres.hpp"

extern "C" {
#include "nodes/extensible.h"
}

namespace phantom::pg {

struct Fragment {
  // The distributed table whose shards the fragment runs on (all of them);
  // the other distributed tables of the fragment are colocated with it.
  metadata::TableId anchor_table = 0;
  // The fragment's SQL, with a shard's table names spliced in per shard.
  ShardQueryTemplate query;
  // Parameters ($n) the SQL mentions, 1-based.
  std::vector<int> params_used;
  // What the shards compute, for EXPLAIN.
  std::string strategy;
  // The shard groups to run (by shard index) when the WHERE clause pins a
  // distribution column to constants; nullopt: all.
  std::optional<std::set<int32_t>> shards;
};

// custom_private of a fragment scan (plans are copied, so a node tree).
List* EncodeFragment(const Fragment& fragment);

extern const CustomScanMethods FragmentScanMethods;

// From _PG_init.
void RegisterFragmentScan();

}  // namespace phantom::pg
