// DDL on distributed and reference tables; see ddl_propagation.hpp and
// docs/distributed-tables.md ("DDL").
//
// Every statement is handled the same way: find the distributed tables it
// names, refuse what cannot be propagated before anything changed, run the
// statement locally (on the shell), then re-create its effect on the shard
// tables and on the other nodes' shells with SQL deparsed from the local
// catalog (pg_get_indexdef, pg_get_constraintdef, format_type under
// WithQualifiedNames), never from the user's text. Deparsing after the fact
// means the shards get exactly what Postgres made of the statement (chosen
// names, resolved types, qualified functions), whatever search_path was.
// Remote work rides on the user's transaction (connection_pool.hpp).
#include "pg/commands/ddl_propagation.hpp"

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "core/common/error.hpp"
#include "core/metadata/node_membership.hpp"
#include "pg/guard.hpp"
#include "pg/metadata/metadata_cache.hpp"
#include "pg/metadata/metadata_log.hpp"
#include "pg/metadata/spi_catalog_store.hpp"
#include "pg/planner/distributed_planner.hpp"
#include "pg/remote/connection_pool.hpp"
#include "pg/sharding/shard_ddl.hpp"
#include "pg/spi.hpp"
#include "pg/sql_text.hpp"

extern "C" {
#include "access/xact.h"
#include "catalog/index.h"
#include "catalog/namespace.h"
#include "catalog/pg_authid.h"
#include "catalog/pg_class.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "optimizer/optimizer.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
}

namespace phantom::pg {

namespace {

using TablePtr = std::shared_ptr<const DistributedTable>;
using Rows = std::vector<std::vector<std::string>>;

std::string Quote(const std::string& identifier) {
  return PgCall([&] { return quote_identifier(identifier.c_str()); });
}

std::string ShellName(const DistributedTable& table) {
  return QualifiedName(table.record.schema_name, table.record.table_name);
}

std::string ShardName(const DistributedTable& table, const metadata::ShardRecord& shard) {
  return QualifiedName(table.record.schema_name, table.ShardTableName(shard));
}

// "<name>_<shard id>" within NAMEDATALEN - 1 bytes: the name is clipped at a
// character boundary, as Postgres clips the names it chooses itself.
std::string ShardObjectName(const std::string& name, metadata::ShardId shard_id) {
  const std::string suffix = "_" + std::to_string(shard_id);
  const int room = NAMEDATALEN - 1 - static_cast<int>(suffix.size());
  const int keep = PgCall([&] { return pg_mbcliplen(name.c_str(), static_cast<int>(name.size()), room); });
  return name.substr(0, static_cast<size_t>(keep)) + suffix;
}

// Catalog reads and metadata commands that follow a DDL statement the user
// was allowed to run: schema phantomdb is closed to PUBLIC, so they run as
// the bootstrap superuser (as the metadata cache reads it). An error unwinds
// to the transaction abort, which restores the user.
template <typename Fn>
void AsCatalogOwner(Fn&& fn) {
  Oid saved_user = InvalidOid;
  int saved_context = 0;
  GetUserIdAndSecContext(&saved_user, &saved_context);
  SetUserIdAndSecContext(BOOTSTRAP_SUPERUSERID, saved_context | SECURITY_LOCAL_USERID_CHANGE);
  fn();
  SetUserIdAndSecContext(saved_user, saved_context);
}

// Every node of the cluster but this one: each holds a shell.
std::vector<metadata::NodeId> OtherNodes() {
  std::vector<metadata::NodeId> ids;
  AsCatalogOwner([&] {
    SpiCatalogStore store;
    for (const metadata::NodeRecord& node : store.ListNodes())
      if (node.node_id != metadata_cache::LocalNodeId()) ids.push_back(node.node_id);
  });
  return ids;
}

// The command goes to Raft when the transaction commits (metadata_log.hpp);
// held first, so that the metadata cache, reloaded by LockMetadata's own
// queries after the shell changed, already shows it (a renamed
// distribution column).
void ProposeAsCatalogOwner(const metadata::Command& command) {
  LocalPlanningScope local;
  ProposeAtCommit(command);
  AsCatalogOwner([&] { LockMetadata(); });
}

// Runs sql_for(shard table) on every placement of every shard.
template <typename SqlFor>
void OnShards(const DistributedTable& table, SqlFor&& sql_for) {
  for (const metadata::ShardRecord& shard : table.record.shards) {
    for (metadata::NodeId node_id : shard.placements) {
      for (const std::string& sql : sql_for(shard)) ExecuteOnNode(metadata_cache::Node(node_id), sql);
    }
  }
}

void OnOtherShells(const std::vector<metadata::NodeId>& nodes, const std::string& sql) {
  for (metadata::NodeId node_id : nodes) ExecuteOnNode(metadata_cache::Node(node_id), sql);
}

// A catalog query with one text parameter, on node (through SPI here, or on
// the node's connection inside the remote transaction). Every value as text.
Rows QueryOnNode(const CachedNode& node, const std::string& sql, const std::string& param) {
  Rows rows;
  if (node.node_id == metadata_cache::LocalNodeId()) {
    WithQualifiedNames([&] {
      spi::Execute(sql.c_str(), {spi::Text(param)});
      const int columns = SPI_tuptable->tupdesc->natts;
      for (uint64_t row = 0; row < spi::RowCount(); row++) {
        std::vector<std::string> values;
        for (int column = 0; column < columns; column++) values.push_back(spi::GetText(row, column));
        rows.push_back(std::move(values));
      }
    });
    return rows;
  }
  connection_pool::Run(node, connection_pool::Access::kWriteInTransaction, [&](NodeConnection& connection) {
    for (const RemoteRow& remote : connection.Query(sql, {param})) {
      std::vector<std::string> values;
      for (const auto& value : remote) values.push_back(value.value_or(""));
      rows.push_back(std::move(values));
    }
  });
  return rows;
}

[[noreturn]] void Unsupported(const std::string& what, const DistributedTable& table, const std::string& hint = "") {
  throw Error(sqlstate::kFeatureNotSupported,
              what + " is not supported on " + (table.IsReference() ? "reference" : "distributed") + " table \"" +
                  table.record.table_name + "\"",
              "", hint);
}

// ---------------------------------------------------------------- indexes

// pg_get_indexdef's text split at " USING ": the part before names the index
// and the table, the rest (access method, keys, INCLUDE, WITH, WHERE) is what
// a shard's index repeats. The prefix is rebuilt and compared, not searched
// for, so a name containing " USING " cannot confuse the split.
struct IndexDefinition {
  std::string name;
  bool unique = false;
  std::string tail;
};

constexpr const char* kIndexQuery =
    "SELECT c.relname::pg_catalog.text, i.indisunique::pg_catalog.text, pg_catalog.pg_get_indexdef(i.indexrelid), "
    "n.nspname::pg_catalog.text, t.relname::pg_catalog.text, "
    "EXISTS (SELECT 1 FROM pg_catalog.pg_constraint k WHERE k.conindid = i.indexrelid "
    "AND k.conrelid = i.indrelid)::pg_catalog.text "
    "FROM pg_catalog.pg_index i JOIN pg_catalog.pg_class c ON c.oid = i.indexrelid "
    "JOIN pg_catalog.pg_class t ON t.oid = i.indrelid JOIN pg_catalog.pg_namespace n ON n.oid = t.relnamespace ";

IndexDefinition ParseIndexRow(const std::vector<std::string>& row) {
  IndexDefinition index;
  index.name = row[0];
  index.unique = row[1] == "true";
  const std::string prefix = std::string("CREATE ") + (index.unique ? "UNIQUE " : "") + "INDEX " + Quote(row[0]) +
                             " ON " + QualifiedName(row[3], row[4]) + " USING ";
  if (row[2].compare(0, prefix.size(), prefix) != 0)
    throw Error(sqlstate::kInternalError, "unexpected definition of index \"" + row[0] + "\": " + row[2]);
  index.tail = row[2].substr(prefix.size());
  return index;
}

IndexDefinition LocalIndex(Oid index_oid) {
  IndexDefinition index;
  WithQualifiedNames([&] {
    spi::Execute((std::string(kIndexQuery) + "WHERE i.indexrelid = $1").c_str(),
                 {spi::Param{OIDOID, ObjectIdGetDatum(index_oid), false}});
    if (spi::RowCount() == 0)
      throw Error(sqlstate::kUndefinedObject, "index with OID " + std::to_string(index_oid) + " does not exist");
    std::vector<std::string> row;
    for (int column = 0; column < 6; column++) row.push_back(spi::GetText(0, column));
    index = ParseIndexRow(row);
  });
  return index;
}

std::set<Oid> IndexesOf(Oid relid) {
  std::set<Oid> oids;
  spi::Execute("SELECT indexrelid FROM pg_catalog.pg_index WHERE indrelid = $1",
               {spi::Param{OIDOID, ObjectIdGetDatum(relid), false}});
  for (uint64_t row = 0; row < spi::RowCount(); row++) oids.insert(static_cast<Oid>(spi::GetInt64(row, 0)));
  return oids;
}

std::string CreateIndexSql(const IndexDefinition& index, const std::string& name, const std::string& table,
                           bool concurrently, bool if_not_exists) {
  return std::string("CREATE ") + (index.unique ? "UNIQUE " : "") + "INDEX " + (concurrently ? "CONCURRENTLY " : "") +
         (if_not_exists ? "IF NOT EXISTS " : "") + Quote(name) + " ON " + table + " USING " + index.tail;
}

// A unique index that does not contain the distribution column cannot be
// enforced shard by shard (the same rule as phantom_create_distributed_table).
[[noreturn]] void ThrowUniqueWithoutDistributionColumn(const DistributedTable& table, const std::string& what) {
  const std::string& column = table.record.distribution_column;
  throw Error(sqlstate::kFeatureNotSupported,
              what + " on distributed table \"" + table.record.table_name +
                  "\" must contain the distribution column \"" + column + "\"",
              "",
              "A primary key, unique constraint, unique index or exclusion constraint must include the "
              "distribution column (add \"" +
                  column + "\" to it).");
}

// After the local change: every unique or exclusion index of a hash table
// must contain the distribution column as a plain key column.
void CheckUniqueIndexes(const DistributedTable& table) {
  if (table.IsReference()) return;
  spi::Execute(
      "SELECT c.relname::text FROM pg_catalog.pg_index i JOIN pg_catalog.pg_class c ON c.oid = i.indexrelid "
      "WHERE i.indrelid = $1 AND (i.indisunique OR i.indisexclusion) "
      "AND NOT ($2 = ANY (i.indkey::int2[])) ORDER BY c.relname LIMIT 1",
      {spi::Param{OIDOID, ObjectIdGetDatum(table.relid), false},
       spi::Param{INT2OID, Int16GetDatum(table.distribution_attno), false}});
  if (spi::RowCount() > 0) ThrowUniqueWithoutDistributionColumn(table, "unique index \"" + spi::GetText(0, 0) + "\"");
}

// Before anything runs, for a nicer error than the check after the fact.
void CheckIndexStatement(const IndexStmt* stmt, const DistributedTable& table) {
  if (table.IsReference() || !(stmt->unique || stmt->excludeOpNames != NIL)) return;
  ListCell* cell = nullptr;
  foreach (cell, stmt->indexParams) {
    const auto* element = static_cast<IndexElem*>(lfirst(cell));
    if (element->name != nullptr && table.record.distribution_column == element->name) return;
  }
  ThrowUniqueWithoutDistributionColumn(
      table, std::string("unique index") + (stmt->idxname ? " \"" + std::string(stmt->idxname) + "\"" : ""));
}

// The shard's copy of a shell index: the one named <index>_<shard id> if
// there is one, else the first with the same definition (indexes that came
// with CREATE TABLE ... LIKE carry names Postgres chose).
std::string FindShardIndex(const CachedNode& node, const std::string& shard, const std::string& shard_index_name,
                           const IndexDefinition& index) {
  const Rows rows =
      QueryOnNode(node, std::string(kIndexQuery) + "WHERE i.indrelid = $1::pg_catalog.regclass ORDER BY 1", shard);
  std::string found;
  for (const auto& row : rows) {
    const IndexDefinition candidate = ParseIndexRow(row);
    if (candidate.unique != index.unique || candidate.tail != index.tail) continue;
    if (candidate.name == shard_index_name) return candidate.name;
    if (found.empty()) found = candidate.name;
  }
  return found;
}

void PropagateNewIndexes(const DistributedTable& table, const std::set<Oid>& before, const IndexStmt* stmt) {
  std::vector<Oid> created;
  for (Oid oid : IndexesOf(table.relid))
    if (before.count(oid) == 0) created.push_back(oid);
  bool if_not_exists = false;
  if (created.empty() && stmt != nullptr && stmt->if_not_exists && stmt->idxname != nullptr) {
    // The shell had it already: make sure the shards have it too (the retry
    // after a failed propagation).
    const Oid existing = PgCall([&] { return get_relname_relid(stmt->idxname, get_rel_namespace(table.relid)); });
    if (OidIsValid(existing) && PgCall([&] { return IndexGetRelation(existing, true); }) == table.relid) {
      created.push_back(existing);
      if_not_exists = true;
    }
  }
  const std::vector<metadata::NodeId> others = OtherNodes();
  for (Oid oid : created) {
    const IndexDefinition index = LocalIndex(oid);
    OnShards(table, [&](const metadata::ShardRecord& shard) {
      return std::vector<std::string>{CreateIndexSql(index, ShardObjectName(index.name, shard.shard_id),
                                                     ShardName(table, shard), false, if_not_exists)};
    });
    OnOtherShells(others, CreateIndexSql(index, index.name, ShellName(table), false, if_not_exists));
  }
}

// ------------------------------------------------------------ constraints

struct ConstraintDefinition {
  Oid oid = InvalidOid;
  std::string name;
  char type = 0;
  std::string definition;
};

std::vector<ConstraintDefinition> ConstraintsOf(Oid relid) {
  std::vector<ConstraintDefinition> constraints;
  WithQualifiedNames([&] {
    spi::Execute(
        "SELECT oid, conname::text, contype::text, pg_catalog.pg_get_constraintdef(oid) "
        "FROM pg_catalog.pg_constraint WHERE conrelid = $1 AND contype IN ('c', 'p', 'u', 'x', 'f') ORDER BY oid",
        {spi::Param{OIDOID, ObjectIdGetDatum(relid), false}});
    for (uint64_t row = 0; row < spi::RowCount(); row++)
      constraints.push_back(ConstraintDefinition{static_cast<Oid>(spi::GetInt64(row, 0)), spi::GetText(row, 1),
                                                 spi::GetText(row, 2)[0], spi::GetText(row, 3)});
  });
  return constraints;
}

// Index-backed constraints name an index, and index names are unique per
// schema: on a shard they become <name>_<shard id>. CHECK constraints keep
// their name, as CREATE TABLE ... LIKE keeps it.
std::string ShardConstraintName(const ConstraintDefinition& constraint, metadata::ShardId shard_id) {
  return constraint.type == 'c' ? constraint.name : ShardObjectName(constraint.name, shard_id);
}

void PropagateNewConstraints(const DistributedTable& table, const std::vector<ConstraintDefinition>& before) {
  std::set<Oid> known;
  for (const auto& constraint : before) known.insert(constraint.oid);
  const std::vector<metadata::NodeId> others = OtherNodes();
  for (const ConstraintDefinition& constraint : ConstraintsOf(table.relid)) {
    if (known.count(constraint.oid) > 0) continue;
    if (constraint.type == 'f')
      Unsupported("FOREIGN KEY constraint \"" + constraint.name + "\"", table,
                  "Foreign keys on distributed and reference tables are not supported yet.");
    OnShards(table, [&](const metadata::ShardRecord& shard) {
      return std::vector<std::string>{"ALTER TABLE " + ShardName(table, shard) + " ADD CONSTRAINT " +
                                      Quote(ShardConstraintName(constraint, shard.shard_id)) + " " +
                                      constraint.definition};
    });
    OnOtherShells(others, "ALTER TABLE " + ShellName(table) + " ADD CONSTRAINT " + Quote(constraint.name) + " " +
                              constraint.definition);
  }
  CheckUniqueIndexes(table);
}

// The shard's copy of a shell constraint: same type and definition,
// preferring the name this code would have given it.
std::string FindShardConstraint(const CachedNode& node, const std::string& shard, const std::string& preferred,
                                const ConstraintDefinition& constraint) {
  const Rows rows = QueryOnNode(node,
                                "SELECT conname::pg_catalog.text, contype::pg_catalog.text, "
                                "pg_catalog.pg_get_constraintdef(oid) FROM pg_catalog.pg_constraint "
                                "WHERE conrelid = $1::pg_catalog.regclass ORDER BY 1",
                                shard);
  std::string found;
  for (const auto& row : rows) {
    if (row[1] != std::string(1, constraint.type) || row[2] != constraint.definition) continue;
    if (row[0] == preferred) return row[0];
    if (found.empty()) found = row[0];
  }
  return found;
}

// ------------------------------------------------------------ statements

TablePtr DistributedByRangeVar(RangeVar* relation, bool missing_ok) {
  const Oid relid = PgCall([&] { return RangeVarGetRelid(relation, NoLock, missing_ok); });
  return OidIsValid(relid) ? metadata_cache::Lookup(relid) : nullptr;
}

// This node belongs to the table's cluster, or DDL on its shells is
// refused: the shells and shards elsewhere would silently diverge.
void RequireMember(const DistributedTable& table) {
  if (metadata_cache::LocalNodeId() != 0) return;
  throw Error(sqlstate::kObjectNotInPrerequisiteState,
              "cannot change distributed table \"" + table.record.table_name + "\" on this node", "",
              "This node left the table's cluster.");
}

std::vector<TablePtr> DistributedInList(List* relations, bool missing_ok) {
  std::vector<TablePtr> tables;
  ListCell* cell = nullptr;
  foreach (cell, relations) {
    if (TablePtr table = DistributedByRangeVar(static_cast<RangeVar*>(lfirst(cell)), missing_ok)) {
      RequireMember(*table);
      tables.push_back(table);
    }
  }
  return tables;
}

void DropShardsAndShells(const DistributedTable& table, bool cascade, const std::vector<metadata::NodeId>& others) {
  const std::string behaviour = cascade ? " CASCADE" : "";
  OnShards(table, [&](const metadata::ShardRecord& shard) {
    return std::vector<std::string>{"DROP TABLE IF EXISTS " + ShardName(table, shard) + behaviour};
  });
  OnOtherShells(others, "DROP TABLE IF EXISTS " + ShellName(table) + behaviour);
}

bool DropTables(DropStmt* stmt, const std::function<void()>& run_local) {
  std::vector<TablePtr> tables;
  ListCell* cell = nullptr;
  foreach (cell, stmt->objects) {
    RangeVar* relation = PgCall([&] { return makeRangeVarFromNameList(static_cast<List*>(lfirst(cell))); });
    if (TablePtr table = DistributedByRangeVar(relation, true)) {
      RequireMember(*table);
      tables.push_back(table);
    }
  }
  if (tables.empty()) return false;
  run_local();
  spi::WithSpi([&] {
    const std::vector<metadata::NodeId> others = OtherNodes();
    for (const TablePtr& table : tables) {
      DropShardsAndShells(*table, stmt->behavior == DROP_CASCADE, others);
      ProposeAsCatalogOwner(metadata::DropDistributedTable{table->record.table_id});
    }
  });
  return true;
}

bool DropIndexes(DropStmt* stmt, const std::function<void()>& run_local) {
  struct Dropped {
    TablePtr table;
    IndexDefinition index;
  };
  std::vector<Dropped> dropped;
  spi::WithSpi([&] {
    ListCell* cell = nullptr;
    foreach (cell, stmt->objects) {
      RangeVar* relation = PgCall([&] { return makeRangeVarFromNameList(static_cast<List*>(lfirst(cell))); });
      const Oid index_oid = PgCall([&] { return RangeVarGetRelid(relation, NoLock, true); });
      if (!OidIsValid(index_oid)) continue;
      const Oid relid = PgCall([&] { return IndexGetRelation(index_oid, true); });
      TablePtr table = OidIsValid(relid) ? metadata_cache::Lookup(relid) : nullptr;
      if (!table) continue;
      RequireMember(*table);
      if (stmt->concurrent) Unsupported("DROP INDEX CONCURRENTLY", *table, "Use DROP INDEX without CONCURRENTLY.");
      dropped.push_back(Dropped{table, LocalIndex(index_oid)});
    }
  });
  if (dropped.empty()) return false;
  run_local();
  spi::WithSpi([&] {
    const std::vector<metadata::NodeId> others = OtherNodes();
    const std::string behaviour = stmt->behavior == DROP_CASCADE ? " CASCADE" : "";
    for (const Dropped& entry : dropped) {
      const DistributedTable& table = *entry.table;
      for (const metadata::ShardRecord& shard : table.record.shards) {
        for (metadata::NodeId node_id : shard.placements) {
          const CachedNode& node = metadata_cache::Node(node_id);
          const std::string name = FindShardIndex(node, ShardName(table, shard),
                                                  ShardObjectName(entry.index.name, shard.shard_id), entry.index);
          if (!name.empty())
            ExecuteOnNode(node, "DROP INDEX " + QualifiedName(table.record.schema_name, name) + behaviour);
        }
      }
      OnOtherShells(others,
                    "DROP INDEX IF EXISTS " + QualifiedName(table.record.schema_name, entry.index.name) + behaviour);
    }
  });
  return true;
}

bool DropSchemas(DropStmt* stmt) {
  metadata_cache::EnsureLoaded();
  ListCell* cell = nullptr;
  foreach (cell, stmt->objects) {
    const std::string schema = strVal(lfirst(cell));
    for (const TablePtr& table : metadata_cache::AllTables()) {
      if (table->record.schema_name != schema) continue;
      throw Error(sqlstate::kFeatureNotSupported,
                  "cannot drop schema \"" + schema + "\": it contains " +
                      (table->IsReference() ? "reference" : "distributed") + " table \"" + table->record.table_name +
                      "\"",
                  "", "Drop its distributed and reference tables with DROP TABLE first.");
    }
  }
  return false;
}

bool Truncate(TruncateStmt* stmt, const std::function<void()>& run_local) {
  const std::vector<TablePtr> tables = DistributedInList(stmt->relations, false);
  if (tables.empty()) return false;
  run_local();
  spi::WithSpi([&] {
    for (const TablePtr& table : tables) {
      OnShards(*table, [&](const metadata::ShardRecord& shard) {
        return std::vector<std::string>{"TRUNCATE TABLE " + ShardName(*table, shard)};
      });
    }
  });
  return true;
}

bool CreateIndex(IndexStmt* stmt, const std::function<void()>& run_local) {
  TablePtr table = DistributedByRangeVar(stmt->relation, false);
  if (!table) return false;
  RequireMember(*table);
  CheckIndexStatement(stmt, *table);
  std::set<Oid> before;
  spi::WithSpi([&] { before = IndexesOf(table->relid); });
  run_local();
  spi::WithSpi([&] {
    CheckUniqueIndexes(*table);
    PropagateNewIndexes(*table, before, stmt);
  });
  return true;
}

std::string RoleSpecSql(const RoleSpec* role) {
  switch (role->roletype) {
    case ROLESPEC_CSTRING:
      return Quote(role->rolename);
    case ROLESPEC_CURRENT_ROLE:
      return "CURRENT_ROLE";
    case ROLESPEC_CURRENT_USER:
      return "CURRENT_USER";
    case ROLESPEC_SESSION_USER:
      return "SESSION_USER";
    case ROLESPEC_PUBLIC:
      return "PUBLIC";
  }
  return "PUBLIC";
}

bool Grant(GrantStmt* stmt, const std::function<void()>& run_local) {
  if (stmt->objtype != OBJECT_TABLE) return false;
  std::vector<TablePtr> tables;
  if (stmt->targtype == ACL_TARGET_OBJECT) {
    tables = DistributedInList(stmt->objects, false);
  } else if (stmt->targtype == ACL_TARGET_ALL_IN_SCHEMA) {
    ListCell* cell = nullptr;
    foreach (cell, stmt->objects) {
      const std::string schema = strVal(lfirst(cell));
      for (const TablePtr& table : metadata_cache::AllTables())
        if (table->record.schema_name == schema) tables.push_back(table);
    }
    for (const TablePtr& table : tables) RequireMember(*table);
  }
  if (tables.empty()) return false;

  // The statement's own parse tree, re-printed: privilege names are keywords
  // Postgres accepted when it ran the statement locally first.
  std::string privileges;
  if (stmt->privileges == NIL) {
    privileges = "ALL";
  } else {
    ListCell* cell = nullptr;
    foreach (cell, stmt->privileges) {
      const auto* privilege = static_cast<AccessPriv*>(lfirst(cell));
      if (!privileges.empty()) privileges += ", ";
      privileges += privilege->priv_name ? privilege->priv_name : "ALL";
      if (privilege->cols != NIL) {
        privileges += " (";
        ListCell* column = nullptr;
        bool first = true;
        foreach (column, privilege->cols) {
          if (!first) privileges += ", ";
          first = false;
          privileges += Quote(strVal(lfirst(column)));
        }
        privileges += ")";
      }
    }
  }
  for (char c : privileges)
    if (!(isalnum(static_cast<unsigned char>(c)) || c == ' ' || c == ',' || c == '(' || c == ')' || c == '"' ||
          c == '_' || static_cast<unsigned char>(c) >= 0x80))
      Unsupported("GRANT with privilege list \"" + privileges + "\"", *tables.front());
  std::string grantees;
  ListCell* cell = nullptr;
  foreach (cell, stmt->grantees) {
    if (!grantees.empty()) grantees += ", ";
    grantees += RoleSpecSql(static_cast<RoleSpec*>(lfirst(cell)));
  }
  const std::string head = stmt->is_grant ? "GRANT " + privileges + " ON TABLE "
                                          : std::string("REVOKE ") + (stmt->grant_option ? "GRANT OPTION FOR " : "") +
                                                privileges + " ON TABLE ";
  std::string tail = stmt->is_grant ? " TO " + grantees : " FROM " + grantees;
  if (stmt->is_grant && stmt->grant_option) tail += " WITH GRANT OPTION";
  if (stmt->grantor != nullptr) tail += " GRANTED BY " + RoleSpecSql(stmt->grantor);
  if (!stmt->is_grant && stmt->behavior == DROP_CASCADE) tail += " CASCADE";

  run_local();
  spi::WithSpi([&] {
    const std::vector<metadata::NodeId> others = OtherNodes();
    for (const TablePtr& table : tables) {
      OnShards(*table, [&](const metadata::ShardRecord& shard) {
        return std::vector<std::string>{head + ShardName(*table, shard) + tail};
      });
      OnOtherShells(others, head + ShellName(*table) + tail);
    }
  });
  return true;
}

bool Rename(RenameStmt* stmt, const std::function<void()>& run_local) {
  if (stmt->renameType == OBJECT_SCHEMA) {
    metadata_cache::EnsureLoaded();
    for (const TablePtr& table : metadata_cache::AllTables())
      if (table->record.schema_name == stmt->subname)
        throw Error(sqlstate::kFeatureNotSupported,
                    "cannot rename schema \"" + std::string(stmt->subname) + "\": it contains " +
                        (table->IsReference() ? "reference" : "distributed") + " table \"" + table->record.table_name +
                        "\"",
                    "", "Move the tables with ALTER TABLE ... SET SCHEMA first, or create a new schema.");
    return false;
  }
  if (stmt->relation == nullptr) return false;
  if (stmt->renameType != OBJECT_TABLE && stmt->renameType != OBJECT_COLUMN && stmt->renameType != OBJECT_TABCONSTRAINT)
    return false;
  TablePtr table = DistributedByRangeVar(stmt->relation, stmt->missing_ok);
  if (!table) return false;
  RequireMember(*table);
  // A constraint's shard copies are found by definition, not by name: a
  // rename of the shell's constraint needs nothing else.
  if (stmt->renameType == OBJECT_TABCONSTRAINT) {
    run_local();
    return true;
  }
  const std::string new_name = stmt->newname;
  if (stmt->renameType == OBJECT_TABLE && new_name.size() + 20 > NAMEDATALEN - 1)
    throw Error(
        sqlstate::kInvalidParameterValue, "table name \"" + new_name + "\" is too long to name its shards", "",
        "Shard tables are named <table>_<shard id>; use at most " + std::to_string(NAMEDATALEN - 21) + " characters.");
  run_local();
  spi::WithSpi([&] {
    // The catalog follows the shell at once: the metadata cache reloads on
    // its next use (the shell's relcache entry changed) and must find the
    // table under its new names.
    metadata::RenameDistributedTable command{table->record.table_id, table->record.schema_name,
                                             table->record.table_name, table->record.distribution_column};
    const bool distribution_column = stmt->renameType == OBJECT_COLUMN && !table->IsReference() &&
                                     table->record.distribution_column == stmt->subname;
    if (stmt->renameType == OBJECT_TABLE) command.table_name = new_name;
    if (distribution_column) command.distribution_column = new_name;
    if (stmt->renameType == OBJECT_TABLE || distribution_column) ProposeAsCatalogOwner(command);

    const std::vector<metadata::NodeId> others = OtherNodes();
    if (stmt->renameType == OBJECT_TABLE) {
      OnShards(*table, [&](const metadata::ShardRecord& shard) {
        return std::vector<std::string>{"ALTER TABLE " + ShardName(*table, shard) + " RENAME TO " +
                                        Quote(new_name + "_" + std::to_string(shard.shard_id))};
      });
      OnOtherShells(others, "ALTER TABLE " + ShellName(*table) + " RENAME TO " + Quote(new_name));
      return;
    }
    const std::string rename = " RENAME COLUMN " + Quote(stmt->subname) + " TO " + Quote(new_name);
    OnShards(*table, [&](const metadata::ShardRecord& shard) {
      return std::vector<std::string>{"ALTER TABLE " + ShardName(*table, shard) + rename};
    });
    OnOtherShells(others, "ALTER TABLE " + ShellName(*table) + rename);
  });
  return true;
}

bool SetSchema(AlterObjectSchemaStmt* stmt, const std::function<void()>& run_local) {
  if (stmt->objectType != OBJECT_TABLE || stmt->relation == nullptr) return false;
  TablePtr table = DistributedByRangeVar(stmt->relation, stmt->missing_ok);
  if (!table) return false;
  RequireMember(*table);
  const std::string schema = stmt->newschema;
  run_local();
  spi::WithSpi([&] {
    // The catalog first, as for a rename.
    ProposeAsCatalogOwner(metadata::RenameDistributedTable{table->record.table_id, schema, table->record.table_name,
                                                           table->record.distribution_column});
    const std::vector<metadata::NodeId> others = OtherNodes();
    OnShards(*table, [&](const metadata::ShardRecord& shard) {
      return std::vector<std::string>{"ALTER TABLE " + ShardName(*table, shard) + " SET SCHEMA " + Quote(schema)};
    });
    OnOtherShells(others, "ALTER TABLE " + ShellName(*table) + " SET SCHEMA " + Quote(schema));
  });
  return true;
}

// ------------------------------------------------------------ ALTER TABLE

const char* SubcommandName(const AlterTableCmd* cmd) {
  switch (cmd->subtype) {
    case AT_AddColumn:
      return "ADD COLUMN";
    case AT_ColumnDefault:
      return "ALTER COLUMN ... SET/DROP DEFAULT";
    case AT_DropNotNull:
      return "ALTER COLUMN ... DROP NOT NULL";
    case AT_SetNotNull:
      return "ALTER COLUMN ... SET NOT NULL";
    case AT_DropExpression:
      return "ALTER COLUMN ... DROP EXPRESSION";
    case AT_SetStatistics:
      return "ALTER COLUMN ... SET STATISTICS";
    case AT_SetOptions:
      return "ALTER COLUMN ... SET (...)";
    case AT_ResetOptions:
      return "ALTER COLUMN ... RESET (...)";
    case AT_SetStorage:
      return "ALTER COLUMN ... SET STORAGE";
    case AT_SetCompression:
      return "ALTER COLUMN ... SET COMPRESSION";
    case AT_DropColumn:
      return "DROP COLUMN";
    case AT_AddConstraint:
      return "ADD CONSTRAINT";
    case AT_AlterConstraint:
      return "ALTER CONSTRAINT";
    case AT_ValidateConstraint:
      return "VALIDATE CONSTRAINT";
    case AT_DropConstraint:
      return "DROP CONSTRAINT";
    case AT_AlterColumnType:
      return "ALTER COLUMN ... TYPE";
    case AT_ChangeOwner:
      return "OWNER TO";
    case AT_ClusterOn:
      return "CLUSTER ON";
    case AT_DropCluster:
      return "SET WITHOUT CLUSTER";
    case AT_SetLogged:
      return "SET LOGGED";
    case AT_SetUnLogged:
      return "SET UNLOGGED";
    case AT_SetAccessMethod:
      return "SET ACCESS METHOD";
    case AT_SetTableSpace:
      return "SET TABLESPACE";
    case AT_SetRelOptions:
      return "SET (...)";
    case AT_ResetRelOptions:
      return "RESET (...)";
    case AT_EnableTrig:
    case AT_EnableAlwaysTrig:
    case AT_EnableReplicaTrig:
    case AT_EnableTrigAll:
    case AT_EnableTrigUser:
      return "ENABLE TRIGGER";
    case AT_DisableTrig:
    case AT_DisableTrigAll:
    case AT_DisableTrigUser:
      return "DISABLE TRIGGER";
    case AT_EnableRule:
    case AT_EnableAlwaysRule:
    case AT_EnableReplicaRule:
      return "ENABLE RULE";
    case AT_DisableRule:
      return "DISABLE RULE";
    case AT_AddInherit:
      return "INHERIT";
    case AT_DropInherit:
      return "NO INHERIT";
    case AT_AddOf:
      return "OF";
    case AT_DropOf:
      return "NOT OF";
    case AT_ReplicaIdentity:
      return "REPLICA IDENTITY";
    case AT_EnableRowSecurity:
      return "ENABLE ROW LEVEL SECURITY";
    case AT_DisableRowSecurity:
      return "DISABLE ROW LEVEL SECURITY";
    case AT_ForceRowSecurity:
      return "FORCE ROW LEVEL SECURITY";
    case AT_NoForceRowSecurity:
      return "NO FORCE ROW LEVEL SECURITY";
    case AT_AttachPartition:
      return "ATTACH PARTITION";
    case AT_DetachPartition:
      return "DETACH PARTITION";
    case AT_AddIdentity:
      return "ALTER COLUMN ... ADD GENERATED AS IDENTITY";
    case AT_SetIdentity:
      return "ALTER COLUMN ... SET GENERATED";
    case AT_DropIdentity:
      return "ALTER COLUMN ... DROP IDENTITY";
    default:
      return "this ALTER TABLE subcommand";
  }
}

struct AlterPlan {
  const AlterTableCmd* cmd;
  bool column_exists = false;    // ADD COLUMN IF NOT EXISTS of a column that exists
  ConstraintDefinition dropped;  // DROP CONSTRAINT: the constraint as it was
};

void CheckAlterCommand(const DistributedTable& table, AlterPlan& plan,
                       const std::vector<ConstraintDefinition>& constraints) {
  const AlterTableCmd* cmd = plan.cmd;
  const std::string column = cmd->name ? cmd->name : "";
  const bool distribution_column = !table.IsReference() && column == table.record.distribution_column;
  switch (cmd->subtype) {
    case AT_AddColumn: {
      const auto* def = castNode(ColumnDef, cmd->def);
      if (def->identity || def->generated)
        Unsupported(std::string("ADD COLUMN \"") + def->colname + "\" with an identity or generated column", table);
      ListCell* cell = nullptr;
      foreach (cell, def->constraints) {
        const auto* constraint = static_cast<Constraint*>(lfirst(cell));
        if (constraint->contype == CONSTR_FOREIGN)
          Unsupported(std::string("ADD COLUMN \"") + def->colname + "\" with a FOREIGN KEY", table,
                      "Foreign keys on distributed and reference tables are not supported yet.");
        if (constraint->contype == CONSTR_IDENTITY || constraint->contype == CONSTR_GENERATED)
          Unsupported(std::string("ADD COLUMN \"") + def->colname + "\" with an identity or generated column", table);
      }
      plan.column_exists =
          cmd->missing_ok && PgCall([&] { return get_attnum(table.relid, def->colname); }) != InvalidAttrNumber;
      return;
    }
    case AT_DropColumn:
      if (distribution_column)
        throw Error(sqlstate::kFeatureNotSupported,
                    "cannot drop column \"" + column + "\" of distributed table \"" + table.record.table_name +
                        "\": it is the distribution column",
                    "", "Use phantom_undistribute_table first if the column must go.");
      return;
    case AT_AlterColumnType: {
      if (distribution_column)
        throw Error(sqlstate::kFeatureNotSupported,
                    "cannot change the type of column \"" + column + "\" of distributed table \"" +
                        table.record.table_name + "\": it is the distribution column",
                    "", "Rows are placed by the hash of its value; changing its type would move them.");
      const auto* def = castNode(ColumnDef, cmd->def);
      if (def->raw_default != nullptr)
        Unsupported("ALTER COLUMN \"" + column + "\" TYPE ... USING", table,
                    "Add a column of the new type, fill it with UPDATE, then drop the old one.");
      return;
    }
    case AT_AddConstraint: {
      const auto* constraint = castNode(Constraint, cmd->def);
      if (constraint->contype == CONSTR_FOREIGN)
        Unsupported(std::string("FOREIGN KEY constraint") +
                        (constraint->conname ? " \"" + std::string(constraint->conname) + "\"" : ""),
                    table, "Foreign keys on distributed and reference tables are not supported yet.");
      // Checked before anything runs: a shard may otherwise fail first with
      // a less helpful error (say, NULLs in the new key).
      const bool keyed = constraint->contype == CONSTR_PRIMARY || constraint->contype == CONSTR_UNIQUE ||
                         constraint->contype == CONSTR_EXCLUSION;
      if (keyed && !table.IsReference() && constraint->indexname == nullptr) {
        bool contains = false;
        ListCell* cell = nullptr;
        if (constraint->contype == CONSTR_EXCLUSION) {
          foreach (cell, constraint->exclusions) {
            const auto* element = static_cast<IndexElem*>(linitial(static_cast<List*>(lfirst(cell))));
            if (element->name != nullptr && table.record.distribution_column == element->name) contains = true;
          }
        } else {
          foreach (cell, constraint->keys)
            if (table.record.distribution_column == strVal(lfirst(cell))) contains = true;
        }
        if (!contains) {
          const char* kind = constraint->contype == CONSTR_PRIMARY  ? "primary key"
                             : constraint->contype == CONSTR_UNIQUE ? "unique constraint"
                                                                    : "exclusion constraint";
          ThrowUniqueWithoutDistributionColumn(
              table, std::string(kind) + (constraint->conname ? " \"" + std::string(constraint->conname) + "\"" : ""));
        }
      }
      return;
    }
    case AT_DropConstraint:
      for (const ConstraintDefinition& constraint : constraints)
        if (constraint.name == column) plan.dropped = constraint;
      return;
    case AT_ColumnDefault:
    case AT_DropNotNull:
    case AT_SetNotNull:
    case AT_ChangeOwner:
      return;
    default:
      Unsupported(std::string("ALTER TABLE ... ") + SubcommandName(cmd), table);
  }
}

// ADD COLUMN on a shard: the column as the shell now has it. A default is
// evaluated once here and given to the shard only while the column is
// added, so existing rows get it; afterwards the coordinator supplies values.
std::vector<std::string> AddColumnSql(const DistributedTable& table, const std::string& column,
                                      bool& volatile_default) {
  std::string type;
  std::string collation;
  bool not_null = false;
  std::string default_literal;
  bool has_default = false;
  WithQualifiedNames([&] {
    spi::Execute(
        "SELECT pg_catalog.format_type(a.atttypid, a.atttypmod), "
        "CASE WHEN a.attcollation <> 0 AND a.attcollation <> t.typcollation "
        "THEN ' COLLATE ' || pg_catalog.quote_ident(cn.nspname) || '.' || pg_catalog.quote_ident(c.collname) "
        "ELSE '' END, a.attnotnull, pg_catalog.pg_get_expr(d.adbin, d.adrelid), d.adbin::pg_catalog.text "
        "FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_type t ON t.oid = a.atttypid "
        "LEFT JOIN pg_catalog.pg_collation c ON c.oid = a.attcollation "
        "LEFT JOIN pg_catalog.pg_namespace cn ON cn.oid = c.collnamespace "
        "LEFT JOIN pg_catalog.pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum "
        "WHERE a.attrelid = $1 AND a.attname = $2 AND NOT a.attisdropped",
        {spi::Param{OIDOID, ObjectIdGetDatum(table.relid), false}, spi::Text(column)});
    if (spi::RowCount() == 0) throw Error(sqlstate::kInternalError, "column \"" + column + "\" disappeared");
    type = spi::GetText(0, 0);
    collation = spi::GetText(0, 1);
    not_null = spi::GetBool(0, 2);
    if (!spi::IsNull(0, 3)) {
      const std::string expression = spi::GetText(0, 3);
      const std::string cooked = spi::GetText(0, 4);
      volatile_default =
          PgCall([&] { return contain_volatile_functions(static_cast<Node*>(stringToNode(cooked.c_str()))); });
      if (volatile_default) return;
      spi::Execute(("SELECT (" + expression + ")::pg_catalog.text").c_str());
      if (!spi::IsNull(0, 0)) {
        has_default = true;
        default_literal = PgCall([&] { return quote_literal_cstr(spi::GetText(0, 0).c_str()); });
      }
    }
  });
  std::vector<std::string> statements;
  std::string add = " ADD COLUMN " + Quote(column) + " " + type + collation;
  if (has_default) add += " DEFAULT " + default_literal + "::" + type;
  if (not_null) add += " NOT NULL";
  statements.push_back(add);
  if (has_default) statements.push_back(" ALTER COLUMN " + Quote(column) + " DROP DEFAULT");
  return statements;
}

bool AlterTable(AlterTableStmt* stmt, const std::function<void()>& run_local) {
  if (stmt->objtype != OBJECT_TABLE) return false;
  TablePtr table = DistributedByRangeVar(stmt->relation, stmt->missing_ok);
  if (!table) return false;
  RequireMember(*table);
  std::vector<AlterPlan> plans;
  std::vector<ConstraintDefinition> constraints_before;
  std::set<Oid> indexes_before;
  spi::WithSpi([&] {
    constraints_before = ConstraintsOf(table->relid);
    indexes_before = IndexesOf(table->relid);
    ListCell* cell = nullptr;
    foreach (cell, stmt->cmds) {
      AlterPlan plan{static_cast<AlterTableCmd*>(lfirst(cell))};
      CheckAlterCommand(*table, plan, constraints_before);
      plans.push_back(plan);
    }
  });
  run_local();
  spi::WithSpi([&] {
    const std::vector<metadata::NodeId> others = OtherNodes();
    // Per-table statement suffixes, applied to every shard and shell in order.
    std::vector<std::string> shard_actions;
    std::vector<std::string> shell_actions;
    for (const AlterPlan& plan : plans) {
      const AlterTableCmd* cmd = plan.cmd;
      const std::string column = cmd->name ? cmd->name : "";
      switch (cmd->subtype) {
        case AT_AddColumn: {
          if (plan.column_exists) break;
          const char* name = castNode(ColumnDef, cmd->def)->colname;
          bool volatile_default = false;
          std::vector<std::string> actions = AddColumnSql(*table, name, volatile_default);
          if (volatile_default)
            Unsupported(std::string("ADD COLUMN \"") + name + "\" with a volatile default", *table,
                        "Add the column without a default, fill it with UPDATE, then SET DEFAULT.");
          shard_actions.insert(shard_actions.end(), actions.begin(), actions.end());
          shell_actions.insert(shell_actions.end(), actions.begin(), actions.end());
          break;
        }
        case AT_DropColumn: {
          const std::string action =
              " DROP COLUMN IF EXISTS " + Quote(column) + (cmd->behavior == DROP_CASCADE ? " CASCADE" : "");
          shard_actions.push_back(action);
          shell_actions.push_back(action);
          break;
        }
        case AT_SetNotNull:
        case AT_DropNotNull: {
          const std::string action =
              " ALTER COLUMN " + Quote(column) + (cmd->subtype == AT_SetNotNull ? " SET NOT NULL" : " DROP NOT NULL");
          shard_actions.push_back(action);
          shell_actions.push_back(action);
          break;
        }
        case AT_AlterColumnType: {
          std::string type;
          WithQualifiedNames([&] {
            spi::Execute(
                "SELECT pg_catalog.format_type(a.atttypid, a.atttypmod) || "
                "CASE WHEN a.attcollation <> 0 THEN ' COLLATE ' || pg_catalog.quote_ident(cn.nspname) || '.' || "
                "pg_catalog.quote_ident(c.collname) ELSE '' END "
                "FROM pg_catalog.pg_attribute a LEFT JOIN pg_catalog.pg_collation c ON c.oid = a.attcollation "
                "LEFT JOIN pg_catalog.pg_namespace cn ON cn.oid = c.collnamespace "
                "WHERE a.attrelid = $1 AND a.attname = $2",
                {spi::Param{OIDOID, ObjectIdGetDatum(table->relid), false}, spi::Text(column)});
            type = spi::GetText(0, 0);
          });
          const std::string action = " ALTER COLUMN " + Quote(column) + " TYPE " + type;
          shard_actions.push_back(action);
          shell_actions.push_back(action);
          break;
        }
        case AT_ChangeOwner: {
          const std::string action = " OWNER TO " + RoleSpecSql(cmd->newowner);
          shard_actions.push_back(action);
          shell_actions.push_back(action);
          break;
        }
        case AT_DropConstraint: {
          if (plan.dropped.name.empty()) break;  // IF EXISTS of a missing one
          const std::string behaviour = cmd->behavior == DROP_CASCADE ? " CASCADE" : "";
          for (const metadata::ShardRecord& shard : table->record.shards) {
            for (metadata::NodeId node_id : shard.placements) {
              const CachedNode& node = metadata_cache::Node(node_id);
              const std::string name = FindShardConstraint(
                  node, ShardName(*table, shard), ShardConstraintName(plan.dropped, shard.shard_id), plan.dropped);
              if (!name.empty())
                ExecuteOnNode(
                    node, "ALTER TABLE " + ShardName(*table, shard) + " DROP CONSTRAINT " + Quote(name) + behaviour);
            }
          }
          shell_actions.push_back(" DROP CONSTRAINT IF EXISTS " + Quote(plan.dropped.name) + behaviour);
          break;
        }
        default:
          // SET/DROP DEFAULT: defaults are evaluated where writes are planned,
          // here; ADD CONSTRAINT: handled below from the catalog.
          break;
      }
    }
    OnShards(*table, [&](const metadata::ShardRecord& shard) {
      std::vector<std::string> statements;
      for (const std::string& action : shard_actions)
        statements.push_back("ALTER TABLE " + ShardName(*table, shard) + action);
      return statements;
    });
    for (const std::string& action : shell_actions) OnOtherShells(others, "ALTER TABLE " + ShellName(*table) + action);
    PropagateNewConstraints(*table, constraints_before);
  });
  return true;
}

// ------------------------------------------------- CREATE INDEX CONCURRENTLY

struct ConcurrentBuild {
  TablePtr table;
  std::set<Oid> before;
  bool if_not_exists = false;
  std::string name;  // the user's index name, if given
  IndexDefinition index;
};

// Lives across the transactions CREATE INDEX CONCURRENTLY commits; reset at
// every new statement.
std::optional<ConcurrentBuild> concurrent_build;

}  // namespace

bool PrepareConcurrentIndex(PlannedStmt* pstmt) {
  concurrent_build.reset();
  auto* stmt = castNode(IndexStmt, pstmt->utilityStmt);
  TablePtr table = DistributedByRangeVar(stmt->relation, false);
  if (!table) return false;
  RequireMember(*table);
  CheckIndexStatement(stmt, *table);
  ConcurrentBuild build;
  build.table = table;
  build.if_not_exists = stmt->if_not_exists;
  if (stmt->idxname) build.name = stmt->idxname;
  spi::WithSpi([&] { build.before = IndexesOf(table->relid); });
  concurrent_build = std::move(build);
  return true;
}

bool ResolveConcurrentIndex() {
  if (!concurrent_build) return false;
  ConcurrentBuild& build = *concurrent_build;
  const DistributedTable& table = *build.table;
  Oid index_oid = InvalidOid;
  spi::WithSpi([&] {
    for (Oid oid : IndexesOf(table.relid))
      if (build.before.count(oid) == 0) index_oid = oid;
    if (!OidIsValid(index_oid) && build.if_not_exists && !build.name.empty()) {
      const Oid existing =
          PgCall([&] { return get_relname_relid(build.name.c_str(), get_rel_namespace(table.relid)); });
      if (OidIsValid(existing) && PgCall([&] { return IndexGetRelation(existing, true); }) == table.relid)
        index_oid = existing;
    }
    if (OidIsValid(index_oid)) build.index = LocalIndex(index_oid);
  });
  if (!OidIsValid(index_oid)) {
    concurrent_build.reset();
    return false;
  }
  return true;
}

void FinishConcurrentIndex() {
  if (!concurrent_build) return;
  const ConcurrentBuild build = std::move(*concurrent_build);
  concurrent_build.reset();
  const DistributedTable& table = *build.table;
  // Outside a transaction block, an autocommit connection: each node builds
  // its index concurrently too, and it stays when a later node fails. This
  // node's shards go through a connection to itself as well: the shell's
  // build has committed and holds no lock, and CREATE INDEX CONCURRENTLY
  // run again inside this statement would have to juggle the snapshots and
  // transactions DefineIndex manages for the top-level statement.
  const std::vector<metadata::NodeId> others = [&] {
    std::vector<metadata::NodeId> ids;
    spi::WithSpi([&] { ids = OtherNodes(); });
    return ids;
  }();
  auto run = [](const CachedNode& node, const std::string& sql) {
    connection_pool::Run(node, connection_pool::Access::kWrite, [&](NodeConnection& connection) {
      connection.SendQuery(sql, {});
      connection.Drain();
    });
  };
  for (const metadata::ShardRecord& shard : table.record.shards) {
    for (metadata::NodeId node_id : shard.placements) {
      run(metadata_cache::Node(node_id), CreateIndexSql(build.index, ShardObjectName(build.index.name, shard.shard_id),
                                                        ShardName(table, shard), true, true));
    }
  }
  for (metadata::NodeId node_id : others)
    run(metadata_cache::Node(node_id), CreateIndexSql(build.index, build.index.name, ShellName(table), true, true));
}

bool ExecuteDistributedDdl(PlannedStmt* pstmt, const char*, ProcessUtilityContext,
                           const std::function<void()>& run_local) {
  Node* stmt = pstmt->utilityStmt;
  switch (nodeTag(stmt)) {
    case T_DropStmt: {
      auto* drop = castNode(DropStmt, stmt);
      if (drop->removeType == OBJECT_TABLE) return DropTables(drop, run_local);
      if (drop->removeType == OBJECT_INDEX) return DropIndexes(drop, run_local);
      if (drop->removeType == OBJECT_SCHEMA) return DropSchemas(drop);
      return false;
    }
    case T_TruncateStmt:
      return Truncate(castNode(TruncateStmt, stmt), run_local);
    case T_IndexStmt:
      return CreateIndex(castNode(IndexStmt, stmt), run_local);
    case T_AlterTableStmt:
      return AlterTable(castNode(AlterTableStmt, stmt), run_local);
    case T_RenameStmt:
      return Rename(castNode(RenameStmt, stmt), run_local);
    case T_AlterObjectSchemaStmt:
      return SetSchema(castNode(AlterObjectSchemaStmt, stmt), run_local);
    case T_GrantStmt:
      return Grant(castNode(GrantStmt, stmt), run_local);
    default:
      return false;
  }
}

}  // namespace phantom::pg
