// The distributed-table metadata as each backend sees it: the phantomdb.*
// catalog read once and kept in backend memory until a relcache invalidation
// says it changed (a metadata command was applied, or a distributed table's
// definition changed). The planner consults it for every query, so a lookup
// for a plain local table must cost next to nothing.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/metadata/command.hpp"
#include "pg/postgres.hpp"

namespace phantom::pg {

struct CachedNode {
  metadata::NodeId node_id = 0;
  std::string name;
  std::string host;
  int32_t port = 0;
  metadata::NodeState state = metadata::NodeState::kActive;
};

struct DistributedTable {
  Oid relid = InvalidOid;  // the shell table on this node
  metadata::TableRecord record;
  AttrNumber distribution_attno = InvalidAttrNumber;  // 0 for reference tables
  Oid distribution_type = InvalidOid;
  Oid distribution_collation = InvalidOid;

  bool IsReference() const { return record.method == metadata::DistributionMethod::kReference; }
  // "<table>_<shard id>", the shard table's name on its nodes (same schema).
  std::string ShardTableName(const metadata::ShardRecord& shard) const;
};

namespace metadata_cache {

// The table's metadata, or nullptr when relid is not a distributed or
// reference table (or the extension is not installed in this database).
// Shared so that a holder survives a reload of the cache under its feet.
std::shared_ptr<const DistributedTable> Lookup(Oid relid);
// Loads the cache if it is stale (may throw). Walkers that run inside
// Postgres's C code call this first and then Find, which never throws.
void EnsureLoaded();
std::shared_ptr<const DistributedTable> Find(Oid relid) noexcept;
// A table by its cluster-wide id; nullptr when it no longer exists.
std::shared_ptr<const DistributedTable> ByTableId(metadata::TableId table_id);
// phantomdb.tables, whose invalidation flushes every cache and every plan
// over distributed tables; InvalidOid when the extension is not installed.
Oid CatalogRelation() noexcept;
// Whether any distributed or reference table exists, per the cache as last
// loaded (false when stale): call EnsureLoaded first. Lets the utility hook
// pass every statement straight to Postgres in a database without any.
bool AnyTables() noexcept;
// Every distributed and reference table, by table_id.
std::vector<std::shared_ptr<const DistributedTable>> AllTables();
// A node of the cluster; throws phantom::Error (42704) for an unknown id.
const CachedNode& Node(metadata::NodeId node_id);
// This node's id in the cluster; 0 when it belongs to none.
metadata::NodeId LocalNodeId();
// The metadata log index the cache reflects: what remote shard commands
// carry so the receiving node can fence them (metadata_fence.hpp).
int64_t AppliedIndex();

// Called after a metadata command was applied: every backend, this one
// included, reloads on its next lookup.
void InvalidateAll();
// This backend reloads on its next lookup (callable where Postgres may not
// be called: transaction end).
void MarkStale() noexcept;

// Registers the relcache callback; from _PG_init.
void Register();

}  // namespace metadata_cache

}  // namespace phantom::pg
