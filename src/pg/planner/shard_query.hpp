// The SQL a shard runs: the query deparsed by Postgres's own ruleutils
// (pg_get_querydef) with every name qualified, then cut where a distributed
// or reference table's name appears so that each execution can splice in
// the names of the shards it chose. The cut uses Postgres's SQL lexer, so a
// name inside a string literal or a comment is never touched.
#pragma once

#include <string>
#include <vector>

#include "core/metadata/command.hpp"
#include "pg/postgres.hpp"

namespace phantom::pg {

struct ShardQueryTemplate {
  std::vector<std::string> pieces;        // pieces.size() == tables.size() + 1
  std::vector<metadata::TableId> tables;  // the table whose shard name goes between pieces i and i+1

  // pieces[0] + name(tables[0]) + pieces[1] + ...
  template <typename NameOf>
  std::string Render(NameOf&& shard_name_of) const {
    std::string sql = pieces[0];
    for (size_t i = 0; i < tables.size(); i++) sql += shard_name_of(tables[i]) + pieces[i + 1];
    return sql;
  }
};

// Deparses query (not modified) and cuts it at each reference to one of the
// distributed or reference tables it uses. Throws 0A000 when the text cannot
// be cut safely (a table alias spelled like the schema of such a table).
ShardQueryTemplate BuildShardQuery(Query* query);

}  // namespace phantom::pg
