// The router CustomScan; see router_scan.hpp.
#include "pg/executor/router_scan.hpp"

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/common/error.hpp"
#include "core/sharding/shard_map.hpp"
#include "pg/executor/custom_scan_state.hpp"
#include "pg/executor/explain_analyze.hpp"
#include "pg/executor/router_plan.hpp"
#include "pg/executor/shard_names.hpp"
#include "pg/executor/shard_statement.hpp"
#include "core/metadata/node_membership.hpp"
#include "pg/guard.hpp"
#include "pg/metadata/metadata_cache.hpp"
#include "pg/remote/connection_pool.hpp"
#include "pg/sharding/distribution_value.hpp"
#include "pg/spi.hpp"
#include "pg/sql_text.hpp"

extern "C" {
#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "commands/explain.h"
#include "executor/executor.h"
#include "executor/spi.h"
#include "executor/tuptable.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "parser/parsetree.h"
#include "utils/array.h"
#include "utils/datum.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/tuplestore.h"
}

namespace phantom::pg {

namespace {

using TablePtr = std::shared_ptr<const DistributedTable>;

// One unit of remote or local work: a statement for one node.
struct Task {
  int32_t shard_index = 0;
  std::string sql;
  bool prepared = false;  // worth preparing on the node (plan-time text)
};

struct RouterExecution {
  RouterPlan plan;
  std::vector<ExprState*> pin_states;
  StoredRows rows;
  std::optional<RemoteRowReader> reader;
  bool done = false;
  // What EXPLAIN shows.
  std::string explain_kind;  // empty: from the plan
  std::string explain_task;
  std::string explain_sql;
  std::vector<std::string> remote_plan;
};

using RouterScanState = ScanStateWith<RouterExecution>;

// The shards the pins name; NULL pins match nothing and name none.
std::set<int32_t> PinnedShards(RouterExecution& execution, ExprContext* econtext, const DistributedTable& anchor) {
  std::set<int32_t> shards;
  const auto shard_count = static_cast<int32_t>(anchor.record.shards.size());
  ListCell* cell = nullptr;
  size_t i = 0;
  foreach (cell, execution.plan.pins) {
    Node* pin = static_cast<Node*>(lfirst(cell));
    ExprState* state = execution.pin_states[i++];
    bool is_null = false;
    const Datum value = PgCall([&] { return ExecEvalExprSwitchContext(state, econtext, &is_null); });
    if (is_null) continue;
    AddShardsOfPin(value, PgCall([&] { return exprType(pin); }), shard_count, shards);
  }
  return shards;
}

const CachedNode& ReadPlacement(const metadata::ShardRecord& shard) {
  const metadata::NodeId local = metadata_cache::LocalNodeId();
  for (metadata::NodeId node : shard.placements)
    if (node == local) return metadata_cache::Node(node);
  return metadata_cache::Node(shard.placements.front());
}

class Runner {
 public:
  Runner(RouterScanState* state) : state_(state), execution_(*state->execution) {
    estate_ = state->css.ss.ps.state;
    descriptor_ = state->css.ss.ss_ScanTupleSlot->tts_tupleDescriptor;
  }

  // Runs task on node; rows (when wanted) go to the execution's tuplestore.
  // Rows go to the scan's own store, or to `into` when given.
  uint64_t Run(const CachedNode& node, const Task& task, bool want_rows, bool transactional,
               Tuplestorestate* into = nullptr) {
    const bool analyze = ExplainAnalyzeRunning() && estate_->es_instrument != 0;
    std::string sql = task.sql;
    if (analyze) sql = "EXPLAIN (" + RemoteExplainOptions() + ") " + sql;
    ParamListInfo params = estate_->es_param_list_info;
    Tuplestorestate* rows = nullptr;
    if (want_rows && !analyze) rows = into != nullptr ? into : execution_.rows.Store(false);
    if (node.node_id == metadata_cache::LocalNodeId()) {
      if (!analyze) {
        PgCall([] { SPI_connect(); });
        const bool read_only = execution_.plan.command == CMD_SELECT && !execution_.plan.locks_rows;
        const uint64_t count = RunLocalStatement(sql, params, read_only, descriptor_, {}, rows);
        PgCall([] { SPI_finish(); });
        return count;
      }
      RecordLocalPlan(sql, params);
      return 0;
    }
    const connection_pool::Access access = transactional ? connection_pool::Access::kWriteInTransaction
                                           : execution_.plan.command == CMD_SELECT && !execution_.plan.locks_rows
                                               ? connection_pool::Access::kRead
                                               : connection_pool::Access::kWrite;
    return connection_pool::Run(node, access, [&](NodeConnection& connection) -> uint64_t {
      const RemoteParams remote = RemoteParamsOf(params, execution_.plan.params_used);
      if (task.prepared && !analyze) {
        const std::string name =
            connection_pool::Prepare(node, connection, sql, static_cast<int>(remote.types.size()), remote.types.data());
        connection.SendPrepared(name, remote.values);
      } else {
        connection.SendQuery(sql, remote.values, remote.types.empty() ? nullptr : remote.types.data());
      }
      return Collect(connection, rows, analyze);
    });
  }

  // The answer to the statement sent last on connection: its row count,
  // the rows stored in `rows` when given (under EXPLAIN ANALYZE, the
  // remote plan's lines instead).
  uint64_t Collect(NodeConnection& connection, Tuplestorestate* rows, bool analyze) {
    uint64_t count = 0;
    std::optional<Error> failure;
    while (NodeConnection::Result result = connection.NextResult()) {
      try {
        connection.ThrowIfError(result.get());
      } catch (const Error& error) {
        if (!failure) failure = error;
        continue;
      }
      if (analyze) {
        for (int r = 0; r < PQntuples(result.get()); r++)
          execution_.remote_plan.emplace_back(PQgetvalue(result.get(), r, 0));
        continue;
      }
      if (PQresultStatus(result.get()) == PGRES_TUPLES_OK) {
        count = static_cast<uint64_t>(PQntuples(result.get()));
        if (rows != nullptr) {
          if (!execution_.reader) execution_.reader.emplace(descriptor_, ColumnMap());
          execution_.reader->Store(result.get(), rows);
        }
        if (execution_.plan.command != CMD_SELECT) count = std::strtoull(PQcmdTuples(result.get()), nullptr, 10);
      } else {
        count = std::strtoull(PQcmdTuples(result.get()), nullptr, 10);
      }
    }
    if (failure) throw *failure;
    return count;
  }

 private:
  // EXPLAIN ANALYZE of a local shard: the plan comes back as rows of one
  // text column.
  void RecordLocalPlan(const std::string& sql, ParamListInfo params) {
    TupleDesc text_row = PgCall([] {
      TupleDesc descriptor = CreateTemplateTupleDesc(1);
      TupleDescInitEntry(descriptor, 1, "QUERY PLAN", TEXTOID, -1, 0);
      return descriptor;
    });
    Tuplestorestate* lines = PgCall([] { return tuplestore_begin_heap(false, false, work_mem); });
    PgCall([] { SPI_connect(); });
    RunLocalStatement(sql, params, false, text_row, {}, lines);
    PgCall([] { SPI_finish(); });
    TupleTableSlot* slot = PgCall([&] { return MakeSingleTupleTableSlot(text_row, &TTSOpsMinimalTuple); });
    while (PgCall([&] { return tuplestore_gettupleslot(lines, true, false, slot); })) {
      bool is_null = false;
      const Datum line = PgCall([&] { return slot_getattr(slot, 1, &is_null); });
      execution_.remote_plan.emplace_back(is_null ? "" : PgCall([&] { return TextDatumGetCString(line); }));
    }
    PgCall([&] {
      ExecDropSingleTupleTableSlot(slot);
      tuplestore_end(lines);
    });
  }

  RouterScanState* state_;
  RouterExecution& execution_;
  EState* estate_;
  TupleDesc descriptor_;
};

std::string NodeLabel(const CachedNode& node) {
  const std::string address = metadata::NodeAddress(node.host, node.port);
  return node.name == address ? "node " + address : "node " + node.name + " (" + address + ")";
}

// The shard a SELECT, UPDATE or DELETE runs on: the one its pins name
// (index 0 for reference tables, and when only NULL pins match nothing).
int32_t ChooseShard(RouterScanState* state) {
  RouterExecution& execution = *state->execution;
  const RouterPlan& plan = execution.plan;
  if (plan.anchor_table == 0) return 0;
  TablePtr anchor = TableById(plan.anchor_table);
  const std::set<int32_t> shards = PinnedShards(execution, state->css.ss.ps.ps_ExprContext, *anchor);
  if (shards.size() > 1)
    throw Error(sqlstate::kFeatureNotSupported,
                "a query whose values of \"" + anchor->record.distribution_column + "\" fall in " +
                    std::to_string(shards.size()) + " shards of table \"" + anchor->record.table_name +
                    "\" is not supported yet",
                "", "Query one shard at a time until multi-shard queries arrive.");
  return shards.empty() ? 0 : *shards.begin();
}

Task TemplateTask(const RouterPlan& plan, int32_t shard_index) {
  Task task;
  task.shard_index = shard_index;
  task.prepared = true;
  task.sql = plan.query.Render([&](metadata::TableId id) { return ShardTableSql(id, shard_index); });
  // ruleutils starts a statement with a space.
  task.sql.erase(0, task.sql.find_first_not_of(' '));
  return task;
}

// Where a read goes: the copy on this node when there is one.
const CachedNode& ReadNode(const RouterPlan& plan, int32_t shard_index, metadata::ShardId* shard_id) {
  const metadata::TableId decider = plan.anchor_table != 0 ? plan.anchor_table : plan.query.tables.front();
  TablePtr table = TableById(decider);
  const metadata::ShardRecord& shard = ShardAt(*table, shard_index);
  *shard_id = shard.shard_id;
  return ReadPlacement(shard);
}

// An UPDATE or DELETE over several shards: each shard it touches, one
// after another, every node in a remote transaction that commits with the
// local one; RETURNING rows and counts add up.
// Every node works on one of its statements at a time, all nodes at once
// (this node's run here meanwhile); under EXPLAIN ANALYZE one after another.
void RunOnShards(RouterScanState* state, const std::set<int32_t>& shards) {
  RouterExecution& execution = *state->execution;
  const RouterPlan& plan = execution.plan;
  TablePtr target = TableById(plan.target_table);
  EState* estate = state->css.ss.ps.state;
  const bool analyze = ExplainAnalyzeRunning() && estate->es_instrument != 0;
  Runner runner(state);
  uint64_t count = 0;
  // Each shard's statement on each of its copies; the first copy's count
  // and RETURNING rows are the answer.
  struct Item {
    Task task;
    bool first;
  };
  std::map<metadata::NodeId, std::vector<Item>> by_node;
  for (int32_t shard_index : shards) {
    Task task = TemplateTask(plan, shard_index);
    task.prepared = false;  // each shard's text runs once
    if (execution.explain_sql.empty()) execution.explain_sql = task.sql;
    const metadata::ShardRecord& shard = ShardAt(*target, shard_index);
    for (size_t i = 0; i < shard.placements.size(); i++) by_node[shard.placements[i]].push_back({task, i == 0});
  }
  const metadata::NodeId local = metadata_cache::LocalNodeId();
  const RemoteParams remote = RemoteParamsOf(estate->es_param_list_info, plan.params_used);
  for (size_t round = 0;; round++) {
    std::vector<std::pair<NodeConnection*, bool>> sent;
    const Item* here = nullptr;
    for (const auto& [node_id, items] : by_node) {
      if (round >= items.size()) continue;
      if (analyze || node_id == local) {
        if (node_id == local) here = &items[round];
        if (analyze && node_id != local) {
          const uint64_t written =
              runner.Run(metadata_cache::Node(node_id), items[round].task, items[round].first, true);
          if (items[round].first) count += written;
        }
        continue;
      }
      NodeConnection& connection =
          connection_pool::Acquire(metadata_cache::Node(node_id), connection_pool::Access::kWriteInTransaction);
      connection.SendQuery(items[round].task.sql, remote.values, remote.types.empty() ? nullptr : remote.types.data());
      sent.emplace_back(&connection, items[round].first);
    }
    if (sent.empty() && here == nullptr) {
      bool left = false;
      for (const auto& [node_id, items] : by_node) left = left || round < items.size();
      if (!left) break;
    }
    if (here != nullptr) {
      const uint64_t written = runner.Run(metadata_cache::Node(local), here->task, here->first, true);
      if (here->first) count += written;
    }
    // A failure leaves the other connections mid-statement: the local
    // abort that follows closes them (connection_pool's rollback).
    for (auto& [connection, first] : sent) {
      const uint64_t written = runner.Collect(*connection, first ? execution.rows.Store(false) : nullptr, false);
      if (first) count += written;
    }
  }
  execution.explain_kind = "write on several shards";
  execution.explain_task = std::to_string(shards.size()) + " shard(s) on " + std::to_string(by_node.size()) +
                           " node(s), " + (analyze ? "one after another" : "all nodes at once");
  estate->es_processed += count;
}

// The shards a several-shards write touches: every shard without pins.
std::set<int32_t> ShardsToWrite(RouterScanState* state) {
  RouterExecution& execution = *state->execution;
  TablePtr target = TableById(execution.plan.target_table);
  if (execution.plan.pins != NIL) return PinnedShards(execution, state->css.ss.ps.ps_ExprContext, *target);
  std::set<int32_t> shards;
  for (int32_t i = 0; i < static_cast<int32_t>(target->record.shards.size()); i++) shards.insert(i);
  return shards;
}

void RunTemplate(RouterScanState* state) {
  RouterExecution& execution = *state->execution;
  const RouterPlan& plan = execution.plan;
  int32_t shard_index = 0;
  if (plan.several_shards) {
    // A write whose pins name one shard takes the one-shard path: no
    // remote transaction outside a transaction block, one round trip.
    const std::set<int32_t> shards = ShardsToWrite(state);
    if (shards.size() != 1) {
      RunOnShards(state, shards);
      return;
    }
    shard_index = *shards.begin();
  } else if (plan.concatenable && plan.anchor_table != 0) {
    // Parameters may name several shards; rows of each simply follow.
    TablePtr anchor = TableById(plan.anchor_table);
    const std::set<int32_t> shards = PinnedShards(execution, state->css.ss.ps.ps_ExprContext, *anchor);
    if (shards.size() > 1) {
      Runner runner(state);
      for (int32_t index : shards) {
        const Task task = TemplateTask(plan, index);
        if (execution.explain_sql.empty()) execution.explain_sql = task.sql;
        metadata::ShardId shard_id = 0;
        runner.Run(ReadNode(plan, index, &shard_id), task, true, false);
      }
      execution.explain_kind = "router (several shards, rows concatenated)";
      execution.explain_task = std::to_string(shards.size()) + " shard(s), one after another";
      return;
    }
    shard_index = shards.empty() ? 0 : *shards.begin();
  } else {
    shard_index = ChooseShard(state);
  }
  const Task task = TemplateTask(plan, shard_index);
  execution.explain_sql = task.sql;

  Runner runner(state);
  if (plan.command == CMD_SELECT) {
    metadata::ShardId shard_id = 0;
    const CachedNode& node = ReadNode(plan, shard_index, &shard_id);
    execution.explain_task = "shard " + std::to_string(shard_id) + " on " + NodeLabel(node);
    runner.Run(node, task, true, false);
    return;
  }
  TablePtr target = TableById(plan.target_table);
  const metadata::ShardRecord& shard = ShardAt(*target, shard_index);
  const bool several = shard.placements.size() > 1;
  uint64_t count = 0;
  for (size_t i = 0; i < shard.placements.size(); i++) {
    const CachedNode& node = metadata_cache::Node(shard.placements[i]);
    if (i == 0) execution.explain_task = "shard " + std::to_string(shard.shard_id) + " on " + NodeLabel(node);
    // Every copy is written; the first one's rows and count are the answer.
    const uint64_t written = runner.Run(node, task, i == 0, several);
    if (i == 0) count = written;
  }
  if (several) execution.explain_task += " and " + std::to_string(shard.placements.size() - 1) + " more copies";
  state->css.ss.ps.state->es_processed += count;
}

// Plain EXPLAIN: name the shard and show the node's plan for it, when the
// pins can be evaluated now (constants, or parameters with values).
void DescribeWithoutRunning(RouterScanState* state, ExplainState* es) {
  RouterExecution& execution = *state->execution;
  const RouterPlan& plan = execution.plan;
  if (plan.command == CMD_INSERT && !plan.several_shards) return;
  if (!plan.params_used.empty() && state->css.ss.ps.state->es_param_list_info == nullptr) return;
  int32_t shard_index = 0;
  if (plan.several_shards) {
    const std::set<int32_t> shards = ShardsToWrite(state);
    if (shards.size() != 1) {
      execution.explain_kind = "write on several shards";
      execution.explain_task = std::to_string(shards.size()) + " shard(s), all nodes at once";
      return;
    }
    shard_index = *shards.begin();
  } else {
    shard_index = ChooseShard(state);
  }
  const Task task = TemplateTask(plan, shard_index);
  metadata::ShardId shard_id = 0;
  const CachedNode* node = nullptr;
  if (plan.command == CMD_SELECT) {
    node = &ReadNode(plan, shard_index, &shard_id);
  } else {
    TablePtr target = TableById(plan.target_table);
    const metadata::ShardRecord& shard = ShardAt(*target, shard_index);
    shard_id = shard.shard_id;
    node = &metadata_cache::Node(shard.placements.front());
  }
  execution.explain_task = "shard " + std::to_string(shard_id) + " on " + NodeLabel(*node);
  execution.explain_sql = task.sql;
  // The node's plan for a statement without parameters; with COSTS OFF the
  // output stays stable enough for regression tests.
  if (!es->costs || !plan.params_used.empty()) return;
  const std::string explain = "EXPLAIN " + task.sql;
  if (node->node_id == metadata_cache::LocalNodeId()) {
    // Plans only: nothing runs.
    PgCall([&] { SPI_connect(); });
    spi::Execute(explain.c_str());
    for (uint64_t r = 0; r < spi::RowCount(); r++) execution.remote_plan.push_back(spi::GetText(r, 0));
    PgCall([] { SPI_finish(); });
    return;
  }
  const auto rows = connection_pool::Run(*node, connection_pool::Access::kRead,
                                         [&](NodeConnection& connection) { return connection.Query(explain); });
  for (const auto& row : rows) execution.remote_plan.push_back(row[0].value_or(""));
}

Const* EvaluateToConst(Expr* expr, ExprContext* econtext, PlanState* parent) {
  return PgCall([&] {
    ExprState* state = ExecInitExpr(expr, parent);
    bool is_null = false;
    Datum value = ExecEvalExprSwitchContext(state, econtext, &is_null);
    const Oid type = exprType(reinterpret_cast<Node*>(expr));
    int16 length = 0;
    bool by_value = false;
    get_typlenbyval(type, &length, &by_value);
    if (!is_null) value = datumCopy(value, by_value, length);
    return makeConst(type, exprTypmod(reinterpret_cast<Node*>(expr)), exprCollation(reinterpret_cast<Node*>(expr)),
                     length, value, is_null, by_value);
  });
}

struct ValuesSubstitution {
  Index rtindex;
  const std::vector<Const*>* values;
};

// A tree mutator: the VALUES entry's columns replaced by one row's values.
Node* SubstituteValues(Node* node, void* raw) {
  if (node == nullptr) return nullptr;
  auto* substitution = static_cast<ValuesSubstitution*>(raw);
  if (IsA(node, Var)) {
    auto* var = reinterpret_cast<Var*>(node);
    if (var->varno == static_cast<int>(substitution->rtindex) && var->varlevelsup == 0 && var->varattno > 0 &&
        static_cast<size_t>(var->varattno) <= substitution->values->size())
      return static_cast<Node*>(copyObjectImpl((*substitution->values)[static_cast<size_t>(var->varattno - 1)]));
  }
  return expression_tree_mutator(node, Mutator(SubstituteValues), raw);
}

// INSERT: every row is computed here (defaults, sequences, parameters), the
// rows are grouped by shard, and each group is deparsed for its shard.
//
// The rewritten query is not what ruleutils expects of a multi-row INSERT:
// the rewriter adds target-list entries for omitted columns with defaults
// outside the VALUES list. So each group is rebuilt in one canonical form:
// a VALUES list holding every target column as a constant, and a target
// list of plain references to it.
void InsertRows(RouterScanState* state, Query* query) {
  RouterExecution& execution = *state->execution;
  const RouterPlan& plan = execution.plan;
  TablePtr target = TableById(plan.target_table);
  ExprContext* econtext = state->css.ss.ps.ps_ExprContext;
  PlanState* parent = &state->css.ss.ps;

  RangeTblEntry* values_rte = nullptr;
  Index values_rtindex = 0;
  {
    Index rtindex = 1;
    ListCell* cell = nullptr;
    foreach (cell, query->rtable) {
      auto* rte = static_cast<RangeTblEntry*>(lfirst(cell));
      if (rte->rtekind == RTE_VALUES) {
        values_rte = rte;
        values_rtindex = rtindex;
      }
      rtindex++;
    }
  }
  std::vector<TargetEntry*> entries;
  int key_position = -1;
  {
    ListCell* cell = nullptr;
    foreach (cell, query->targetList) {
      auto* entry = static_cast<TargetEntry*>(lfirst(cell));
      if (!target->IsReference() && entry->resno == target->distribution_attno)
        key_position = static_cast<int>(entries.size());
      entries.push_back(entry);
    }
  }
  auto null_key = [&]() {
    return Error("23502",
                 "null value in column \"" + target->record.distribution_column + "\" of relation \"" +
                     target->record.table_name + "\" violates not-null constraint",
                 "The distribution column decides the row's shard; it must have a value.");
  };
  if (!target->IsReference() && key_position < 0) throw null_key();

  // Each row as constants, in target-list order, evaluated once.
  std::vector<std::vector<Const*>> rows;
  auto evaluate_row = [&](List* values) {
    std::vector<Const*> value_consts;
    ListCell* cell = nullptr;
    foreach (cell, values) value_consts.push_back(EvaluateToConst(static_cast<Expr*>(lfirst(cell)), econtext, parent));
    std::vector<Const*> row;
    for (TargetEntry* entry : entries) {
      Node* expr = reinterpret_cast<Node*>(entry->expr);
      if (values_rte != nullptr && IsA(expr, Var) &&
          reinterpret_cast<Var*>(expr)->varno == static_cast<int>(values_rtindex)) {
        row.push_back(value_consts[static_cast<size_t>(reinterpret_cast<Var*>(expr)->varattno - 1)]);
      } else if (values_rte != nullptr) {
        // An expression over the row's values (INSERT ... SELECT coerces the
        // selected columns to the target's types in the target list).
        ValuesSubstitution substitution{values_rtindex, &value_consts};
        auto* substituted = reinterpret_cast<Expr*>(PgCall([&] { return SubstituteValues(expr, &substitution); }));
        row.push_back(EvaluateToConst(substituted, econtext, parent));
      } else {
        row.push_back(EvaluateToConst(entry->expr, econtext, parent));
      }
    }
    rows.push_back(std::move(row));
  };
  if (values_rte != nullptr) {
    ListCell* cell = nullptr;
    foreach (cell, values_rte->values_lists) evaluate_row(static_cast<List*>(lfirst(cell)));
  } else {
    evaluate_row(NIL);
  }

  const int32_t shard_count = static_cast<int32_t>(target->record.shards.size());
  std::map<int32_t, std::vector<size_t>> groups;  // shard index -> rows
  std::vector<int32_t> row_shards;                // the shard of each row, in input order
  for (size_t r = 0; r < rows.size(); r++) {
    int32_t shard_index = 0;
    if (!target->IsReference()) {
      Const* key = rows[r][static_cast<size_t>(key_position)];
      if (key->constisnull) throw null_key();
      shard_index = sharding::ShardIndexForHash(DistributionHashOf(key->constvalue, key->consttype), shard_count);
    }
    groups[shard_index].push_back(r);
    row_shards.push_back(shard_index);
  }

  std::vector<std::pair<int32_t, Query*>> statements;
  for (const auto& [shard_index, members] : groups) {
    Query* copy = PgCall([&] { return static_cast<Query*>(copyObjectImpl(query)); });
    PgCall([&] {
      if (values_rte == nullptr) {
        ListCell* cell = nullptr;
        size_t i = 0;
        foreach (cell, copy->targetList)
          static_cast<TargetEntry*>(lfirst(cell))->expr = reinterpret_cast<Expr*>(rows[members.front()][i++]);
        return;
      }
      RangeTblEntry* rte = rt_fetch(values_rtindex, copy->rtable);
      List* lists = NIL;
      for (size_t r : members) {
        List* row = NIL;
        for (Const* value : rows[r]) row = lappend(row, value);
        lists = lappend(lists, row);
      }
      rte->values_lists = lists;
      rte->coltypes = NIL;
      rte->coltypmods = NIL;
      rte->colcollations = NIL;
      List* names = NIL;
      ListCell* cell = nullptr;
      AttrNumber column = 1;
      foreach (cell, copy->targetList) {
        auto* entry = static_cast<TargetEntry*>(lfirst(cell));
        Const* sample = rows[members.front()][static_cast<size_t>(column - 1)];
        rte->coltypes = lappend_oid(rte->coltypes, sample->consttype);
        rte->coltypmods = lappend_int(rte->coltypmods, sample->consttypmod);
        rte->colcollations = lappend_oid(rte->colcollations, sample->constcollid);
        names = lappend(names, makeString(psprintf("column%d", column)));
        entry->expr = reinterpret_cast<Expr*>(
            makeVar(values_rtindex, column, sample->consttype, sample->consttypmod, sample->constcollid, 0));
        column++;
      }
      rte->eref = makeAlias("*VALUES*", names);
    });
    statements.emplace_back(shard_index, copy);
  }

  Runner runner(state);
  // Work on several nodes, or on several copies, is one remote transaction
  // per node, committed with the local transaction.
  std::set<metadata::NodeId> nodes_touched;
  for (const auto& [shard_index, statement] : statements)
    for (metadata::NodeId node : ShardAt(*target, shard_index).placements) nodes_touched.insert(node);
  const bool transactional = nodes_touched.size() > 1;
  uint64_t count = 0;
  // RETURNING rows come back in the order of the VALUES rows, as on one
  // server (drivers that map returned ids to the rows they sent rely on
  // it): each shard's rows are kept apart, then interleaved in input order.
  // With ON CONFLICT a row may return nothing, so shards simply follow.
  const bool keep_input_order = query->returningList != NIL && query->onConflict == nullptr && statements.size() > 1;
  TupleDesc descriptor = state->css.ss.ss_ScanTupleSlot->tts_tupleDescriptor;
  std::map<int32_t, Tuplestorestate*> returned;
  for (const auto& [shard_index, statement] : statements) {
    Task task;
    task.shard_index = shard_index;
    const ShardQueryTemplate text = BuildShardQuery(statement);
    task.sql = text.Render([&](metadata::TableId id) { return ShardTableSql(id, shard_index); });
    task.sql.erase(0, task.sql.find_first_not_of(' '));
    Tuplestorestate* into = nullptr;
    if (keep_input_order)
      into = returned[shard_index] = PgCall([] { return tuplestore_begin_heap(false, false, work_mem); });
    const metadata::ShardRecord& shard = ShardAt(*target, shard_index);
    for (size_t i = 0; i < shard.placements.size(); i++) {
      const CachedNode& node = metadata_cache::Node(shard.placements[i]);
      if (execution.explain_task.empty()) {
        execution.explain_task = "shard " + std::to_string(shard.shard_id) + " on " + NodeLabel(node);
        execution.explain_sql = task.sql;
      }
      const uint64_t written = runner.Run(node, task, i == 0, transactional, into);
      if (i == 0) count += written;
    }
  }
  if (keep_input_order) {
    PgCall([&] {
      TupleTableSlot* slot = MakeSingleTupleTableSlot(descriptor, &TTSOpsMinimalTuple);
      Tuplestorestate* out = execution.rows.Store(false);
      for (int32_t shard_index : row_shards) {
        if (tuplestore_gettupleslot(returned[shard_index], true, false, slot)) tuplestore_puttupleslot(out, slot);
      }
      ExecDropSingleTupleTableSlot(slot);
      for (auto& [shard_index, store] : returned) tuplestore_end(store);
    });
  }
  if (statements.size() > 1) execution.explain_task += " and " + std::to_string(statements.size() - 1) + " more shards";
  state->css.ss.ps.state->es_processed += count;
}

// INSERT ... SELECT: the SELECT runs here (through the planner like any
// query: routed, or the general fallback) and its rows are inserted
// batch by batch exactly as INSERT ... VALUES rows would be: each batch
// becomes the VALUES list of the query's source entry.
void InsertSelectedRows(RouterScanState* state) {
  RouterExecution& execution = *state->execution;
  const RouterPlan& plan = execution.plan;
  constexpr long kBatch = 1000;
  Query* query = plan.insert_query;
  Index source_rtindex = 0;
  {
    Index rtindex = 1;
    ListCell* cell = nullptr;
    foreach (cell, query->rtable) {
      if (static_cast<RangeTblEntry*>(lfirst(cell))->rtekind == RTE_SUBQUERY) source_rtindex = rtindex;
      rtindex++;
    }
  }
  ParamListInfo params = state->css.ss.ps.state->es_param_list_info;
  MemoryContext batch_context = PgCall(
      [] { return AllocSetContextCreate(CurrentMemoryContext, "phantomdb insert select", ALLOCSET_DEFAULT_SIZES); });
  MemoryContext outer = CurrentMemoryContext;
  PgCall([] { SPI_connect(); });
  Portal portal = OpenLocalCursor(plan.select_sql, params);
  for (;;) {
    PgCall([&] { SPI_cursor_fetch(portal, true, kBatch); });
    if (SPI_processed == 0) break;
    // The batch as constants in a query of its own, made outside SPI's
    // memory: the inserts below run SPI statements of their own.
    Query* batch = PgCall([&] {
      MemoryContext previous = MemoryContextSwitchTo(batch_context);
      Query* copy = static_cast<Query*>(copyObjectImpl(query));
      RangeTblEntry* source = rt_fetch(source_rtindex, copy->rtable);
      TupleDesc descriptor = SPI_tuptable->tupdesc;
      List* rows = NIL;
      for (uint64_t r = 0; r < SPI_processed; r++) {
        List* row = NIL;
        for (int c = 0; c < descriptor->natts; c++) {
          Form_pg_attribute attribute = TupleDescAttr(descriptor, c);
          bool is_null = false;
          Datum value = SPI_getbinval(SPI_tuptable->vals[r], descriptor, c + 1, &is_null);
          if (!is_null) value = datumCopy(value, attribute->attbyval, attribute->attlen);
          row = lappend(row, makeConst(attribute->atttypid, attribute->atttypmod, attribute->attcollation,
                                       attribute->attlen, value, is_null, attribute->attbyval));
        }
        rows = lappend(rows, row);
      }
      source->rtekind = RTE_VALUES;
      source->subquery = nullptr;
      source->values_lists = rows;
      MemoryContextSwitchTo(previous);
      SPI_freetuptable(SPI_tuptable);
      return copy;
    });
    MemoryContext previous = MemoryContextSwitchTo(outer);
    InsertRows(state, batch);
    MemoryContextSwitchTo(previous);
    PgCall([&] { MemoryContextReset(batch_context); });
  }
  PgCall([&] {
    SPI_cursor_close(portal);
    SPI_finish();
    MemoryContextDelete(batch_context);
  });
}

void Execute(RouterScanState* state) {
  state->execution->rows.Clear();
  if (state->execution->plan.command != CMD_INSERT || state->execution->plan.several_shards)
    RunTemplate(state);
  else if (!state->execution->plan.select_sql.empty())
    InsertSelectedRows(state);
  else
    InsertRows(state, state->execution->plan.insert_query);
}

// ---- CustomScan callbacks --------------------------------------------------

void BeginRouterScan(CustomScanState* node, EState* estate, int eflags) {
  GuardHook([&] {
    auto* state = reinterpret_cast<RouterScanState*>(node);
    // The store is made here, in the query's memory: later calls may run
    // with SPI's (shorter-lived) context current.
    state->execution->rows.Store(false);
    ListCell* cell = nullptr;
    foreach (cell, state->execution->plan.pins) {
      ExprState* pin = PgCall([&] { return ExecInitExpr(static_cast<Expr*>(lfirst(cell)), &node->ss.ps); });
      state->execution->pin_states.push_back(pin);
    }
  });
}

TupleTableSlot* ExecRouterScan(CustomScanState* node) {
  return GuardHook([&]() -> TupleTableSlot* {
    auto* state = reinterpret_cast<RouterScanState*>(node);
    RouterExecution& execution = *state->execution;
    if (!execution.done) {
      Execute(state);
      execution.done = true;
    }
    TupleTableSlot* slot = node->ss.ss_ScanTupleSlot;
    if (!execution.rows.Next(slot)) return slot;
    if (node->ss.ps.ps_ProjInfo != nullptr) {
      node->ss.ps.ps_ExprContext->ecxt_scantuple = slot;
      return PgCall([&] { return ExecProject(node->ss.ps.ps_ProjInfo); });
    }
    return slot;
  });
}

void EndRouterScan(CustomScanState* node) { reinterpret_cast<RouterScanState*>(node)->execution->rows.End(); }

void ReScanRouterScan(CustomScanState* node) {
  auto* state = reinterpret_cast<RouterScanState*>(node);
  state->execution->done = false;
}

void ExplainRouterScan(CustomScanState* node, List* ancestors, ExplainState* es) {
  GuardHook([&] {
    auto* state = reinterpret_cast<RouterScanState*>(node);
    RouterExecution& execution = *state->execution;
    if (!execution.plan.select_sql.empty()) {
      PgCall([&] {
        ExplainPropertyText("Distribution", "INSERT ... SELECT through this node", es);
        ExplainPropertyText("Task", "each selected row to its shard, in batches", es);
        ExplainPropertyText("Source SQL", execution.plan.select_sql.c_str(), es);
      });
      return;
    }
    if (execution.explain_task.empty() && !es->analyze) DescribeWithoutRunning(state, es);
    const bool undecided = execution.explain_task.empty();
    const std::string kind = !execution.explain_kind.empty()              ? execution.explain_kind
                             : execution.plan.several_shards && undecided ? "write on several shards"
                             : execution.plan.anchor_table != 0           ? "router (one shard)"
                                                                          : "reference tables";
    PgCall([&] { ExplainPropertyText("Distribution", kind.c_str(), es); });
    if (!execution.explain_task.empty()) {
      PgCall([&] {
        ExplainPropertyText("Task", execution.explain_task.c_str(), es);
        if (!execution.explain_sql.empty()) ExplainPropertyText("Remote SQL", execution.explain_sql.c_str(), es);
      });
    } else {
      const char* when = execution.plan.several_shards ? "shards chosen at execution" : "shard chosen at execution";
      PgCall([&] { ExplainPropertyText("Task", when, es); });
    }
    if (!execution.remote_plan.empty()) ExplainRemotePlan(execution.remote_plan, es);
  });
}

const CustomExecMethods kRouterExecMethods = {
    .CustomName = "PhantomDB Router",
    .BeginCustomScan = BeginRouterScan,
    .ExecCustomScan = ExecRouterScan,
    .EndCustomScan = EndRouterScan,
    .ReScanCustomScan = ReScanRouterScan,
    .ExplainCustomScan = ExplainRouterScan,
};

Node* CreateRouterScanState(CustomScan* scan) {
  return GuardHook([&] {
    RouterScanState* state = NewScanState<RouterExecution>(&kRouterExecMethods);
    state->execution->plan = DecodeRouterPlan(scan->custom_private);
    return reinterpret_cast<Node*>(state);
  });
}

}  // namespace

const CustomScanMethods RouterScanMethods = {
    .CustomName = "PhantomDB Router",
    .CreateCustomScanState = CreateRouterScanState,
};

void RegisterRouterScan() { RegisterCustomScanMethods(&RouterScanMethods); }

}  // namespace phantom::pg
