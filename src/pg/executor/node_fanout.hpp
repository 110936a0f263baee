// Running one read statement on each of several nodes at once and gathering
// their rows into one store: the other nodes' statements are sent first, so
// that they all work while this node runs its own through SPI.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/metadata/command.hpp"
#include "pg/executor/shard_statement.hpp"
#include "pg/postgres.hpp"

namespace phantom::pg {

struct NodeStatement {
  metadata::NodeId node_id;
  std::string sql;
  // SPI refuses EXPLAIN in a read-only statement; a node's own read-only
  // guarantee is not needed for the SELECTs and EXPLAINs sent here.
  bool read_only = true;
};

// For EXPLAIN ANALYZE: how many rows a node's statement returned, and the
// time from sending it until its last row was read here.
struct NodeTiming {
  metadata::NodeId node_id;
  uint64_t rows = 0;
  double milliseconds = 0;
};

// Runs every statement (read-only, with the statement's parameters `used`
// by the SQL) and stores all rows as tuples of descriptor. Another node may
// get several statements (at most connection_pool::ParallelReadConnections()),
// each on a connection of its own; this node's one runs here through SPI.
// On an error the connections still sending rows are discarded and the
// error is rethrown.
void RunOnNodes(const std::vector<NodeStatement>& statements, ParamListInfo params, const std::vector<int>& used,
                TupleDesc descriptor, const ColumnMap& columns, Tuplestorestate* rows,
                std::vector<NodeTiming>* timings = nullptr);

// The text rows of one statement on one node (an EXPLAIN), one string each.
std::vector<std::string> TextRowsOnNode(const NodeStatement& statement, ParamListInfo params,
                                        const std::vector<int>& used);

}  // namespace phantom::pg
