// phantom_create_distributed_table, phantom_create_reference_table,
// phantom_undistribute_table, phantom_shard_for_value and the hash function
// behind them. Creating a table: check it, lock it, create the shells and
// shard tables on their nodes, move its rows into the shards, empty the
// shell, then propose the metadata command; the remote work commits with the
// caller's transaction (connection_pool.hpp), so an error anywhere leaves no
// metadata and no shard behind.
#include <algorithm>
#include <limits>
#include <map>

#include "core/common/error.hpp"
#include "core/sharding/colocation.hpp"
#include "core/sharding/shard_map.hpp"
#include "core/metadata/image_catalog_store.hpp"
#include "pg/functions/arguments.hpp"
#include "core/metadata/node_membership.hpp"
#include "pg/guard.hpp"
#include "pg/metadata/metadata_cache.hpp"
#include "pg/metadata/metadata_log.hpp"
#include "pg/metadata/spi_catalog_store.hpp"
#include "pg/planner/distributed_planner.hpp"
#include "pg/remote/connection_pool.hpp"
#include "pg/remote/copy_text.hpp"
#include "pg/sharding/distribution_value.hpp"
#include "pg/sharding/shard_ddl.hpp"
#include "pg/settings.hpp"
#include "pg/spi.hpp"
#include "pg/sql_text.hpp"

extern "C" {
#include "access/table.h"
#include "catalog/pg_class.h"
#include "catalog/pg_constraint.h"
#include "catalog/pg_index.h"
#include "catalog/pg_inherits.h"
#include "commands/tablecmds.h"
#include "storage/lmgr.h"
#include "utils/lsyscache.h"
#include "utils/acl.h"
#include "utils/rel.h"
#include "utils/regproc.h"
#include "utils/syscache.h"
}

namespace phantom::pg {

namespace {

using metadata::DistributionMethod;
using metadata::ShardRecord;
using metadata::TableRecord;

struct TableName {
  std::string schema;
  std::string name;
  std::string Qualified() const { return QualifiedName(schema, name); }
};

TableName NameOf(Oid relid) {
  TableName name;
  PgCall([&] {
    char* rel = get_rel_name(relid);
    char* schema = rel ? get_namespace_name(get_rel_namespace(relid)) : nullptr;
    if (rel) name.name = rel;
    if (schema) name.schema = schema;
  });
  if (name.name.empty()) throw Error("42P01", "relation with OID " + std::to_string(relid) + " does not exist");
  return name;
}

Oid RequiredRegclass(FunctionCallInfo fcinfo, int arg, const char* name) {
  if (PG_ARGISNULL(arg)) throw Error(sqlstate::kNullValueNotAllowed, std::string(name) + " must not be null");
  return PG_GETARG_OID(arg);
}

// The checks that make a table distributable; all before any work starts.
void CheckDistributable(Oid relid, const TableName& name) {
  if (!PgCall([&] { return pg_class_ownercheck(relid, GetUserId()); }))
    throw Error(sqlstate::kInsufficientPrivilege, "must be owner of table " + name.name);
  const char kind = PgCall([&] { return get_rel_relkind(relid); });
  if (kind != RELKIND_RELATION)
    throw Error(sqlstate::kFeatureNotSupported,
                "cannot distribute \"" + name.name + "\": only plain tables can be distributed", "",
                kind == RELKIND_PARTITIONED_TABLE ? "Partitioned tables are not supported yet." : "");
  if (PgCall([&] { return get_rel_persistence(relid); }) == RELPERSISTENCE_TEMP)
    throw Error(sqlstate::kFeatureNotSupported, "cannot distribute temporary table \"" + name.name + "\"");
  if (metadata_cache::Lookup(relid))
    throw Error(sqlstate::kDuplicateObject, "table \"" + name.name + "\" is already distributed", "",
                "Use phantom_undistribute_table first to change how it is distributed.");
  const bool inherits = PgCall([&] { return has_superclass(relid) || has_subclass(relid); });
  if (inherits)
    throw Error(sqlstate::kFeatureNotSupported,
                "cannot distribute \"" + name.name + "\": it takes part in table inheritance");
  // Shards carry no policies, and the shard SQL the nodes run would bypass
  // the shell's (ALTER TABLE ... ENABLE ROW LEVEL SECURITY is refused on
  // distributed tables for the same reason).
  spi::Execute("SELECT relrowsecurity OR relforcerowsecurity FROM pg_catalog.pg_class WHERE oid = $1",
               {spi::Param{OIDOID, ObjectIdGetDatum(relid), false}});
  if (spi::RowCount() > 0 && spi::GetText(0, 0) == "t")
    throw Error(
        sqlstate::kFeatureNotSupported,
        "cannot distribute \"" + name.name + "\": row level security is not supported on distributed tables yet", "",
        "Disable it first: ALTER TABLE " + name.name + " DISABLE ROW LEVEL SECURITY.");
  spi::Execute(
      "SELECT conname, conrelid::pg_catalog.regclass::text FROM pg_catalog.pg_constraint "
      "WHERE contype = 'f' AND (conrelid = $1 OR confrelid = $1) ORDER BY conname LIMIT 1",
      {spi::Param{OIDOID, ObjectIdGetDatum(relid), false}});
  if (spi::RowCount() > 0)
    throw Error(sqlstate::kFeatureNotSupported,
                "cannot distribute \"" + name.name + "\": foreign key \"" + spi::GetText(0, 0) + "\" on table " +
                    spi::GetText(0, 1) + " is not supported yet",
                "", "Drop the foreign key before distributing the table.");
  const size_t longest_shard_name = name.name.size() + 1 + 19;
  if (longest_shard_name > NAMEDATALEN - 1 && name.name.size() + 8 > NAMEDATALEN - 1)
    throw Error(sqlstate::kInvalidParameterValue, "table name \"" + name.name + "\" is too long to name its shards", "",
                "Shard tables are named <table>_<shard id>; rename the table to at most " +
                    std::to_string(NAMEDATALEN - 9) + " characters.");
}

// A unique index that does not contain the distribution column cannot be
// enforced shard by shard.
void CheckUniqueIndexes(Oid relid, const std::string& column, AttrNumber attno) {
  spi::Execute(
      "SELECT c.relname::text, i.indkey::int2[]::text, i.indexprs IS NOT NULL "
      "FROM pg_catalog.pg_index i JOIN pg_catalog.pg_class c ON c.oid = i.indexrelid "
      "WHERE i.indrelid = $1 AND (i.indisunique OR i.indisexclusion) "
      "AND NOT ($2 = ANY (i.indkey::int2[])) ORDER BY c.relname LIMIT 1",
      {spi::Param{OIDOID, ObjectIdGetDatum(relid), false}, spi::Param{INT2OID, Int16GetDatum(attno), false}});
  if (spi::RowCount() > 0)
    throw Error(sqlstate::kFeatureNotSupported,
                "cannot distribute by column \"" + column + "\": unique index \"" + spi::GetText(0, 0) +
                    "\" does not contain it",
                "",
                "A primary key, unique constraint or exclusion constraint must include the distribution column "
                "(add \"" +
                    column + "\" to it, or distribute by a column it contains).");
}

std::vector<metadata::NodeId> ActiveNodes(const std::vector<metadata::NodeRecord>& nodes) {
  std::vector<metadata::NodeId> ids;
  for (const metadata::NodeRecord& node : nodes)
    if (node.state == metadata::NodeState::kActive) ids.push_back(node.node_id);
  return ids;
}

metadata::ClusterRecord RequireAdministeredCluster(metadata::CatalogStore& store) {
  std::optional<metadata::ClusterRecord> cluster = store.GetCluster();
  if (!cluster)
    throw Error(sqlstate::kObjectNotInPrerequisiteState, "this node is not part of a cluster", "",
                "Add nodes with phantom_add_node(host, port) first.");
  if (metadata_cache::LocalNodeId() == 0)
    throw Error(sqlstate::kObjectNotInPrerequisiteState, "this node has not joined its cluster yet", "",
                "Wait until phantom_raft_status() shows it as a member.");
  return *cluster;
}

// Streams the shell's rows whose hash falls in [hash_min, hash_max] (all of
// them for a reference table) into one shard table on node.
void CopyRowsToShard(const CachedNode& node, Oid relid, const TableName& table, const std::string& shard_table,
                     const std::string& column, int32_t hash_min, int32_t hash_max, bool all_rows) {
  Relation relation = PgCall([&] { return table_open(relid, AccessShareLock); });
  const CopyColumns columns = CopyColumnsOf(RelationGetDescr(relation));
  PgCall([&] { table_close(relation, NoLock); });
  const std::string where = all_rows ? std::string()
                                     : " WHERE phantomdb.distribution_hash(" +
                                           std::string(PgCall([&] { return quote_identifier(column.c_str()); })) +
                                           ") BETWEEN " + std::to_string(hash_min) + " AND " + std::to_string(hash_max);
  std::string select_list = columns.column_list.substr(1, columns.column_list.size() - 2);
  const std::string select = "SELECT " + select_list + " FROM ONLY " + table.Qualified() + where;
  const std::string target = QualifiedName(table.schema, shard_table);

  if (node.node_id == metadata_cache::LocalNodeId()) {
    spi::Execute(("INSERT INTO " + target + " " + columns.column_list + " " + select).c_str());
    return;
  }
  connection_pool::Run(node, connection_pool::Access::kWriteInTransaction, [&](NodeConnection& connection) {
    connection.SendQuery("COPY " + target + " " + columns.column_list + " FROM STDIN", {});
    NodeConnection::Result started = connection.NextResult();
    connection.ThrowIfError(started.get());
    started.reset();

    Portal portal = PgCall([&] {
      SPIPlanPtr plan = SPI_prepare(select.c_str(), 0, nullptr);
      if (plan == nullptr) elog(ERROR, "SPI_prepare failed for a shard copy: %s", SPI_result_code_string(SPI_result));
      return SPI_cursor_open(nullptr, plan, nullptr, nullptr, true);
    });
    std::string buffer;
    // Output text is palloc'd per value: a context reset per batch keeps a
    // large table's copy in bounded memory.
    MemoryContext batch_context = PgCall(
        [] { return AllocSetContextCreate(CurrentMemoryContext, "phantomdb shard copy", ALLOCSET_DEFAULT_SIZES); });
    for (;;) {
      PgCall([&] { SPI_cursor_fetch(portal, true, 1000); });
      const uint64_t fetched = SPI_processed;
      if (fetched == 0) break;
      MemoryContext caller_context = MemoryContextSwitchTo(batch_context);
      for (uint64_t row = 0; row < fetched; row++) {
        for (int column = 1; column <= SPI_tuptable->tupdesc->natts; column++) {
          if (column > 1) buffer += '\t';
          const char* value =
              PgCall([&] { return SPI_getvalue(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, column); });
          AppendCopyField(buffer, value);
        }
        buffer += '\n';
      }
      MemoryContextSwitchTo(caller_context);
      PgCall([&] {
        SPI_freetuptable(SPI_tuptable);
        MemoryContextReset(batch_context);
      });
      connection.PutCopyData(buffer.data(), buffer.size());
      buffer.clear();
    }
    PgCall([&] { SPI_cursor_close(portal); });
    connection.PutCopyEnd();
    connection.Drain();
  });
}

struct DistributeRequest {
  Oid relid = InvalidOid;
  DistributionMethod method = DistributionMethod::kHash;
  std::string column;
  int32_t shard_count = 1;
  std::string colocate_with = "none";
  int32_t replication_factor = 1;
};

void Distribute(const DistributeRequest& request) {
  const bool reference = request.method == DistributionMethod::kReference;
  const TableName name = NameOf(request.relid);
  // Writers wait until the rows have moved; nobody may see the table half-moved.
  PgCall([&] { LockRelationOid(request.relid, AccessExclusiveLock); });
  spi::WithSpi([&] {
    CheckDistributable(request.relid, name);
    AttrNumber attno = InvalidAttrNumber;
    std::string type_name;
    if (!reference) {
      attno = PgCall([&] { return get_attnum(request.relid, request.column.c_str()); });
      if (attno == InvalidAttrNumber || attno < 0)
        throw Error("42703", "column \"" + request.column + "\" of relation \"" + name.name + "\" does not exist");
      Oid type = InvalidOid;
      int32 typmod = 0;
      Oid collation = InvalidOid;
      PgCall([&] { get_atttypetypmodcoll(request.relid, attno, &type, &typmod, &collation); });
      CheckDistributionType(type, collation, request.column);
      CheckUniqueIndexes(request.relid, request.column, attno);
      type_name = WithQualifiedNames([&] { return std::string(PgCall([&] { return format_type_be(type); })); });
    }

    LockMetadata();
    // Decided on the catalog as this transaction leaves it: tables it
    // distributed before this one hold their ids already.
    metadata::CatalogImage image = CatalogWithCommandsAtCommit();
    metadata::ImageCatalogStore store(image);
    const metadata::ClusterRecord cluster = RequireAdministeredCluster(store);
    const std::vector<metadata::NodeRecord> nodes = store.ListNodes();
    const std::vector<metadata::NodeId> active = ActiveNodes(nodes);
    const std::vector<TableRecord> tables = store.ListTables();

    metadata::CreateDistributedTable command;
    TableRecord& table = command.table;
    table.table_id = cluster.next_table_id;
    table.schema_name = name.schema;
    table.table_name = name.name;
    table.method = request.method;
    metadata::ShardId next_shard = cluster.next_shard_id;
    if (reference) {
      ShardRecord shard;
      shard.shard_id = next_shard;
      shard.hash_min = std::numeric_limits<int32_t>::min();
      shard.hash_max = std::numeric_limits<int32_t>::max();
      shard.placements = active;
      table.shards.push_back(shard);
    } else {
      sharding::CheckShardCount(request.shard_count);
      table.distribution_column = request.column;
      sharding::ColocationRequest colocation;
      colocation.colocate_with = request.colocate_with;
      colocation.shard_count = request.shard_count;
      colocation.distribution_type = type_name;
      colocation.replication_factor = request.replication_factor;
      const TableRecord* target = nullptr;
      if (request.colocate_with != "default" && request.colocate_with != "none") {
        Oid target_relid = PgCall([&] {
          List* names = stringToQualifiedNameList(request.colocate_with.c_str());
          return RangeVarGetRelid(makeRangeVarFromNameList(names), NoLock, false);
        });
        for (const TableRecord& candidate : tables) {
          auto cached = metadata_cache::Lookup(target_relid);
          if (cached && cached->record.table_id == candidate.table_id) target = &candidate;
        }
      }
      colocation.target = target;
      const sharding::ColocationChoice choice =
          sharding::ChooseColocation(store.ListColocationGroups(), colocation, cluster.next_colocation_id);
      const std::vector<sharding::HashRange> ranges = sharding::SplitHashSpace(request.shard_count);
      std::vector<std::vector<metadata::NodeId>> placements;
      if (choice.existing != 0) {
        table.colocation_id = choice.existing;
        for (const TableRecord& member : tables) {
          if (member.colocation_id != choice.existing) continue;
          for (const ShardRecord& shard : member.shards) placements.push_back(shard.placements);
          break;
        }
      } else {
        table.colocation_id = choice.new_group.colocation_id;
        command.new_group = choice.new_group;
      }
      if (placements.empty())
        placements = sharding::PlaceRoundRobin(active, request.shard_count, request.replication_factor,
                                               static_cast<size_t>(table.colocation_id - 1));
      for (int32_t i = 0; i < request.shard_count; i++) {
        ShardRecord shard;
        shard.shard_id = next_shard + i;
        shard.shard_index = i;
        shard.hash_min = ranges[i].min;
        shard.hash_max = ranges[i].max;
        shard.placements = placements[i];
        table.shards.push_back(shard);
      }
    }
    if (active.empty())
      throw Error(sqlstate::kObjectNotInPrerequisiteState, "the cluster has no active node to place shards on");

    // Shells on every other node, then the shard tables and their rows.
    const std::vector<std::string> shell = ShellTableDdl(request.relid);
    for (const metadata::NodeRecord& node : nodes) {
      if (node.node_id == metadata_cache::LocalNodeId()) continue;
      const CachedNode& target = metadata_cache::Node(node.node_id);
      for (const std::string& statement : shell) ExecuteOnNode(target, statement);
    }
    {
      LocalPlanningScope local;
      for (const ShardRecord& shard : table.shards) {
        const std::string shard_table = name.name + "_" + std::to_string(shard.shard_id);
        for (metadata::NodeId node_id : shard.placements) {
          const CachedNode& node = metadata_cache::Node(node_id);
          ExecuteOnNode(node, CreateShardTableSql(name.schema, name.name, shard_table));
          CopyRowsToShard(node, request.relid, name, shard_table, request.column, shard.hash_min, shard.hash_max,
                          reference);
        }
      }
      spi::Execute(("TRUNCATE ONLY " + name.Qualified()).c_str());
    }
    ProposeAtCommit(command);
  });
}

Datum CreateDistributedTableFn(FunctionCallInfo fcinfo) {
  DistributeRequest request;
  request.relid = RequiredRegclass(fcinfo, 0, "table");
  request.column = RequiredText(fcinfo, 1, "distribution_column");
  request.shard_count = PG_ARGISNULL(2) ? default_shard_count : PG_GETARG_INT32(2);
  request.colocate_with = RequiredText(fcinfo, 3, "colocate_with");
  request.replication_factor = RequiredInt32(fcinfo, 4, "replication_factor");
  Distribute(request);
  PG_RETURN_VOID();
}

Datum CreateReferenceTableFn(FunctionCallInfo fcinfo) {
  DistributeRequest request;
  request.relid = RequiredRegclass(fcinfo, 0, "table");
  request.method = DistributionMethod::kReference;
  Distribute(request);
  PG_RETURN_VOID();
}

Datum DistributionHashFn(FunctionCallInfo fcinfo) {
  const Oid type = PgCall([&] { return get_fn_expr_argtype(fcinfo->flinfo, 0); });
  if (!OidIsValid(type)) throw Error(sqlstate::kInvalidParameterValue, "could not determine the type of the value");
  CheckDistributionType(type, PG_GET_COLLATION(), "value");
  PG_RETURN_INT32(DistributionHashOf(PG_GETARG_DATUM(0), type));
}

}  // namespace

}  // namespace phantom::pg

PHANTOM_FUNCTION(phantom_create_distributed_table, phantom::pg::CreateDistributedTableFn)
PHANTOM_FUNCTION(phantom_create_reference_table, phantom::pg::CreateReferenceTableFn)
PHANTOM_FUNCTION(phantom_distribution_hash, phantom::pg::DistributionHashFn)
