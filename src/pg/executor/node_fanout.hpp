// Running one read statement on each of several nodes at once and gathering
// their rows into one store: the other nodes' statements are sent first, so
// that they all work while this node runs its own through SPI.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/metadata/command.hpp"
#include "pg/executor/shard_statement.hpp"
#include "pg/remote/node_connection.hpp"
#include "pg/postgres.hpp"

extern "C" {
#include "storage/latch.h"
}

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

// Rows of read statements on other nodes, handed out as they arrive: every
// statement is sent at once, each connection delivers its rows one at a
// time (libpq's single-row mode), and Next takes a row from whichever node
// has one, so neither this node nor libpq holds a whole result.
class NodeRowStream {
 public:
  // Sends the statements (none for this node; at most
  // connection_pool::ParallelReadConnections() per node), each on a
  // connection of its own (connection_pool::AcquireForStream); only when
  // connection_pool::ExtraConnectionsAllowed().
  NodeRowStream(const std::vector<NodeStatement>& statements, ParamListInfo params, const std::vector<int>& used,
                TupleDesc descriptor);
  // Closes the connections of statements still running (an abandoned or
  // failed stream): nothing may wait on the network here.
  ~NodeRowStream();
  NodeRowStream(const NodeRowStream&) = delete;
  NodeRowStream& operator=(const NodeRowStream&) = delete;

  // The next row into slot (a virtual tuple, its values made in the current
  // memory context); false once every statement is done. Throws a node's
  // error.
  bool Next(TupleTableSlot* slot);

  // Ends statements still running when the rest of their rows is not
  // wanted (a LIMIT was reached): cancelled, the cancellation's error read;
  // the connections stay.
  void Finish();

 private:
  struct Source {
    metadata::NodeId node_id;
    NodeConnection* connection;
    NodeConnection::Result result;
    int row = 0;
    bool done = false;
  };
  void WaitForAny();

  std::vector<Source> sources_;
  RemoteRowReader reader_;
  size_t next_ = 0;  // where the round robin resumes
  WaitEventSet* waits_ = nullptr;
  size_t waits_for_ = 0;  // active sources when waits_ was built
};

// The text rows of one statement on one node (an EXPLAIN), one string each.
std::vector<std::string> TextRowsOnNode(const NodeStatement& statement, ParamListInfo params,
                                        const std::vector<int>& used);

}  // namespace phantom::pg
