// Rows in COPY's text format, the form in which PhantomDB ships rows to shard
// tables (COPY ... FROM STDIN on the node): each value in its type's text
// output, tab-separated, with backslash escapes and \N for NULL.
#pragma once

#include <string>
#include <vector>

#include "pg/postgres.hpp"

namespace phantom::pg {

// The columns of a table that a COPY into its shards lists: not dropped, not
// generated (a shard computes its own generated columns).
struct CopyColumns {
  std::vector<AttrNumber> attnos;  // 1-based
  std::vector<FmgrInfo> output;    // the type output function of each
  std::string column_list;         // "(a, b, c)", quoted, for the COPY statement
};

CopyColumns CopyColumnsOf(TupleDesc descriptor);

// Appends one value's text (nullptr: NULL) in COPY text form.
void AppendCopyField(std::string& out, const char* text);

// Appends one row (values/nulls indexed by attno - 1) plus a newline.
void AppendCopyRow(std::string& out, const CopyColumns& columns, const Datum* values, const bool* nulls);

}  // namespace phantom::pg
