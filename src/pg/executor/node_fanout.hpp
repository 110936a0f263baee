// Running one read statement on each of several nodes at once and gathering
// their rows into one store: the other nodes' statements are sent first, so
// that they all work while this node runs its own through SPI.
#pragma once

#include <string>
#include <vector>

#include "core/metadata/command.hpp"
#include "pg/executor/shard_statement.hpp"
#include "pg/postgres.hpp"

namespace phantom::pg {

struct NodeStatement {
  metadata::NodeId node_id;
  std::string sql;
};

// Runs every statement (read-only, with the statement's parameters `used`
// by the SQL) and stores all rows as tuples of descriptor. On an error the
// connections still sending rows are discarded and the error is rethrown.
void RunOnNodes(const std::vector<NodeStatement>& statements, ParamListInfo params, const std::vector<int>& used,
                TupleDesc descriptor, const ColumnMap& columns, Tuplestorestate* rows);

}  // namespace phantom::pg
