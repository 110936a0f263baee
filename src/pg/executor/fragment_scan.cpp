// The fragment scan executor; see fragment_scan.hpp.
#include "pg/executor/fragment_scan.hpp"

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/sharding/contiguous_runs.hpp"
#include "pg/executor/custom_scan_state.hpp"
#include "pg/executor/explain_analyze.hpp"
#include "pg/executor/plan_encoding.hpp"
#include "pg/executor/node_fanout.hpp"
#include "pg/executor/shard_names.hpp"
#include "pg/guard.hpp"
#include "pg/metadata/metadata_cache.hpp"
#include "pg/remote/connection_pool.hpp"

extern "C" {
#include "commands/explain.h"
#include "executor/executor.h"
}

namespace phantom::pg {

namespace {

struct FragmentExecution {
  Fragment fragment;
  StoredRows rows;
  bool fetched = false;
  // Streaming (a plan that never rescans this scan): this node's rows are
  // stored and handed out first, then the other nodes' rows as they arrive.
  bool streaming = false;
  std::unique_ptr<NodeRowStream> stream;
  // Under EXPLAIN ANALYZE: what each node did, and one shard group's plan.
  std::vector<NodeTiming> timings;
  std::map<metadata::NodeId, size_t> shards_on;
  std::vector<std::string> remote_plan;
};

using FragmentScanState = ScanStateWith<FragmentExecution>;

// custom_private: anchor, shard query, parameters, strategy, whether the
// shard groups are pruned, and those left.
Fragment DecodeFragment(List* encoded) {
  Fragment fragment;
  fragment.anchor_table = Int64Of(static_cast<Node*>(list_nth(encoded, 0)));
  fragment.query = DecodeShardQuery(static_cast<List*>(list_nth(encoded, 1)));
  fragment.params_used = IntsOf(static_cast<List*>(list_nth(encoded, 2)));
  fragment.strategy = strVal(list_nth(encoded, 3));
  if (intVal(list_nth(encoded, 4)) != 0) {
    const std::vector<int> shards = IntsOf(static_cast<List*>(list_nth(encoded, 5)));
    fragment.shards.emplace(shards.begin(), shards.end());
  }
  return fragment;
}

// The fragment's SQL for the shard group at index.
std::string ShardSql(const Fragment& fragment, int32_t index) {
  std::string sql = fragment.query.Render([&](metadata::TableId id) { return ShardTableSql(id, index); });
  sql.erase(0, sql.find_first_not_of(' '));  // ruleutils starts with a space
  return sql;
}

// Each shard group runs on the node holding its anchor shard (this node's
// copy when it has one); colocated shards share placements, and every
// node holds the reference tables.
std::map<metadata::NodeId, std::vector<int32_t>> ShardGroupsByNode(const DistributedTable& anchor,
                                                                   const Fragment& fragment) {
  const metadata::NodeId local = metadata_cache::LocalNodeId();
  std::map<metadata::NodeId, std::vector<int32_t>> by_node;
  for (const metadata::ShardRecord& shard : anchor.record.shards) {
    if (shard.placements.empty() || (fragment.shards && fragment.shards->count(shard.shard_index) == 0)) continue;
    metadata::NodeId node = shard.placements.front();
    for (metadata::NodeId placement : shard.placements)
      if (placement == local) node = local;
    by_node[node].push_back(shard.shard_index);
  }
  return by_node;
}

void Fetch(FragmentScanState* state) {
  FragmentExecution& execution = *state->execution;
  auto anchor = TableById(execution.fragment.anchor_table);
  std::vector<NodeStatement> statements;
  const metadata::NodeId local = metadata_cache::LocalNodeId();
  for (const auto& [node_id, indexes] : ShardGroupsByNode(*anchor, execution.fragment)) {
    // A node's shard groups split over its connections, in contiguous runs;
    // this node's run here, through SPI, which sees this transaction's own
    // writes.
    const size_t parts = node_id == local ? 1 : connection_pool::ParallelReadConnections();
    for (const auto& [begin, end] : sharding::ContiguousRuns(indexes.size(), parts)) {
      std::string sql;
      for (size_t i = begin; i < end; i++) {
        if (!sql.empty()) sql += " UNION ALL ";
        sql += "(" + ShardSql(execution.fragment, indexes[i]) + ")";
      }
      statements.push_back({node_id, std::move(sql)});
    }
    execution.shards_on[node_id] = indexes.size();
  }
  ParamListInfo params = state->css.ss.ps.state->es_param_list_info;
  TupleDesc descriptor = state->css.ss.ss_ScanTupleSlot->tts_tupleDescriptor;
  if (execution.streaming) {
    std::vector<NodeStatement> remote;
    std::vector<NodeStatement> here;
    for (NodeStatement& statement : statements)
      (statement.node_id == local ? here : remote).push_back(std::move(statement));
    execution.stream = std::make_unique<NodeRowStream>(remote, params, execution.fragment.params_used, descriptor);
    RunOnNodes(here, params, execution.fragment.params_used, descriptor, {}, execution.rows.Store(false));
    return;
  }
  const bool analyze = ExplainAnalyzeRunning() && state->css.ss.ps.state->es_instrument != 0;
  RunOnNodes(statements, params, execution.fragment.params_used, descriptor, {}, execution.rows.Store(true),
             analyze ? &execution.timings : nullptr);
  if (!analyze || statements.empty()) return;
  // One shard group's fragment again, under the user's EXPLAIN options.
  const NodeStatement& first = statements.front();
  const int32_t index = ShardGroupsByNode(*anchor, execution.fragment).at(first.node_id).front();
  // The plan of the fragment of the first shard group on the first node.
  const std::string explain = "EXPLAIN (" + RemoteExplainOptions() + ") " + ShardSql(execution.fragment, index);
  execution.remote_plan = TextRowsOnNode({first.node_id, explain, false}, params, execution.fragment.params_used);
}

// The rows of a plan that may rescan this scan (or move backwards, or runs
// under EXPLAIN ANALYZE, which reports per node), or that runs in a
// transaction block (whose connections must stay free for its next
// statements), are all fetched and stored first; otherwise they stream.
void BeginFragmentScan(CustomScanState* node, EState* estate, int eflags) {
  GuardHook([&] {
    FragmentExecution& execution = *reinterpret_cast<FragmentScanState*>(node)->execution;
    const bool analyze = ExplainAnalyzeRunning() && estate->es_instrument != 0;
    execution.streaming = (eflags & (EXEC_FLAG_REWIND | EXEC_FLAG_BACKWARD | EXEC_FLAG_MARK)) == 0 && !analyze &&
                          (eflags & EXEC_FLAG_EXPLAIN_ONLY) == 0 && connection_pool::ExtraConnectionsAllowed();
    execution.rows.Store(!execution.streaming);
  });
}

TupleTableSlot* NextRow(ScanState* scan) {
  return GuardHook([&] {
    auto* state = reinterpret_cast<FragmentScanState*>(scan);
    FragmentExecution& execution = *state->execution;
    TupleTableSlot* slot = scan->ss_ScanTupleSlot;
    if (!execution.fetched) {
      Fetch(state);
      execution.fetched = true;
    }
    if (execution.rows.Next(slot) || !execution.stream) return slot;
    // Values made for the row live until the scan's next row.
    MemoryContext per_row = scan->ps.ps_ExprContext->ecxt_per_tuple_memory;
    MemoryContext saved = MemoryContextSwitchTo(per_row);
    bool more = false;
    try {
      more = execution.stream->Next(slot);
    } catch (...) {
      MemoryContextSwitchTo(saved);
      throw;
    }
    MemoryContextSwitchTo(saved);
    if (!more) ExecClearTuple(slot);
    return slot;
  });
}

TupleTableSlot* ExecFragmentScan(CustomScanState* node) {
  return ExecScan(&node->ss, NextRow, [](ScanState*, TupleTableSlot*) { return true; });
}

void EndFragmentScan(CustomScanState* node) {
  FragmentExecution& execution = *reinterpret_cast<FragmentScanState*>(node)->execution;
  if (execution.stream) {
    GuardHook([&] { execution.stream->Finish(); });
    execution.stream.reset();
  }
  execution.rows.End();
}

// Stored rows are read again; a stream starts over.
void ReScanFragmentScan(CustomScanState* node) {
  GuardHook([&] {
    FragmentExecution& execution = *reinterpret_cast<FragmentScanState*>(node)->execution;
    if (!execution.streaming) {
      execution.rows.Rewind();
      return;
    }
    if (execution.stream) execution.stream->Finish();
    execution.stream.reset();
    execution.rows.Clear();
    execution.fetched = false;
  });
}

void ExplainFragmentScan(CustomScanState* node, List*, ExplainState* es) {
  GuardHook([&] {
    const Fragment& fragment = reinterpret_cast<FragmentScanState*>(node)->execution->fragment;
    auto anchor = TableById(fragment.anchor_table);
    const auto by_node = ShardGroupsByNode(*anchor, fragment);
    size_t shards = 0;
    for (const auto& [node_id, indexes] : by_node) shards += indexes.size();
    const size_t all = anchor->record.shards.size();
    std::string tasks =
        (shards == all ? std::to_string(shards) : std::to_string(shards) + " of " + std::to_string(all)) +
        " shard(s) on " + std::to_string(by_node.size()) + " node(s)";
    const char* separator = ": ";
    for (const auto& [node_id, indexes] : by_node) {
      tasks += separator + metadata_cache::Node(node_id).name;
      separator = ", ";
    }
    // On one line: ruleutils breaks lines for reading a view, not a plan.
    std::string first;
    const int32_t shown = by_node.empty() ? anchor->record.shards.front().shard_index : by_node.begin()->second.front();
    for (char c : ShardSql(fragment, shown)) {
      if (c == '\n') c = ' ';
      if (c == ' ' && !first.empty() && first.back() == ' ') continue;
      first += c;
    }
    PgCall([&] {
      ExplainPropertyText("Distribution", fragment.strategy.c_str(), es);
      ExplainPropertyText("Tasks", tasks.c_str(), es);
      ExplainPropertyText("Fragment", first.c_str(), es);
    });
    const FragmentExecution& execution = *reinterpret_cast<FragmentScanState*>(node)->execution;
    for (const NodeTiming& timing : execution.timings) {
      const CachedNode& where = metadata_cache::Node(timing.node_id);
      char line[256];
      const int length = snprintf(line, sizeof(line), "%zu shard(s), %llu row(s)",
                                  execution.shards_on.at(timing.node_id), static_cast<unsigned long long>(timing.rows));
      if (es->timing && length > 0 && static_cast<size_t>(length) < sizeof(line))
        snprintf(line + length, sizeof(line) - static_cast<size_t>(length), ", %.3f ms", timing.milliseconds);
      const std::string label = "Node " + where.name;
      PgCall([&] { ExplainPropertyText(label.c_str(), line, es); });
    }
    if (!execution.remote_plan.empty()) ExplainRemotePlan(execution.remote_plan, es);
  });
}

const CustomExecMethods kFragmentScanExecMethods = {
    .CustomName = "PhantomDB Fragment Scan",
    .BeginCustomScan = BeginFragmentScan,
    .ExecCustomScan = ExecFragmentScan,
    .EndCustomScan = EndFragmentScan,
    .ReScanCustomScan = ReScanFragmentScan,
    .ExplainCustomScan = ExplainFragmentScan,
};

Node* CreateFragmentScanState(CustomScan* scan) {
  return GuardHook([&] {
    FragmentScanState* state = NewScanState<FragmentExecution>(&kFragmentScanExecMethods);
    state->execution->fragment = DecodeFragment(scan->custom_private);
    return reinterpret_cast<Node*>(state);
  });
}

}  // namespace

const CustomScanMethods FragmentScanMethods = {
    .CustomName = "PhantomDB Fragment Scan",
    .CreateCustomScanState = CreateFragmentScanState,
};

List* EncodeFragment(const Fragment& fragment) {
  Node* anchor = Int64Node(fragment.anchor_table);
  List* query = EncodeShardQuery(fragment.query);
  List* params = IntList(fragment.params_used);
  List* shards = fragment.shards ? IntList(std::vector<int>(fragment.shards->begin(), fragment.shards->end())) : NIL;
  return PgCall([&] {
    List* encoded = list_make4(anchor, query, params, makeString(pstrdup(fragment.strategy.c_str())));
    encoded = lappend(encoded, makeInteger(fragment.shards ? 1 : 0));
    return lappend(encoded, shards);
  });
}

void RegisterFragmentScan() { RegisterCustomScanMethods(&FragmentScanMethods); }

}  // namespace phantom::pg
