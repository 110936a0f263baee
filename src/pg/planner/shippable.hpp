// Whether an expression may be evaluated on another node. A node has the
// built-in catalog and the shards' tables (and the enums they use), but not
// this node's user-defined functions, operators or types, nor this
// executor's internal parameters and subplans, nor this session's clock.
#pragma once

#include <cstdint>

#include "pg/postgres.hpp"

namespace phantom::pg {

// Sub-queries pass only when the caller splices shard names into the SQL
// it sends: over reference tables (which every node holds), or also over
// distributed tables when the caller made sure that each shard group's
// sub-query sees every row it would see over the whole table.
enum class SubqueriesOnNodes : uint8_t { kRefuse, kOverReferenceTables, kOverShardGroup };

// Whether query (or any query inside it) has security barriers that only
// this node's planner enforces: row-level security quals, or a
// security-barrier view. The SQL sent to a node would lose them, so such a
// query must be planned here (the general fallback applies them to the
// rows it reads).
bool HasSecurityBarriers(Query* query);

// True when node and everything below it can run on a node: built-in
// functions, operators, types and collations; parameters of the statement
// ($n); aggregates.
bool Shippable(Node* node, SubqueriesOnNodes subqueries);

}  // namespace phantom::pg
