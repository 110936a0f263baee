// Running one statement of shard SQL for the executor, and reading its rows
// into a tuplestore. On this node the statement runs through SPI with the
// user's own parameter values and a plan kept per backend; on another node
// it runs over the backend's connection with the parameters as text.
#pragma once

#include <string>
#include <vector>

#include "pg/postgres.hpp"

extern "C" {
#include "libpq-fe.h"
#include "nodes/params.h"
#include "utils/portal.h"
#include "utils/tuplestore.h"
}

namespace phantom::pg {

// Where each column of a statement's result goes in the tuple descriptor
// rows are stored with: the attribute index (0-based), or -1 to leave out.
// Empty: column i is attribute i.
using ColumnMap = std::vector<int>;

// Runs sql through SPI; call inside SPI_connect. Rows go to `rows` (when
// set) as tuples of `descriptor`, attributes not produced set to NULL.
// Returns the number of rows processed.
uint64_t RunLocalStatement(const std::string& sql, ParamListInfo params, bool read_only, TupleDesc descriptor,
                           const ColumnMap& columns, Tuplestorestate* rows);

// A cursor over sql run in this backend (call inside SPI_connect), with the
// statement's parameters: for INSERT ... SELECT, whose SELECT is planned
// like any query here.
Portal OpenLocalCursor(const std::string& sql, ParamListInfo params);

// The user's parameters for a remote statement: those the SQL mentions
// (`used`, 1-based) as text, typed with built-in type oids (other types are
// inferred by the node); the others typed text and NULL.
struct RemoteParams {
  std::vector<std::string> texts;
  std::vector<const char*> values;
  std::vector<Oid> types;
};
RemoteParams RemoteParamsOf(ParamListInfo params, const std::vector<int>& used);

// Reads text rows from a node into tuples of `descriptor`.
class RemoteRowReader {
 public:
  RemoteRowReader(TupleDesc descriptor, ColumnMap columns);
  void Store(const PGresult* result, Tuplestorestate* rows);
  // Row `row` of result into slot as a virtual tuple; values are made in the
  // current memory context.
  void ToSlot(const PGresult* result, int row, TupleTableSlot* slot);

 private:
  // The result's column count, checked against what the rows are read into.
  int CheckedColumns(const PGresult* result) const;

  TupleDesc descriptor_;
  ColumnMap columns_;
  std::vector<FmgrInfo> input_;
  std::vector<Oid> ioparams_;
};

}  // namespace phantom::pg
