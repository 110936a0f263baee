// Backend-local cache of the distributed-table metadata; see metadata_cache.hpp.
#include "pg/metadata/metadata_cache.hpp"

#include <algorithm>
#include <map>
#include <memory>
#include <unordered_map>

#include "core/common/error.hpp"
#include "core/metadata/catalog_image.hpp"
#include "core/metadata/command_apply.hpp"
#include "core/metadata/image_catalog_store.hpp"
#include "core/metadata/node_membership.hpp"
#include "core/metadata/proposal.hpp"
#include "pg/metadata/metadata_log.hpp"
#include "pg/settings.hpp"
#include "pg/guard.hpp"
#include "pg/metadata/spi_catalog_store.hpp"
#include "pg/spi.hpp"

extern "C" {
#include "catalog/namespace.h"
#include "catalog/pg_authid.h"
#include "commands/extension.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
}

namespace phantom::pg {

std::string DistributedTable::ShardTableName(const metadata::ShardRecord& shard) const {
  return record.table_name + "_" + std::to_string(shard.shard_id);
}

namespace metadata_cache {

namespace {

struct Cache {
  bool valid = false;
  Oid tables_relid = InvalidOid;
  std::unordered_map<Oid, std::shared_ptr<const DistributedTable>> by_relid;
  std::map<metadata::NodeId, CachedNode> nodes;
  metadata::NodeId local_node_id = 0;
  int64_t applied_index = 0;
};

Cache cache;
bool loading = false;

class LoadingScope {
 public:
  LoadingScope() { loading = true; }
  ~LoadingScope() { loading = false; }
  LoadingScope(const LoadingScope&) = delete;
  LoadingScope& operator=(const LoadingScope&) = delete;
};

// phantomdb.placements is the last catalog table the install script creates;
// until it exists (or while an extension script runs) there is nothing to read.
Oid CatalogRelid() {
  if (creating_extension) return InvalidOid;
  return PgCall([] {
    Oid schema = get_namespace_oid("phantomdb", true);
    if (!OidIsValid(schema) || !OidIsValid(get_relname_relid("placements", schema))) return InvalidOid;
    return get_relname_relid("tables", schema);
  });
}

void Load() {
  const Oid tables_relid = CatalogRelid();
  if (!OidIsValid(tables_relid)) {
    // Not installed: stay invalid so that CREATE EXTENSION is noticed, at
    // the price of two (negatively cached) syscache probes per query.
    cache = Cache();
    return;
  }
  LoadingScope scope;
  Cache fresh;
  fresh.tables_relid = tables_relid;
  std::vector<metadata::TableRecord> tables;
  // Every user's queries need the metadata, but schema phantomdb is closed
  // to PUBLIC: read it as the bootstrap superuser. An error unwinds to the
  // transaction abort, which restores the user.
  Oid saved_user = InvalidOid;
  int saved_context = 0;
  GetUserIdAndSecContext(&saved_user, &saved_context);
  SetUserIdAndSecContext(BOOTSTRAP_SUPERUSERID, saved_context | SECURITY_LOCAL_USERID_CHANGE);
  spi::WithSpi([&] {
    spi::OneSnapshotScope one_snapshot;
    // This node's id is node-local, beside the replicated catalog.
    spi::Execute("SELECT node_id FROM phantomdb.local_node");
    if (spi::RowCount() > 0) fresh.local_node_id = spi::GetInt32(0, 0);
    spi::Execute("SELECT applied_index FROM phantomdb.metadata_applied");
    if (spi::RowCount() > 0) fresh.applied_index = spi::GetInt64(0, 0);
    // With the changes this transaction proposes at commit: the rest of
    // the transaction works with the table it just distributed.
    metadata::CatalogImage image = CatalogWithCommandsAtCommit();
    for (metadata::NodeRecord& node : image.nodes)
      fresh.nodes[node.node_id] = CachedNode{node.node_id, node.name, node.host, node.port, node.state};
    tables = std::move(image.tables);
  });
  SetUserIdAndSecContext(saved_user, saved_context);
  for (metadata::TableRecord& record : tables) {
    DistributedTable table;
    table.relid = PgCall([&] {
      Oid schema = get_namespace_oid(record.schema_name.c_str(), true);
      return OidIsValid(schema) ? get_relname_relid(record.table_name.c_str(), schema) : InvalidOid;
    });
    // A table dropped without us (extension objects first, say) has no shell.
    if (!OidIsValid(table.relid)) continue;
    if (record.method == metadata::DistributionMethod::kHash) {
      table.distribution_attno = PgCall([&] { return get_attnum(table.relid, record.distribution_column.c_str()); });
      if (table.distribution_attno == InvalidAttrNumber) {
        // A session another node opened here renames the column of its
        // shell before the metadata says so (the sender commits the change
        // to Raft): it only needs the other tables. Elsewhere the two
        // disagree only for the moment between the change's apply and the
        // commit that renames the shell; refusing beats routing wrongly.
        if (node_session) continue;
        throw Error("40001",
                    "distribution column \"" + record.distribution_column + "\" of table \"" + record.table_name +
                        "\" does not exist",
                    "", "The column is being renamed; retry.");
      }
      int32 typmod = 0;
      PgCall([&] {
        get_atttypetypmodcoll(table.relid, table.distribution_attno, &table.distribution_type, &typmod,
                              &table.distribution_collation);
      });
    }
    table.record = std::move(record);
    fresh.by_relid.emplace(table.relid, std::make_shared<const DistributedTable>(std::move(table)));
  }
  fresh.valid = true;
  cache = std::move(fresh);
}

void RelcacheCallback(Datum, Oid relid) {
  // Never throws, never calls into Postgres: it may run at any point where
  // invalidations are accepted.
  if (!cache.valid) return;
  if (relid == InvalidOid || relid == cache.tables_relid || cache.by_relid.count(relid) > 0) cache.valid = false;
}

}  // namespace

void EnsureLoaded() {
  if (!cache.valid && !loading) Load();
}

std::shared_ptr<const DistributedTable> Find(Oid relid) noexcept {
  if (!cache.valid || loading) return nullptr;
  auto it = cache.by_relid.find(relid);
  return it == cache.by_relid.end() ? nullptr : it->second;
}

std::shared_ptr<const DistributedTable> Lookup(Oid relid) {
  EnsureLoaded();
  if (loading) return nullptr;
  auto it = cache.by_relid.find(relid);
  return it == cache.by_relid.end() ? nullptr : it->second;
}

std::shared_ptr<const DistributedTable> ByTableId(metadata::TableId table_id) {
  EnsureLoaded();
  for (const auto& [relid, table] : cache.by_relid)
    if (table->record.table_id == table_id) return table;
  return nullptr;
}

bool AnyTables() noexcept { return cache.valid && !loading && !cache.by_relid.empty(); }

Oid CatalogRelation() noexcept { return cache.valid ? cache.tables_relid : InvalidOid; }

std::vector<std::shared_ptr<const DistributedTable>> AllTables() {
  EnsureLoaded();
  std::vector<std::shared_ptr<const DistributedTable>> tables;
  for (const auto& [relid, table] : cache.by_relid) tables.push_back(table);
  std::sort(tables.begin(), tables.end(),
            [](const auto& a, const auto& b) { return a->record.table_id < b->record.table_id; });
  return tables;
}

const CachedNode& Node(metadata::NodeId node_id) {
  EnsureLoaded();
  auto it = cache.nodes.find(node_id);
  if (it == cache.nodes.end())
    throw Error(sqlstate::kUndefinedObject, "node id " + std::to_string(node_id) + " is not in the cluster");
  return it->second;
}

int64_t AppliedIndex() {
  EnsureLoaded();
  return cache.applied_index;
}

metadata::NodeId LocalNodeId() {
  EnsureLoaded();
  return cache.local_node_id;
}

void MarkStale() noexcept { cache.valid = false; }

void InvalidateAll() {
  cache.valid = false;
  const Oid relid = CatalogRelid();
  if (OidIsValid(relid)) PgCall([&] { CacheInvalidateRelcacheByRelid(relid); });
}

void Register() { CacheRegisterRelcacheCallback(RelcacheCallback, 0); }

}  // namespace metadata_cache

}  // namespace phantom::pg
