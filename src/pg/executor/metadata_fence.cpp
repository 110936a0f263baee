// The metadata fence on node sessions; see metadata_fence.hpp.
#include "pg/executor/metadata_fence.hpp"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <string>
#include <vector>

#include "core/common/error.hpp"
#include "pg/guard.hpp"
#include "pg/latch_nap.hpp"
#include "pg/metadata/metadata_cache.hpp"
#include "pg/raft/raft_shared.hpp"
#include "pg/settings.hpp"

extern "C" {
#include "catalog/pg_class.h"
#include "executor/executor.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "parser/parsetree.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
}

namespace phantom::pg::metadata_fence {

namespace {

ExecutorStart_hook_type previous_start = nullptr;

// Waits until this node applied the sender's index, or refuses.
void CatchUp(int64_t index) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(node_timeout_ms);
  for (;;) {
    const int64_t applied = raft_shared::ReadStatus(MyDatabaseId).applied;
    if (applied >= index) return;
    if (std::chrono::steady_clock::now() >= deadline)
      throw Error("40001",
                  "this node's metadata is behind the node that sent the command (applied index " +
                      std::to_string(applied) + ", the sender routed by " + std::to_string(index) + ")",
                  "", "Retry the transaction; the node catches up with the metadata log by itself.");
    NapOnLatch(5);
  }
}

// The shard id of a relation named <table>_<shard id>, with <table> a
// distributed table of the same schema; nullptr when it is no shard table.
const DistributedTable* ShardOwner(const std::string& schema, const std::string& name, int64_t& shard_id) {
  const size_t underscore = name.rfind('_');
  if (underscore == std::string::npos || underscore + 1 >= name.size()) return nullptr;
  const std::string digits = name.substr(underscore + 1);
  if (!std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; }) || digits.size() > 18)
    return nullptr;
  const std::string table = name.substr(0, underscore);
  for (const auto& candidate : metadata_cache::AllTables())
    if (candidate->record.schema_name == schema && candidate->record.table_name == table) {
      shard_id = std::strtoll(digits.c_str(), nullptr, 10);
      return candidate.get();
    }
  return nullptr;
}

struct ShardUse {
  Oid relid;
  std::string schema;
  std::string name;
};

// The relations of the statement named like shard tables of distributed
// tables this node knows.
std::vector<ShardUse> ShardTablesOf(PlannedStmt* statement) {
  std::vector<ShardUse> uses;
  ListCell* cell = nullptr;
  foreach (cell, statement->rtable) {
    auto* rte = static_cast<RangeTblEntry*>(lfirst(cell));
    if (rte->rtekind != RTE_RELATION || rte->relkind != RELKIND_RELATION) continue;
    ShardUse use{rte->relid, "", ""};
    PgCall([&] {
      const char* rel = get_rel_name(rte->relid);
      const char* nsp = rel ? get_namespace_name(get_rel_namespace(rte->relid)) : nullptr;
      if (rel) use.name = rel;
      if (nsp) use.schema = nsp;
    });
    int64_t shard_id = 0;
    if (ShardOwner(use.schema, use.name, shard_id) != nullptr) uses.push_back(std::move(use));
  }
  return uses;
}

void Check(PlannedStmt* statement) {
  // Statements without shard tables (settings, catalog reads) pass at once.
  if (ShardTablesOf(statement).empty()) return;
  CatchUp(metadata_index);
  // Whatever the worker applied meanwhile must reach this backend's cache.
  PgCall([] { AcceptInvalidationMessages(); });
  const metadata::NodeId local = metadata_cache::LocalNodeId();
  for (const ShardUse& use : ShardTablesOf(statement)) {
    int64_t shard_id = 0;
    const DistributedTable* table = ShardOwner(use.schema, use.name, shard_id);
    if (table == nullptr) continue;
    const auto shard = std::find_if(table->record.shards.begin(), table->record.shards.end(),
                                    [&](const metadata::ShardRecord& s) { return s.shard_id == shard_id; });
    const bool placed_here =
        shard != table->record.shards.end() &&
        std::find(shard->placements.begin(), shard->placements.end(), local) != shard->placements.end();
    if (placed_here) continue;
    throw Error("40001",
                "shard " + std::to_string(shard_id) + " of table \"" + table->record.table_name +
                    "\" is not placed on this node",
                "This node's metadata (log index " + std::to_string(metadata_cache::AppliedIndex()) +
                    ") does not place it here; the sender routed by index " + std::to_string(metadata_index) + ".",
                "Retry the transaction: the sender routes it anew once its metadata caught up.");
  }
}

void Start(QueryDesc* query, int eflags) {
  if (node_session && metadata_index > 0 && query->plannedstmt->commandType != CMD_UTILITY)
    GuardHook([&] { Check(query->plannedstmt); });
  if (previous_start != nullptr)
    previous_start(query, eflags);
  else
    standard_ExecutorStart(query, eflags);
}

}  // namespace

void InstallHook() {
  previous_start = ExecutorStart_hook;
  ExecutorStart_hook = Start;
}

}  // namespace phantom::pg::metadata_fence
