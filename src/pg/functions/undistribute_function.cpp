// phantom_undistribute_table: brings a distributed or reference table's rows
// back into its local table and forgets that it was distributed. The shards
// and remote shells are dropped in the caller's transaction (remote work
// commits with it, connection_pool.hpp), so an error leaves the table
// distributed as it was.
#include <algorithm>

#include "core/common/error.hpp"
#include "pg/guard.hpp"
#include "pg/metadata/metadata_cache.hpp"
#include "pg/metadata/metadata_log.hpp"
#include "pg/metadata/spi_catalog_store.hpp"
#include "pg/planner/distributed_planner.hpp"
#include "pg/remote/connection_pool.hpp"
#include "pg/remote/copy_text.hpp"
#include "pg/sharding/shard_ddl.hpp"
#include "pg/spi.hpp"
#include "pg/sql_text.hpp"

extern "C" {
#include "access/table.h"
#include "catalog/pg_authid.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
}

namespace phantom::pg {

namespace {

constexpr int kFetchBatch = 1000;

// Reads a remote shard through a cursor, kFetchBatch rows at a time, and
// inserts each row into the shell with one prepared statement: memory stays
// bounded by a batch whatever the shard's size.
void CopyRemoteShard(const CachedNode& node, const std::string& shard, const std::string& shell,
                     const CopyColumns& columns, const std::vector<std::string>& types) {
  std::string insert = "INSERT INTO " + shell + " " + columns.column_list + " VALUES (";
  for (size_t i = 0; i < types.size(); i++) {
    if (i > 0) insert += ", ";
    insert += "$" + std::to_string(i + 1) + "::pg_catalog.text::" + types[i];
  }
  insert += ")";
  const int count = static_cast<int>(types.size());
  SPIPlanPtr plan = PgCall([&] {
    Oid* param_types = static_cast<Oid*>(palloc(sizeof(Oid) * std::max(count, 1)));
    for (int i = 0; i < count; i++) param_types[i] = TEXTOID;
    SPIPlanPtr prepared = SPI_prepare(insert.c_str(), count, param_types);
    if (prepared == nullptr) elog(ERROR, "SPI_prepare failed for a shard copy: %s", SPI_result_code_string(SPI_result));
    return prepared;
  });
  MemoryContext batch_context = PgCall(
      [] { return AllocSetContextCreate(CurrentMemoryContext, "phantomdb undistribute", ALLOCSET_DEFAULT_SIZES); });
  connection_pool::Run(node, connection_pool::Access::kWriteInTransaction, [&](NodeConnection& connection) {
    const std::string select_list = columns.column_list.substr(1, columns.column_list.size() - 2);
    connection.Query("DECLARE phantom_undistribute NO SCROLL CURSOR FOR SELECT " + select_list + " FROM " + shard);
    for (;;) {
      const std::vector<RemoteRow> rows =
          connection.Query("FETCH " + std::to_string(kFetchBatch) + " FROM phantom_undistribute");
      if (rows.empty()) break;
      for (const RemoteRow& row : rows) {
        PgCall([&] {
          MemoryContext caller = MemoryContextSwitchTo(batch_context);
          Datum* values = static_cast<Datum*>(palloc0(sizeof(Datum) * std::max(count, 1)));
          char* nulls = static_cast<char*>(palloc0(std::max(count, 1)));
          for (int i = 0; i < count; i++) {
            if (row[i]) {
              values[i] = CStringGetTextDatum(row[i]->c_str());
              nulls[i] = ' ';
            } else {
              nulls[i] = 'n';
            }
          }
          MemoryContextSwitchTo(caller);
          const int result = SPI_execute_plan(plan, values, nulls, false, 0);
          if (result < 0) elog(ERROR, "SPI_execute_plan failed: %s", SPI_result_code_string(result));
          MemoryContextReset(batch_context);
        });
      }
      CheckForInterrupts();
    }
    connection.Query("CLOSE phantom_undistribute");
  });
}

Datum UndistributeTableFn(FunctionCallInfo fcinfo) {
  if (PG_ARGISNULL(0)) throw Error(sqlstate::kNullValueNotAllowed, "table must not be null");
  const Oid relid = PG_GETARG_OID(0);
  // Nobody may see the table half-moved.
  PgCall([&] { LockRelationOid(relid, AccessExclusiveLock); });
  std::shared_ptr<const DistributedTable> table = metadata_cache::Lookup(relid);
  const std::string relname = PgCall([&] {
    const char* name = get_rel_name(relid);
    return name ? name : "";
  });
  if (!table)
    throw Error(sqlstate::kInvalidParameterValue, "table \"" + relname + "\" is not a distributed or reference table");
  if (!PgCall([&] { return pg_class_ownercheck(relid, GetUserId()); }))
    throw Error(sqlstate::kInsufficientPrivilege, "must be owner of table " + relname);
  if (metadata_cache::LocalNodeId() == 0)
    throw Error(sqlstate::kObjectNotInPrerequisiteState, "this node is not part of the table's cluster");

  const std::string schema = table->record.schema_name;
  const std::string shell = QualifiedName(schema, table->record.table_name);
  spi::WithSpi([&] {
    Relation relation = PgCall([&] { return table_open(relid, AccessShareLock); });
    const CopyColumns columns = CopyColumnsOf(RelationGetDescr(relation));
    std::vector<std::string> types;
    WithQualifiedNames([&] {
      for (AttrNumber attno : columns.attnos) {
        const Form_pg_attribute attribute = TupleDescAttr(RelationGetDescr(relation), attno - 1);
        types.push_back(PgCall([&] { return format_type_with_typemod(attribute->atttypid, attribute->atttypmod); }));
      }
    });
    PgCall([&] { table_close(relation, NoLock); });

    {
      LocalPlanningScope local;
      const metadata::NodeId self = metadata_cache::LocalNodeId();
      for (const metadata::ShardRecord& shard : table->record.shards) {
        if (shard.placements.empty()) continue;
        const std::string shard_table = QualifiedName(schema, table->ShardTableName(shard));
        // One copy of each shard: this node's if it has one.
        const bool here = std::find(shard.placements.begin(), shard.placements.end(), self) != shard.placements.end();
        if (here) {
          const std::string select_list = columns.column_list.substr(1, columns.column_list.size() - 2);
          spi::Execute(
              ("INSERT INTO " + shell + " " + columns.column_list + " SELECT " + select_list + " FROM " + shard_table)
                  .c_str());
        } else {
          CopyRemoteShard(metadata_cache::Node(shard.placements.front()), shard_table, shell, columns, types);
        }
      }
    }

    for (const metadata::ShardRecord& shard : table->record.shards)
      for (metadata::NodeId node_id : shard.placements)
        ExecuteOnNode(metadata_cache::Node(node_id),
                      "DROP TABLE IF EXISTS " + QualifiedName(schema, table->ShardTableName(shard)));

    // The catalog is closed to PUBLIC; the owner check above is the
    // permission to change it.
    Oid saved_user = InvalidOid;
    int saved_context = 0;
    GetUserIdAndSecContext(&saved_user, &saved_context);
    SetUserIdAndSecContext(BOOTSTRAP_SUPERUSERID, saved_context | SECURITY_LOCAL_USERID_CHANGE);
    std::vector<metadata::NodeId> others;
    {
      SpiCatalogStore store;
      for (const metadata::NodeRecord& node : store.ListNodes())
        if (node.node_id != metadata_cache::LocalNodeId()) others.push_back(node.node_id);
    }
    SetUserIdAndSecContext(saved_user, saved_context);
    for (metadata::NodeId node_id : others)
      ExecuteOnNode(metadata_cache::Node(node_id), "DROP TABLE IF EXISTS " + shell);

    SetUserIdAndSecContext(BOOTSTRAP_SUPERUSERID, saved_context | SECURITY_LOCAL_USERID_CHANGE);
    LockMetadata();
    ProposeAtCommit(metadata::DropDistributedTable{table->record.table_id});
    SetUserIdAndSecContext(saved_user, saved_context);
  });
  PG_RETURN_VOID();
}

}  // namespace

}  // namespace phantom::pg

PHANTOM_FUNCTION(phantom_undistribute_table, phantom::pg::UndistributeTableFn)
