// The shard scan executor; see shard_scan.hpp.
#include "pg/executor/shard_scan.hpp"

#include <map>
#include <set>
#include <optional>
#include <string>
#include <vector>

#include "core/common/error.hpp"
#include "core/sharding/contiguous_runs.hpp"
#include "pg/executor/custom_scan_state.hpp"
#include "pg/executor/explain_analyze.hpp"
#include "pg/executor/node_fanout.hpp"
#include "pg/executor/shard_statement.hpp"
#include "pg/guard.hpp"
#include "pg/metadata/metadata_cache.hpp"
#include "pg/remote/connection_pool.hpp"
#include "pg/sql_text.hpp"

extern "C" {
#include "commands/explain.h"
#include "executor/executor.h"
#include "executor/spi.h"
#include "utils/memutils.h"
#include "utils/rel.h"
}

namespace phantom::pg {

namespace {

struct ShardScanExecution {
  metadata::TableId table_id = 0;
  std::string where;
  std::vector<int> params;
  std::optional<std::set<int32_t>> shards;  // the shard indexes to read; nullopt: all
  StoredRows rows;
  bool fetched = false;
};

using ShardScanState = ScanStateWith<ShardScanExecution>;

// The shards of the table to read (all, or those in `only`), grouped by
// the node each is read on (this node's copy when it has one).
std::map<metadata::NodeId, std::vector<const metadata::ShardRecord*>> ShardsByNode(
    const DistributedTable& table, const std::optional<std::set<int32_t>>& only) {
  const metadata::NodeId local = metadata_cache::LocalNodeId();
  std::map<metadata::NodeId, std::vector<const metadata::ShardRecord*>> by_node;
  for (const metadata::ShardRecord& shard : table.record.shards) {
    if (shard.placements.empty() || (only && only->count(shard.shard_index) == 0)) continue;
    metadata::NodeId node = shard.placements.front();
    for (metadata::NodeId placement : shard.placements)
      if (placement == local) node = local;
    by_node[node].push_back(&shard);
  }
  return by_node;
}

// The statement a node runs: its shards' rows, UNION ALL, filtered.
std::string NodeSql(const DistributedTable& table, const std::vector<const metadata::ShardRecord*>& shards,
                    const std::string& columns, const std::string& where) {
  const std::string alias = PgCall([&] { return quote_identifier(table.record.table_name.c_str()); });
  std::string sql;
  for (const metadata::ShardRecord* shard : shards) {
    if (!sql.empty()) sql += " UNION ALL ";
    sql += "SELECT " + columns + " FROM " + QualifiedName(table.record.schema_name, table.ShardTableName(*shard)) +
           " " + alias;
    if (!where.empty()) sql += " WHERE " + where;
  }
  return sql;
}

void Fetch(ShardScanState* state) {
  ShardScanExecution& execution = *state->execution;
  auto table = metadata_cache::ByTableId(execution.table_id);
  if (!table)
    throw Error("40001", "a distributed table of this query was dropped or changed while it ran", "",
                "Retry the statement.");
  TupleDesc descriptor = state->css.ss.ss_ScanTupleSlot->tts_tupleDescriptor;
  // Every live column, in order; dropped ones stay NULL here.
  std::string columns;
  ColumnMap map;
  for (int a = 0; a < descriptor->natts; a++) {
    Form_pg_attribute attribute = TupleDescAttr(descriptor, a);
    if (attribute->attisdropped) continue;
    if (!columns.empty()) columns += ", ";
    columns += PgCall([&] { return quote_identifier(NameStr(attribute->attname)); });
    map.push_back(a);
  }
  if (columns.empty()) columns = "NULL";  // a table without columns still has rows
  // Another node's shards split over its connections; this node's run here.
  std::vector<NodeStatement> statements;
  const metadata::NodeId local = metadata_cache::LocalNodeId();
  for (const auto& [node_id, shards] : ShardsByNode(*table, execution.shards)) {
    const size_t parts = node_id == local ? 1 : connection_pool::ParallelReadConnections();
    for (const auto& [begin, end] : sharding::ContiguousRuns(shards.size(), parts)) {
      const std::vector<const metadata::ShardRecord*> run(shards.begin() + static_cast<std::ptrdiff_t>(begin),
                                                          shards.begin() + static_cast<std::ptrdiff_t>(end));
      statements.push_back({node_id, NodeSql(*table, run, columns, execution.where)});
    }
  }
  RunOnNodes(statements, state->css.ss.ps.state->es_param_list_info, execution.params, descriptor, map,
             execution.rows.Store(true));
}

void ExplainShardScan(CustomScanState* node, List* ancestors, ExplainState* es) {
  GuardHook([&] {
    auto* state = reinterpret_cast<ShardScanState*>(node);
    ShardScanExecution& execution = *state->execution;
    auto table = metadata_cache::ByTableId(execution.table_id);
    const size_t all = table ? table->record.shards.size() : 0;
    const size_t shards = execution.shards ? execution.shards->size() : all;
    const size_t nodes = table ? ShardsByNode(*table, execution.shards).size() : 0;
    const std::string tasks =
        (shards == all ? std::to_string(shards) : std::to_string(shards) + " of " + std::to_string(all)) +
        " shard(s) on " + std::to_string(nodes) + " node(s)";
    PgCall([&] {
      ExplainPropertyText("Distribution", "read the shards, combine here (general fallback)", es);
      ExplainPropertyText("Tasks", tasks.c_str(), es);
      ExplainPropertyText("Pushed-down filter", execution.where.empty() ? "none" : execution.where.c_str(), es);
    });
  });
}

const CustomExecMethods kShardScanExecMethods = {
    .CustomName = "PhantomDB Shard Scan",
    .BeginCustomScan = FetchOnceScan<ShardScanExecution, Fetch>::Begin,
    .ExecCustomScan = FetchOnceScan<ShardScanExecution, Fetch>::Exec,
    .EndCustomScan = FetchOnceScan<ShardScanExecution, Fetch>::End,
    .ReScanCustomScan = FetchOnceScan<ShardScanExecution, Fetch>::ReScan,
    .ExplainCustomScan = ExplainShardScan,
};

Node* CreateShardScanState(CustomScan* scan) {
  return GuardHook([&] {
    ShardScanState* state = NewScanState<ShardScanExecution>(&kShardScanExecMethods);
    List* encoded = scan->custom_private;
    state->execution->table_id = std::stoll(strVal(linitial(encoded)));
    state->execution->where = strVal(lsecond(encoded));
    ListCell* cell = nullptr;
    foreach (cell, static_cast<List*>(lthird(encoded))) state->execution->params.push_back(lfirst_int(cell));
    if (intVal(lfourth(encoded)) != 0) {
      state->execution->shards.emplace();
      foreach (cell, static_cast<List*>(list_nth(encoded, 4))) state->execution->shards->insert(lfirst_int(cell));
    }
    return reinterpret_cast<Node*>(state);
  });
}

}  // namespace

const CustomScanMethods ShardScanMethods = {
    .CustomName = "PhantomDB Shard Scan",
    .CreateCustomScanState = CreateShardScanState,
};

List* EncodeShardScan(int64_t table_id, const std::string& where, const std::vector<int>& params,
                      const std::optional<std::set<int32_t>>& shards) {
  return PgCall([&] {
    List* param_list = NIL;
    for (int param : params) param_list = lappend_int(param_list, param);
    List* shard_list = NIL;
    if (shards)
      for (int32_t shard : *shards) shard_list = lappend_int(shard_list, shard);
    return list_make5(makeString(pstrdup(std::to_string(table_id).c_str())), makeString(pstrdup(where.c_str())),
                      param_list, makeInteger(shards ? 1 : 0), shard_list);
  });
}

void RegisterShardScan() { RegisterCustomScanMethods(&ShardScanMethods); }

}  // namespace phantom::pg
