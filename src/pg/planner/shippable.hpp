// Whether an expression may be evaluated on another node. A node has the
// built-in catalog and the shards' tables (and the enums they use), but not
// this node's user-defined functions, operators or types, nor this
// executor's internal parameters and subplans, nor this session's clock.
#pragma once

#include "pg/postgres.hpp"

namespace phantom::pg {

// Sub-queries over reference tables (which every node holds) pass only when
// the caller splices shard names into the SQL it sends.
enum class SubqueriesOnNodes : bool { kRefuse, kOverReferenceTables };

// True when node and everything below it can run on a node: built-in
// functions, operators, types and collations; parameters of the statement
// ($n); aggregates.
bool Shippable(Node* node, SubqueriesOnNodes subqueries);

}  // namespace phantom::pg
