// The router planner; see router_planner.hpp and docs/distributed-tables.md
// ("Which queries route").
#include "pg/planner/router_planner.hpp"

#include <map>
#include <memory>
#include <numeric>
#include <set>
#include <string>
#include <vector>

#include "core/common/error.hpp"
#include "pg/executor/router_plan.hpp"
#include "pg/executor/router_scan.hpp"
#include "pg/guard.hpp"
#include "pg/metadata/metadata_cache.hpp"
#include "pg/planner/pushdown_planner.hpp"
#include "pg/planner/shard_query.hpp"
#include "pg/planner/shippable.hpp"
#include "pg/sql_text.hpp"
#include "pg/sharding/distribution_value.hpp"
#include "core/sharding/shard_map.hpp"

extern "C" {
#include "catalog/pg_opfamily.h"
#include "catalog/pg_type.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/clauses.h"
#include "optimizer/optimizer.h"
#include "parser/parsetree.h"
#include "rewrite/rewriteManip.h"
#include "utils/lsyscache.h"
#include "utils/array.h"
#include "utils/ruleutils.h"
#include "utils/typcache.h"
}

namespace phantom::pg {

namespace {

using TablePtr = std::shared_ptr<const DistributedTable>;

[[noreturn]] void NotSupported(const std::string& what, const std::string& hint = "") {
  throw Error(sqlstate::kFeatureNotSupported, what + " is not supported yet", "", hint);
}

std::string RelName(Oid relid) {
  const char* name = PgCall([&] { return get_rel_name(relid); });
  return name ? name : std::to_string(relid);
}

// Every relation the query mentions, at the top level (rtable index) and
// below it (subqueries, CTEs, sublinks).
struct RelationScan {
  std::vector<std::pair<Index, TablePtr>> top_level;  // distributed or reference
  std::vector<Oid> nested_distributed;                // hash tables below the top level
  std::vector<Oid> local;                             // plain tables anywhere
  std::vector<Oid> all;
  int depth = 0;
};

bool ScanRelations(Node* node, void* context);

bool ScanQuery(Query* query, RelationScan* scan) {
  scan->depth++;
  bool result = query_tree_walker(query, Walker(ScanRelations), scan, QTW_EXAMINE_RTES_BEFORE);
  scan->depth--;
  return result;
}

bool ScanRelations(Node* node, void* context) {
  if (node == nullptr) return false;
  auto* scan = static_cast<RelationScan*>(context);
  if (IsA(node, RangeTblEntry)) {
    auto* rte = reinterpret_cast<RangeTblEntry*>(node);
    if (rte->rtekind != RTE_RELATION) return false;
    scan->all.push_back(rte->relid);
    TablePtr table = metadata_cache::Find(rte->relid);
    if (!table) {
      scan->local.push_back(rte->relid);
    } else if (scan->depth > 1 && !table->IsReference()) {
      scan->nested_distributed.push_back(rte->relid);
    }
    return false;
  }
  if (IsA(node, Query)) return ScanQuery(reinterpret_cast<Query*>(node), scan);
  return expression_tree_walker(node, Walker(ScanRelations), context);
}

bool CollectParams(Node* node, void* context) {
  if (node == nullptr) return false;
  if (IsA(node, Param)) {
    auto* param = reinterpret_cast<Param*>(node);
    if (param->paramkind == PARAM_EXTERN) static_cast<std::set<int>*>(context)->insert(param->paramid);
    return false;
  }
  if (IsA(node, Query)) return query_tree_walker(reinterpret_cast<Query*>(node), Walker(CollectParams), context, 0);
  return expression_tree_walker(node, Walker(CollectParams), context);
}

bool HasNonExternParam(Node* node, void* context) {
  if (node == nullptr) return false;
  if (IsA(node, Param)) return reinterpret_cast<Param*>(node)->paramkind != PARAM_EXTERN;
  return expression_tree_walker(node, Walker(HasNonExternParam), context);
}

// An expression this node can evaluate before choosing the shard.
bool IsPinValue(Node* expr) {
  return PgCall([&] {
    return !contain_var_clause(expr) && !contain_volatile_functions(expr) && !checkExprHasSubLink(expr) &&
           !HasNonExternParam(expr, nullptr) && !contain_agg_clause(expr) && !contain_window_function(expr);
  });
}

Node* StripRelabel(Node* node) {
  while (node != nullptr && IsA(node, RelabelType))
    node = reinterpret_cast<Node*>(reinterpret_cast<RelabelType*>(node)->arg);
  return node;
}

class PinAnalysis {
 public:
  PinAnalysis(Query* query, const std::vector<std::pair<Index, TablePtr>>& tables) : query_(query) {
    for (const auto& [rtindex, table] : tables) {
      if (table->IsReference()) continue;
      hash_[rtindex] = table;
      parent_[rtindex] = rtindex;
    }
  }

  bool Empty() const { return hash_.empty(); }

  // Finds the pins; throws when a hash table is left unpinned, unless
  // every_shard_ok and the tables are all joined on their distribution
  // columns (then every shard can run on its own: NIL).
  List* Analyze(bool every_shard_ok) {
    std::vector<Node*> conjuncts;
    std::vector<std::pair<std::vector<Node*>, std::set<Index>>> left_joins;  // ON quals, nullable side
    CollectJoinTree(reinterpret_cast<Node*>(query_->jointree), conjuncts, left_joins);
    for (Node* conjunct : conjuncts) Consider(conjunct);
    // A LEFT JOIN's ON equality pins its nullable side to an already pinned
    // preserved side (matching rows share the key); never the other way.
    for (bool changed = true; changed;) {
      changed = false;
      for (const auto& [quals, nullable] : left_joins) {
        for (Node* qual : quals) {
          auto pair = VarEquality(qual);
          if (!pair) continue;
          auto [a, b] = *pair;
          if (nullable.count(b) > 0) std::swap(a, b);
          if (nullable.count(a) == 0 || nullable.count(b) > 0) continue;
          if (Pinned(b) && !Pinned(a)) {
            Union(a, b);
            changed = true;
          }
        }
      }
    }
    for (const auto& [rtindex, table] : hash_) {
      if (!Pinned(rtindex) && every_shard_ok && OneClass()) return NIL;
      if (!Pinned(rtindex)) {
        const std::string name = table->record.table_name;
        // A SELECT never shows this: it goes to the general fallback.
        NotSupported("a write over several shards of distributed table \"" + name + "\"",
                     "Write one shard at a time: add a condition \"" + table->record.distribution_column +
                         " = <value>\" (or IN (...) within one shard).");
      }
    }
    List* pins = NIL;
    for (const auto& [root, values] : pins_)
      for (Node* value : values) pins = PgCall([&] { return lappend(pins, value); });
    return pins;
  }

  const TablePtr& Anchor() const { return hash_.begin()->second; }

  // Whether every distributed table is tied to the others by equalities of
  // distribution columns, so that shard i of each only meets shard i.
  bool OneClass() {
    std::set<Index> roots;
    for (const auto& [rtindex, table] : hash_) roots.insert(Find(rtindex));
    return roots.size() <= 1;
  }
  const std::map<Index, TablePtr>& HashTables() const { return hash_; }

 private:
  Index Find(Index x) {
    while (parent_[x] != x) x = parent_[x] = parent_[parent_[x]];
    return x;
  }
  void Union(Index a, Index b) {
    Index ra = Find(a), rb = Find(b);
    if (ra == rb) return;
    parent_[ra] = rb;
    auto it = pins_.find(ra);
    if (it != pins_.end()) {
      auto& target = pins_[rb];
      target.insert(target.end(), it->second.begin(), it->second.end());
      pins_.erase(ra);
    }
  }
  bool Pinned(Index x) { return pins_.count(Find(x)) > 0; }

  // The hash table whose distribution column expr is, if any.
  std::optional<Index> DistributionVar(Node* expr) {
    expr = StripRelabel(expr);
    if (expr == nullptr || !IsA(expr, Var)) return std::nullopt;
    auto* var = reinterpret_cast<Var*>(expr);
    if (var->varlevelsup != 0) return std::nullopt;
    auto it = hash_.find(var->varno);
    if (it == hash_.end() || var->varattno != it->second->distribution_attno) return std::nullopt;
    return var->varno;
  }

  std::optional<std::pair<Index, Index>> VarEquality(Node* qual) {
    if (!IsA(qual, OpExpr)) return std::nullopt;
    auto* op = reinterpret_cast<OpExpr*>(qual);
    if (list_length(op->args) != 2) return std::nullopt;
    auto a = DistributionVar(static_cast<Node*>(linitial(op->args)));
    auto b = DistributionVar(static_cast<Node*>(lsecond(op->args)));
    if (!a || !b) return std::nullopt;
    const TablePtr& ta = hash_[*a];
    const TablePtr& tb = hash_[*b];
    if (ta->record.colocation_id != tb->record.colocation_id) return std::nullopt;
    if (!IsDistributionEquality(op->opno, ta->distribution_type, tb->distribution_type)) return std::nullopt;
    return std::make_pair(*a, *b);
  }

  void Consider(Node* qual) {
    if (auto pair = VarEquality(qual)) {
      Union(pair->first, pair->second);
      return;
    }
    if (IsA(qual, OpExpr)) {
      auto* op = reinterpret_cast<OpExpr*>(qual);
      if (list_length(op->args) != 2) return;
      Node* left = static_cast<Node*>(linitial(op->args));
      Node* right = static_cast<Node*>(lsecond(op->args));
      auto var = DistributionVar(left);
      Node* value = right;
      if (!var) {
        var = DistributionVar(right);
        value = left;
      }
      if (!var || !IsPinValue(value)) return;
      const Oid value_type = PgCall([&] { return exprType(value); });
      if (!IsDistributionEquality(op->opno, hash_[*var]->distribution_type, value_type)) return;
      pins_[Find(*var)].push_back(value);
      return;
    }
    if (IsA(qual, ScalarArrayOpExpr)) {
      auto* op = reinterpret_cast<ScalarArrayOpExpr*>(qual);
      if (!op->useOr || list_length(op->args) != 2) return;
      auto var = DistributionVar(static_cast<Node*>(linitial(op->args)));
      Node* array = static_cast<Node*>(lsecond(op->args));
      if (!var || !IsPinValue(array)) return;
      const Oid element_type = PgCall([&] { return get_element_type(exprType(array)); });
      if (!IsDistributionEquality(op->opno, hash_[*var]->distribution_type, element_type)) return;
      pins_[Find(*var)].push_back(array);
    }
  }

  static void Conjuncts(Node* quals, std::vector<Node*>& out) {
    if (quals == nullptr) return;
    if (IsA(quals, BoolExpr) && reinterpret_cast<BoolExpr*>(quals)->boolop == AND_EXPR) {
      ListCell* cell = nullptr;
      foreach (cell, reinterpret_cast<BoolExpr*>(quals)->args) Conjuncts(static_cast<Node*>(lfirst(cell)), out);
      return;
    }
    if (IsA(quals, List)) {
      ListCell* cell = nullptr;
      foreach (cell, reinterpret_cast<List*>(quals)) Conjuncts(static_cast<Node*>(lfirst(cell)), out);
      return;
    }
    out.push_back(quals);
  }

  static void RtindexesOf(Node* node, std::set<Index>& out) {
    if (node == nullptr) return;
    if (IsA(node, RangeTblRef)) {
      out.insert(reinterpret_cast<RangeTblRef*>(node)->rtindex);
    } else if (IsA(node, JoinExpr)) {
      auto* join = reinterpret_cast<JoinExpr*>(node);
      RtindexesOf(join->larg, out);
      RtindexesOf(join->rarg, out);
    } else if (IsA(node, FromExpr)) {
      ListCell* cell = nullptr;
      foreach (cell, reinterpret_cast<FromExpr*>(node)->fromlist) RtindexesOf(static_cast<Node*>(lfirst(cell)), out);
    }
  }

  // Quals that hold for every result row go to conjuncts: WHERE and the ON
  // of inner joins. ON quals of outer joins do not (the preserved side keeps
  // its unmatched rows).
  void CollectJoinTree(Node* node, std::vector<Node*>& conjuncts,
                       std::vector<std::pair<std::vector<Node*>, std::set<Index>>>& left_joins) {
    if (node == nullptr) return;
    if (IsA(node, FromExpr)) {
      auto* from = reinterpret_cast<FromExpr*>(node);
      Conjuncts(from->quals, conjuncts);
      ListCell* cell = nullptr;
      foreach (cell, from->fromlist) CollectJoinTree(static_cast<Node*>(lfirst(cell)), conjuncts, left_joins);
    } else if (IsA(node, JoinExpr)) {
      auto* join = reinterpret_cast<JoinExpr*>(node);
      CollectJoinTree(join->larg, conjuncts, left_joins);
      CollectJoinTree(join->rarg, conjuncts, left_joins);
      if (join->jointype == JOIN_INNER) {
        Conjuncts(join->quals, conjuncts);
      } else if (join->jointype == JOIN_LEFT || join->jointype == JOIN_RIGHT) {
        std::vector<Node*> quals;
        Conjuncts(join->quals, quals);
        std::set<Index> nullable;
        RtindexesOf(join->jointype == JOIN_LEFT ? join->rarg : join->larg, nullable);
        left_joins.emplace_back(std::move(quals), std::move(nullable));
      }
    }
  }

  Query* query_;
  std::map<Index, TablePtr> hash_;
  std::map<Index, Index> parent_;
  std::map<Index, std::vector<Node*>> pins_;  // by union-find root
};

// Constant pins are judged now: values in several shards need the
// multi-shard path (the fallback, for a SELECT) rather than a runtime error.
void CheckConstantPins(List* pins, const DistributedTable& anchor) {
  std::set<int32_t> shards;
  const auto shard_count = static_cast<int32_t>(anchor.record.shards.size());
  ListCell* cell = nullptr;
  foreach (cell, pins) {
    // IN (1, 2, 3) is an ARRAY[...] of constants until folded.
    Node* pin = StripRelabel(PgCall([&] { return eval_const_expressions(nullptr, static_cast<Node*>(lfirst(cell))); }));
    if (!IsA(pin, Const)) return;  // decided at execution
    auto* value = reinterpret_cast<Const*>(pin);
    if (!value->constisnull) AddShardsOfPin(value->constvalue, value->consttype, shard_count, shards);
  }
  if (shards.size() > 1)
    NotSupported("a query whose values of \"" + anchor.record.distribution_column + "\" fall in " +
                     std::to_string(shards.size()) + " shards of table \"" + anchor.record.table_name + "\"",
                 "Query one shard at a time until multi-shard queries arrive.");
}

void CheckNoDistributionColumnChange(Query* parse, const DistributedTable& target) {
  if (target.IsReference()) return;
  ListCell* cell = nullptr;
  List* assignments = parse->commandType == CMD_UPDATE ? parse->targetList
                      : parse->onConflict != nullptr   ? parse->onConflict->onConflictSet
                                                       : NIL;
  foreach (cell, assignments) {
    auto* entry = static_cast<TargetEntry*>(lfirst(cell));
    if (!entry->resjunk && entry->resno == target.distribution_attno)
      throw Error(sqlstate::kFeatureNotSupported,
                  "cannot change distribution column \"" + target.record.distribution_column + "\" of table \"" +
                      target.record.table_name + "\"",
                  "A row's distribution column decides its shard.",
                  "Delete the row and insert it again with the new value.");
  }
}

List* OutputTargetList(Query* parse) {
  List* source = parse->commandType == CMD_SELECT ? parse->targetList : parse->returningList;
  List* output = NIL;
  ListCell* cell = nullptr;
  foreach (cell, source) {
    auto* entry = static_cast<TargetEntry*>(lfirst(cell));
    if (entry->resjunk) continue;
    output = lappend(output, entry);
  }
  return output;
}

PlannedStmt* BuildPlannedStmt(Query* parse, const RouterPlan& plan, const RelationScan& scan) {
  return PgCall([&] {
    CustomScan* custom = makeNode(CustomScan);
    custom->methods = &RouterScanMethods;
    custom->scan.scanrelid = 0;
    List* output = OutputTargetList(parse);
    List* scan_tlist = NIL;
    List* plan_tlist = NIL;
    AttrNumber resno = 1;
    ListCell* cell = nullptr;
    foreach (cell, output) {
      auto* entry = static_cast<TargetEntry*>(lfirst(cell));
      auto* expr = reinterpret_cast<Expr*>(copyObjectImpl(entry->expr));
      scan_tlist = lappend(scan_tlist, makeTargetEntry(expr, resno, entry->resname, false));
      Var* var = makeVar(INDEX_VAR, resno, exprType(reinterpret_cast<Node*>(expr)),
                         exprTypmod(reinterpret_cast<Node*>(expr)), exprCollation(reinterpret_cast<Node*>(expr)), 0);
      plan_tlist = lappend(plan_tlist, makeTargetEntry(reinterpret_cast<Expr*>(var), resno, entry->resname, false));
      resno++;
    }
    custom->custom_scan_tlist = scan_tlist;
    custom->scan.plan.targetlist = plan_tlist;
    custom->custom_private = EncodeRouterPlan(plan);
    // One round trip to one node; cheap enough that a generic plan always wins.
    custom->scan.plan.startup_cost = 0;
    custom->scan.plan.total_cost = 1;
    custom->scan.plan.plan_rows = 1;
    custom->scan.plan.plan_width = 32;

    PlannedStmt* stmt = makeNode(PlannedStmt);
    stmt->commandType = parse->commandType;
    stmt->queryId = parse->queryId;
    stmt->hasReturning = parse->returningList != NIL;
    stmt->hasModifyingCTE = false;
    stmt->canSetTag = parse->canSetTag;
    stmt->planTree = &custom->scan.plan;
    // The range table is kept for the permission checks on the tables the
    // user named, which the executor makes against this list.
    stmt->rtable = parse->rtable;
    for (Oid relid : scan.all) stmt->relationOids = lappend_oid(stmt->relationOids, relid);
    // A metadata change (shard moved, table dropped) invalidates the plan.
    if (OidIsValid(metadata_cache::CatalogRelation()))
      stmt->relationOids = lappend_oid(stmt->relationOids, metadata_cache::CatalogRelation());
    stmt->stmt_location = parse->stmt_location;
    stmt->stmt_len = parse->stmt_len;
    return stmt;
  });
}

// Whether INSERT ... SELECT into target can run shard group by shard group:
// the SELECT runs per shard group of target's colocation group and the
// target's distribution column takes the source row's distribution column,
// unchanged, so every row stays in the shard group it came from. Volatile
// expressions (a serial column's nextval()) must run here.
bool InsertsIntoOwnShardGroup(Query* parse, RangeTblEntry* source, const DistributedTable& target) {
  if (target.IsReference() || PgCall([&] { return contain_volatile_functions(reinterpret_cast<Node*>(parse)); }))
    return false;
  TargetEntry* key = PgCall([&] { return get_tle_by_resno(parse->targetList, target.distribution_attno); });
  Node* value = key == nullptr ? nullptr : StripRelabel(reinterpret_cast<Node*>(key->expr));
  if (value == nullptr || !IsA(value, Var)) return false;
  auto* var = reinterpret_cast<Var*>(value);
  if (var->varlevelsup != 0 || var->vartype != target.distribution_type ||
      PgCall([&] { return rt_fetch(var->varno, parse->rtable); }) != source)
    return false;
  return RunsPerShardGroup(source->subquery, target.record.colocation_id, var->varattno);
}

}  // namespace

// INSERT ... SELECT into a distributed or reference table: the SELECT runs
// here at execution and its rows are inserted like VALUES rows.
PlannedStmt* PlanInsertSelect(Query* parse, RangeTblEntry* source, const TablePtr& target, const RelationScan& scan) {
  if (parse->cteList != NIL)
    NotSupported("WITH ... INSERT ... SELECT into distributed table \"" + target->record.table_name + "\"");
  CheckNoDistributionColumnChange(parse, *target);
  RouterPlan plan;
  plan.command = CMD_INSERT;
  plan.target_table = target->record.table_id;
  if (!target->IsReference()) plan.anchor_table = target->record.table_id;
  std::set<int> params;
  PgCall([&] { query_tree_walker(parse, Walker(CollectParams), &params, 0); });
  plan.params_used.assign(params.begin(), params.end());
  if (InsertsIntoOwnShardGroup(parse, source, *target)) {
    // Each shard group inserts the rows it reads, on its own node.
    plan.several_shards = true;
    plan.query = BuildShardQuery(parse);
    return BuildPlannedStmt(parse, plan, scan);
  }
  plan.insert_query = PgCall([&] { return static_cast<Query*>(copyObjectImpl(parse)); });
  plan.select_sql = WithQualifiedNames([&] {
    return std::string(
        PgCall([&] { return pg_get_querydef(static_cast<Query*>(copyObjectImpl(source->subquery)), false); }));
  });
  plan.select_sql.erase(0, plan.select_sql.find_first_not_of(' '));  // ruleutils starts with a space
  return BuildPlannedStmt(parse, plan, scan);
}

PlannedStmt* PlanRouterQuery(Query* parse, int cursor_options, ParamListInfo bound_params) {
  // A SELECT never shows this error: it takes the general fallback, which
  // applies the barriers here.
  if (HasSecurityBarriers(parse))
    NotSupported("writing through a security-barrier view on distributed tables", "Write to the table itself.");
  RelationScan scan;
  PgCall([&] { ScanQuery(parse, &scan); });
  if (parse->commandType == CMD_INSERT) {
    TablePtr target =
        metadata_cache::Lookup(PgCall([&] { return rt_fetch(parse->resultRelation, parse->rtable)->relid; }));
    ListCell* cell = nullptr;
    foreach (cell, parse->rtable) {
      auto* rte = static_cast<RangeTblEntry*>(lfirst(cell));
      if (target && rte->rtekind == RTE_SUBQUERY) return PlanInsertSelect(parse, rte, target, scan);
    }
  }
  if (!scan.local.empty()) {
    NotSupported("a query that combines distributed or reference tables with local table \"" +
                     RelName(scan.local.front()) + "\"",
                 "Distribute the local table too, or make it a reference table.");
  }
  if (!scan.nested_distributed.empty() && (parse->commandType == CMD_INSERT || !SubqueriesStayInShardGroup(parse)))
    NotSupported("a subquery, CTE or view over distributed table \"" + RelName(scan.nested_distributed.front()) + "\"");
  if (parse->commandType != CMD_SELECT && parse->commandType != CMD_INSERT && parse->commandType != CMD_UPDATE &&
      parse->commandType != CMD_DELETE)
    NotSupported("this command on distributed tables");
  if (parse->hasModifyingCTE) NotSupported("a data-modifying WITH on distributed tables");
  if ((cursor_options & CURSOR_OPT_SCROLL) != 0) NotSupported("a scrollable cursor over distributed tables");

  std::vector<std::pair<Index, TablePtr>> tables;
  Index rtindex = 1;
  ListCell* cell = nullptr;
  foreach (cell, parse->rtable) {
    auto* rte = static_cast<RangeTblEntry*>(lfirst(cell));
    if (rte->rtekind == RTE_RELATION) {
      if (TablePtr table = metadata_cache::Lookup(rte->relid)) tables.emplace_back(rtindex, table);
    }
    rtindex++;
  }

  RouterPlan plan;
  plan.command = parse->commandType;
  TablePtr target;
  if (parse->commandType != CMD_SELECT) {
    target = metadata_cache::Lookup(PgCall([&] { return rt_fetch(parse->resultRelation, parse->rtable)->relid; }));
    if (!target) NotSupported("writing a local table in a query that reads distributed tables");
    plan.target_table = target->record.table_id;
    CheckNoDistributionColumnChange(parse, *target);
  }

  PinAnalysis pins(parse, tables);
  if (parse->commandType == CMD_INSERT) {
    // The rows come from VALUES or a single row (INSERT ... SELECT went
    // to PlanInsertSelect above).
    if (!target->IsReference()) plan.anchor_table = target->record.table_id;
    plan.insert_query = PgCall([&] { return static_cast<Query*>(copyObjectImpl(parse)); });
  } else {
    if (!pins.Empty()) {
      for (const auto& [index, table] : pins.HashTables()) {
        if (table->record.colocation_id != pins.Anchor()->record.colocation_id)
          NotSupported("joining distributed tables \"" + pins.Anchor()->record.table_name + "\" and \"" +
                       table->record.table_name + "\", which are not colocated");
      }
      // UPDATE and DELETE of one distributed table, or of colocated ones
      // joined on their distribution columns (reference tables aside), run
      // on each shard they touch: every shard, or those the pins name.
      const bool write_of_hash_table = target && !target->IsReference();
      plan.pins = pins.Analyze(write_of_hash_table);
      plan.several_shards = write_of_hash_table && pins.OneClass();
      plan.anchor_table = pins.Anchor()->record.table_id;
      if (!plan.several_shards) CheckConstantPins(plan.pins, *pins.Anchor());
    }
    if (target && target->IsReference() && !pins.Empty())
      NotSupported("writing reference table \"" + target->record.table_name + "\" from distributed tables");
    plan.query = BuildShardQuery(parse);
  }
  // Every copy must compute the same row: no volatile function may run on
  // each copy separately.
  if (target && (target->IsReference() || target->record.shards.front().placements.size() > 1) &&
      parse->commandType != CMD_INSERT &&
      PgCall([&] { return contain_volatile_functions(reinterpret_cast<Node*>(parse)); }))
    NotSupported("a volatile function in a write to replicated table \"" + target->record.table_name + "\"");

  std::set<int> params;
  PgCall([&] { query_tree_walker(parse, Walker(CollectParams), &params, 0); });
  plan.params_used.assign(params.begin(), params.end());
  plan.locks_rows = parse->rowMarks != NIL;
  plan.concatenable = parse->commandType == CMD_SELECT && !parse->hasAggs && parse->groupClause == NIL &&
                      parse->groupingSets == NIL && parse->havingQual == nullptr && parse->distinctClause == NIL &&
                      parse->sortClause == NIL && parse->limitCount == nullptr && parse->limitOffset == nullptr &&
                      !parse->hasWindowFuncs && !parse->hasTargetSRFs && parse->setOperations == nullptr &&
                      parse->rowMarks == NIL;
  // A list whose values are known only at execution (= ANY($1)) may name
  // several shards; a SELECT whose rows cannot simply be concatenated then
  // takes the general fallback rather than fail at execution.
  if (parse->commandType == CMD_SELECT && !plan.concatenable) {
    ListCell* pin_cell = nullptr;
    foreach (pin_cell, plan.pins) {
      Node* pin = static_cast<Node*>(lfirst(pin_cell));
      const bool list = PgCall([&] { return OidIsValid(get_element_type(exprType(pin))); });
      if (list && !IsA(StripRelabel(pin), Const))
        NotSupported("a query over a list of distribution values known only at execution");
    }
  }
  (void)bound_params;
  return BuildPlannedStmt(parse, plan, scan);
}

}  // namespace phantom::pg
