// The DDL that creates a distributed table's pieces on a node: the empty
// shell (the table's definition, so every node plans and deparses against
// the same schema) and the shard tables (<table>_<shard id>, built LIKE the
// shell on that node).
#pragma once

#include <string>
#include <vector>

#include "pg/metadata/metadata_cache.hpp"
#include "pg/postgres.hpp"

namespace phantom::pg {

// Statements recreating relid's definition elsewhere: its schema and the
// enum types it uses when missing there; columns with types,
// collations, NOT NULL and generated expressions; CHECK, PRIMARY KEY, UNIQUE
// and EXCLUDE constraints; other indexes. Column defaults are left out:
// the node that plans an INSERT evaluates them (docs/distributed-tables.md).
// Call inside spi::WithSpi.
std::vector<std::string> ShellTableDdl(Oid relid);

// CREATE TABLE for one shard, LIKE the shell in the same schema.
std::string CreateShardTableSql(const std::string& schema, const std::string& table, const std::string& shard_table);

// Runs one statement on node: through SPI when node is this node (inside the
// caller's transaction), else on the node's connection inside a remote
// transaction that commits with the local one. Call inside spi::WithSpi.
void ExecuteOnNode(const CachedNode& node, const std::string& sql);

}  // namespace phantom::pg
