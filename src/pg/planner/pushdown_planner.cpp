// The pushdown planner; see pushdown_planner.hpp and docs/query-processing.md.
#include "pg/planner/pushdown_planner.hpp"

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "core/common/error.hpp"
#include "pg/guard.hpp"
#include "pg/metadata/metadata_cache.hpp"
#include "pg/planner/extension_function.hpp"
#include "pg/planner/fragment_path.hpp"
#include "pg/planner/shard_query.hpp"
#include "pg/planner/shard_scan_path.hpp"
#include "pg/planner/shippable.hpp"
#include "pg/sharding/distribution_value.hpp"

extern "C" {
#include "catalog/pg_aggregate.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_type.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/clauses.h"
#include "optimizer/optimizer.h"
#include "parser/parse_coerce.h"
#include "parser/parse_func.h"
#include "parser/parse_clause.h"
#include "parser/parse_oper.h"
#include "parser/parsetree.h"
#include "rewrite/rewriteManip.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
}

namespace phantom::pg {

namespace {

using TablePtr = std::shared_ptr<const DistributedTable>;

struct PendingEntry {
  Fragment fragment;
  double rows;
};

// The fragments of the plan being made, by their range table entry.
std::map<const RangeTblEntry*, PendingEntry> pending;

Node* StripRelabel(Node* node) {
  while (node != nullptr && IsA(node, RelabelType))
    node = reinterpret_cast<Node*>(reinterpret_cast<RelabelType*>(node)->arg);
  return node;
}

// A member of a FROM clause that shard groups split: a distributed table,
// or a sub-query each shard group computes completely (its rows from that
// shard group are exactly its rows from the whole tables that come from
// it). keys: its columns that hold a distribution value.
struct SplitMember {
  TablePtr anchor;  // the table, or the sub-query's anchor table
  std::set<AttrNumber> keys;
};

std::optional<SplitMember> PerShardGroupSubquery(Query* subquery);
bool ReadsDistributed(Node* node);
bool RunsOnNodes(Node* node, SubqueriesOnNodes subqueries = SubqueriesOnNodes::kOverReferenceTables);

// Whether each shard group can compute the FROM clause on its own: the
// distributed tables are colocated and tied together by equalities of their
// distribution columns (so shard i of one only meets shard i of the others),
// and no outer join keeps the unmatched rows of a side without a
// distributed table (each shard group would emit them again).
class FromClause {
 public:
  explicit FromClause(Query* query) : query_(query) { pushable_ = Analyze(); }

  bool Pushable() const { return pushable_; }
  const TablePtr& Anchor() const { return hash_.begin()->second.anchor; }

  // Whether expr is the distribution column of a distributed table whose
  // rows no outer join null-extends: grouping by it keeps each group in one
  // shard group.
  bool IsGroupingKey(Node* expr) const {
    auto var = DistributionColumn(expr, 0);
    return var && nullable_.count((*var)->varno) == 0;
  }

  // The distribution column of one of these tables that expr is, seen from
  // levelsup queries below this one.
  std::optional<Var*> DistributionColumn(Node* expr, Index levelsup) const {
    expr = StripRelabel(expr);
    if (expr == nullptr || !IsA(expr, Var)) return std::nullopt;
    auto* var = reinterpret_cast<Var*>(expr);
    auto it = hash_.find(var->varno);
    if (var->varlevelsup != levelsup || it == hash_.end() || it->second.keys.count(var->varattno) == 0)
      return std::nullopt;
    return var;
  }

  Oid DistributionType() const { return Anchor()->distribution_type; }

  // The shard groups the WHERE clause leaves when it pins a distribution
  // column to constants (`key = c`, `key IN (...)`; several such filters
  // intersect); nullopt: all of them.
  std::optional<std::set<int32_t>> PinnedShards() const {
    const auto shard_count = static_cast<int32_t>(Anchor()->record.shards.size());
    std::optional<std::set<int32_t>> result;
    List* conjuncts = PgCall([&] {
      Node* quals = flatten_join_alias_vars(query_, query_->jointree->quals);
      return make_ands_implicit(reinterpret_cast<Expr*>(eval_const_expressions(nullptr, quals)));
    });
    ListCell* cell = nullptr;
    foreach (cell, conjuncts) {
      Node* clause = static_cast<Node*>(lfirst(cell));
      Const* value = nullptr;
      if (IsA(clause, OpExpr) && list_length(reinterpret_cast<OpExpr*>(clause)->args) == 2) {
        auto* op = reinterpret_cast<OpExpr*>(clause);
        Node* left = StripRelabel(static_cast<Node*>(linitial(op->args)));
        Node* right = StripRelabel(static_cast<Node*>(lsecond(op->args)));
        Node* other = DistributionColumn(left, 0) ? right : DistributionColumn(right, 0) ? left : nullptr;
        if (other == nullptr || !IsA(other, Const)) continue;
        value = reinterpret_cast<Const*>(other);
        if (!IsDistributionEquality(op->opno, DistributionType(), value->consttype)) continue;
      } else if (IsA(clause, ScalarArrayOpExpr)) {
        auto* op = reinterpret_cast<ScalarArrayOpExpr*>(clause);
        Node* array = StripRelabel(static_cast<Node*>(lsecond(op->args)));
        if (!op->useOr || !DistributionColumn(static_cast<Node*>(linitial(op->args)), 0) || !IsA(array, Const))
          continue;
        value = reinterpret_cast<Const*>(array);
        const Oid element = PgCall([&] { return get_element_type(value->consttype); });
        if (!IsDistributionEquality(op->opno, DistributionType(), element)) continue;
      } else {
        continue;
      }
      std::set<int32_t> shards;
      if (!value->constisnull) AddShardsOfPin(value->constvalue, value->consttype, shard_count, shards);
      if (result) {
        std::set<int32_t> both;
        for (int32_t shard : shards)
          if (result->count(shard) > 0) both.insert(shard);
        shards = std::move(both);
      }
      result = std::move(shards);
    }
    return result;
  }

 private:
  bool Analyze() {
    Index rtindex = 1;
    ListCell* cell = nullptr;
    foreach (cell, query_->rtable) {
      auto* rte = static_cast<RangeTblEntry*>(lfirst(cell));
      if (rte->rtekind == RTE_RELATION) {
        TablePtr table = metadata_cache::Find(rte->relid);
        if (!table || rte->tablesample != nullptr) return false;
        if (!table->IsReference()) {
          hash_[rtindex] = SplitMember{table, {table->distribution_attno}};
          parent_[rtindex] = rtindex;
        }
      } else if (rte->rtekind == RTE_SUBQUERY) {
        if (rte->lateral) return false;
        if (ReadsDistributed(reinterpret_cast<Node*>(rte->subquery))) {
          std::optional<SplitMember> member = PerShardGroupSubquery(rte->subquery);
          if (!member) return false;
          hash_[rtindex] = *member;
          parent_[rtindex] = rtindex;
        } else if (!RunsOnNodes(reinterpret_cast<Node*>(rte->subquery), SubqueriesOnNodes::kOverReferenceTables)) {
          return false;  // like a reference table when every node can compute it
        }
      } else if (rte->rtekind != RTE_JOIN) {
        return false;
      }
      rtindex++;
    }
    if (hash_.empty()) return false;
    for (const auto& [index, member] : hash_)
      if (member.anchor->record.colocation_id != Anchor()->record.colocation_id) return false;
    if (!Walk(reinterpret_cast<Node*>(query_->jointree))) return false;
    std::set<Index> roots;
    for (const auto& [index, member] : hash_) roots.insert(Find(index));
    return roots.size() == 1;
  }

  bool HasDistributed(Node* node) const {
    std::set<Index> indexes;
    Rtindexes(node, indexes);
    for (Index index : indexes)
      if (hash_.count(index) > 0) return true;
    return false;
  }

  static void Rtindexes(Node* node, std::set<Index>& out) {
    if (node == nullptr) return;
    if (IsA(node, RangeTblRef)) {
      out.insert(reinterpret_cast<RangeTblRef*>(node)->rtindex);
    } else if (IsA(node, JoinExpr)) {
      Rtindexes(reinterpret_cast<JoinExpr*>(node)->larg, out);
      Rtindexes(reinterpret_cast<JoinExpr*>(node)->rarg, out);
    } else if (IsA(node, FromExpr)) {
      ListCell* cell = nullptr;
      foreach (cell, reinterpret_cast<FromExpr*>(node)->fromlist) Rtindexes(static_cast<Node*>(lfirst(cell)), out);
    }
  }

  void MarkNullable(Node* side) { Rtindexes(side, nullable_); }

  bool Walk(Node* node) {
    if (node == nullptr || IsA(node, RangeTblRef)) return true;
    if (IsA(node, FromExpr)) {
      auto* from = reinterpret_cast<FromExpr*>(node);
      ListCell* cell = nullptr;
      foreach (cell, from->fromlist)
        if (!Walk(static_cast<Node*>(lfirst(cell)))) return false;
      AddEqualities(from->quals);
      return true;
    }
    if (!IsA(node, JoinExpr)) return false;
    auto* join = reinterpret_cast<JoinExpr*>(node);
    if (!Walk(join->larg) || !Walk(join->rarg)) return false;
    switch (join->jointype) {
      case JOIN_INNER:
        break;
      case JOIN_LEFT:
        if (!HasDistributed(join->larg)) return false;
        MarkNullable(join->rarg);
        break;
      case JOIN_RIGHT:
        if (!HasDistributed(join->rarg)) return false;
        MarkNullable(join->larg);
        break;
      case JOIN_FULL:
        if (!HasDistributed(join->larg) || !HasDistributed(join->rarg)) return false;
        MarkNullable(join->larg);
        MarkNullable(join->rarg);
        break;
      default:
        return false;
    }
    // An outer join's ON equality ties its sides as well: a row only ever
    // meets rows of its own shard group, or none.
    AddEqualities(join->quals);
    return true;
  }

  void AddEqualities(Node* quals) {
    if (quals == nullptr) return;
    List* conjuncts =
        PgCall([&] { return make_ands_implicit(reinterpret_cast<Expr*>(flatten_join_alias_vars(query_, quals))); });
    ListCell* cell = nullptr;
    foreach (cell, conjuncts) {
      Node* conjunct = static_cast<Node*>(lfirst(cell));
      if (!IsA(conjunct, OpExpr)) continue;
      auto* op = reinterpret_cast<OpExpr*>(conjunct);
      if (list_length(op->args) != 2) continue;
      auto a = DistributionVar(static_cast<Node*>(linitial(op->args)));
      auto b = DistributionVar(static_cast<Node*>(lsecond(op->args)));
      if (!a || !b) continue;
      if (!IsDistributionEquality(op->opno, DistributionType(), DistributionType())) continue;
      parent_[Find(*a)] = Find(*b);
    }
  }

  std::optional<Index> DistributionVar(Node* expr) const {
    auto var = DistributionColumn(expr, 0);
    if (!var) return std::nullopt;
    return (*var)->varno;
  }

  Index Find(Index x) {
    while (parent_[x] != x) x = parent_[x] = parent_[parent_[x]];
    return x;
  }

  Query* query_;
  bool pushable_ = false;
  std::map<Index, SplitMember> hash_;
  std::set<Index> nullable_;
  std::map<Index, Index> parent_;
};

bool HasSubLink(Node* node) {
  return PgCall([&] { return checkExprHasSubLink(node); });
}

TargetEntry* SortGroupEntry(SortGroupClause* clause, List* target_list) {
  return PgCall([&] { return get_sortgroupclause_tle(clause, target_list); });
}

bool RunsOnNodes(Node* node, SubqueriesOnNodes subqueries) {
  return Shippable(node, subqueries) && !PgCall([&] { return contain_volatile_functions(node); });
}

bool FindDistributed(Node* node, void* context) {
  if (node == nullptr) return false;
  if (IsA(node, RangeTblEntry)) {
    auto* rte = reinterpret_cast<RangeTblEntry*>(node);
    if (rte->rtekind != RTE_RELATION) return false;
    auto table = metadata_cache::Find(rte->relid);
    return table && !table->IsReference();
  }
  if (IsA(node, Query))
    return query_tree_walker(reinterpret_cast<Query*>(node), Walker(FindDistributed), context, QTW_EXAMINE_RTES_BEFORE);
  return expression_tree_walker(node, Walker(FindDistributed), context);
}

bool ReadsDistributed(Node* node) {
  return PgCall([&] { return FindDistributed(node, nullptr); });
}

bool IsKeyEquality(Node* node, const FromClause& inner, const FromClause& outer) {
  if (!IsA(node, OpExpr) || list_length(reinterpret_cast<OpExpr*>(node)->args) != 2) return false;
  auto* op = reinterpret_cast<OpExpr*>(node);
  Node* left = static_cast<Node*>(linitial(op->args));
  Node* right = static_cast<Node*>(lsecond(op->args));
  const bool keyed = (inner.DistributionColumn(left, 0) && outer.DistributionColumn(right, 1)) ||
                     (inner.DistributionColumn(right, 0) && outer.DistributionColumn(left, 1));
  return keyed && IsDistributionEquality(op->opno, inner.DistributionType(), outer.DistributionType());
}

// Whether a sub-query over distributed tables gives each outer row the same
// answer on that row's shard group as over the whole tables: its tables are
// colocated with the outer ones and run per shard group, and either its
// WHERE clause ties a distribution column to the outer row's (all it reads
// then lives in that shard group), or it is `outer key IN (SELECT inner key
// ...)` over plain rows (a key is in the whole list exactly when it is in
// its own shard group's part).
bool StaysInShardGroup(SubLink* sublink, const FromClause& outer) {
  auto* sub = reinterpret_cast<Query*>(sublink->subselect);
  if (sub->setOperations != nullptr || sub->cteList != NIL || sub->rowMarks != NIL) return false;
  FromClause inner(sub);
  if (!inner.Pushable() || inner.Anchor()->record.colocation_id != outer.Anchor()->record.colocation_id) return false;
  // Sub-queries over distributed tables inside this one: not analysed.
  if (ReadsDistributed(reinterpret_cast<Node*>(sub->jointree->quals)) ||
      ReadsDistributed(reinterpret_cast<Node*>(sub->targetList)) || ReadsDistributed(sub->havingQual))
    return false;
  List* conjuncts = PgCall(
      [&] { return make_ands_implicit(reinterpret_cast<Expr*>(flatten_join_alias_vars(sub, sub->jointree->quals))); });
  ListCell* cell = nullptr;
  foreach (cell, conjuncts)
    if (IsKeyEquality(static_cast<Node*>(lfirst(cell)), inner, outer)) return true;

  if (sublink->subLinkType != ANY_SUBLINK || sub->hasAggs || sub->groupClause != NIL || sub->havingQual != nullptr ||
      sub->limitCount != nullptr || sub->limitOffset != nullptr || sub->hasWindowFuncs || sub->hasTargetSRFs ||
      sub->hasDistinctOn || sublink->testexpr == nullptr || !IsA(sublink->testexpr, OpExpr))
    return false;
  auto* test = reinterpret_cast<OpExpr*>(sublink->testexpr);
  if (list_length(test->args) != 2) return false;
  Node* param = StripRelabel(static_cast<Node*>(lsecond(test->args)));
  TargetEntry* first = PgCall([&] { return get_tle_by_resno(sub->targetList, 1); });
  // A NULL key (null-extended by an outer join) would be NOT IN an empty
  // part of the list but not in the whole list: only keys never NULL.
  return outer.IsGroupingKey(static_cast<Node*>(linitial(test->args))) && param != nullptr && IsA(param, Param) &&
         reinterpret_cast<Param*>(param)->paramkind == PARAM_SUBLINK && reinterpret_cast<Param*>(param)->paramid == 1 &&
         first != nullptr && inner.IsGroupingKey(reinterpret_cast<Node*>(first->expr)) &&
         IsDistributionEquality(test->opno, outer.DistributionType(), inner.DistributionType());
}

struct SublinkCheck {
  const FromClause* outer;
  std::vector<SubLink*> reading_distributed;
};

// Collects the sub-queries (not those nested in them) that read
// distributed tables.
bool CollectSublinks(Node* node, void* raw) {
  if (node == nullptr) return false;
  auto* check = static_cast<SublinkCheck*>(raw);
  if (IsA(node, SubLink)) {
    auto* sublink = reinterpret_cast<SubLink*>(node);
    if (FindDistributed(sublink->subselect, nullptr)) check->reading_distributed.push_back(sublink);
    return expression_tree_walker(sublink->testexpr, Walker(CollectSublinks), raw);
  }
  return expression_tree_walker(node, Walker(CollectSublinks), raw);
}

// Whether the FROM and WHERE clauses run per shard group, sub-queries over
// distributed tables included.
bool JoinTreeRunsPerShardGroup(Query* query, const FromClause& from) {
  SublinkCheck check{&from, {}};
  PgCall([&] { CollectSublinks(reinterpret_cast<Node*>(query->jointree), &check); });
  for (SubLink* sublink : check.reading_distributed)
    if (!StaysInShardGroup(sublink, from)) return false;
  return RunsOnNodes(reinterpret_cast<Node*>(query->jointree), SubqueriesOnNodes::kOverShardGroup);
}

// The fragment's select list, built up as the combining query asks for
// columns; equal expressions share a column.
class FragmentColumns {
 public:
  // The fragment column (1-based) computing expr.
  AttrNumber Of(Expr* expr) {
    for (size_t i = 0; i < entries_.size(); i++)
      if (PgCall([&] { return equal(entries_[i]->expr, expr); })) return static_cast<AttrNumber>(i + 1);
    const auto resno = static_cast<AttrNumber>(entries_.size() + 1);
    entries_.push_back(PgCall([&] { return makeTargetEntry(expr, resno, nullptr, false); }));
    return resno;
  }

  // The combining query's reference to column attno, levelsup queries up.
  Var* VarOf(AttrNumber attno, Index levelsup = 0) const {
    Node* expr = reinterpret_cast<Node*>(entries_[static_cast<size_t>(attno - 1)]->expr);
    return PgCall([&] { return makeVar(1, attno, exprType(expr), exprTypmod(expr), exprCollation(expr), levelsup); });
  }

  // A column for group key ref of the fragment's GROUP BY.
  // A column for group key ref of the fragment's GROUP BY (its own column
  // when the expression is also another key).
  void AddGroupKey(Expr* expr, Index ref) {
    TargetEntry* entry = entries_[static_cast<size_t>(Of(expr) - 1)];
    if (entry->ressortgroupref != 0 && entry->ressortgroupref != ref) {
      const auto resno = static_cast<AttrNumber>(entries_.size() + 1);
      entry = PgCall([&] { return makeTargetEntry(expr, resno, nullptr, false); });
      entries_.push_back(entry);
    }
    entry->ressortgroupref = ref;
  }

  List* TargetList() const {
    List* list = NIL;
    for (TargetEntry* entry : entries_) list = PgCall([&] { return lappend(list, entry); });
    return list;
  }
  size_t Size() const { return entries_.size(); }

 private:
  std::vector<TargetEntry*> entries_;
};

// --- The rows strategy: the fragment returns the columns used above the
// FROM clause; the combining query is the rest of the user's query.

struct VarWalk {
  int depth = 0;
  std::vector<Var*> vars;  // the query's own columns, levelsup 0, in order of appearance
  bool unsupported = false;
  std::map<std::pair<Index, AttrNumber>, AttrNumber> attnos;
};

bool CollectVars(Node* node, void* raw) {
  if (node == nullptr) return false;
  auto* walk = static_cast<VarWalk*>(raw);
  if (IsA(node, Var)) {
    auto* var = reinterpret_cast<Var*>(node);
    if (static_cast<int>(var->varlevelsup) != walk->depth) return false;
    // Whole rows and system columns of shards mean nothing here.
    if (var->varattno <= 0) walk->unsupported = true;
    const std::pair<Index, AttrNumber> key{var->varno, var->varattno};
    if (walk->attnos.count(key) == 0) {
      Var* copy = static_cast<Var*>(copyObjectImpl(var));
      copy->varlevelsup = 0;
      walk->vars.push_back(copy);
      walk->attnos[key] = 0;
    }
    return false;
  }
  if (IsA(node, Query)) {
    walk->depth++;
    const bool result = query_tree_walker(reinterpret_cast<Query*>(node), Walker(CollectVars), raw, 0);
    walk->depth--;
    return result;
  }
  return expression_tree_walker(node, Walker(CollectVars), raw);
}

Node* MapVars(Node* node, void* raw) {
  if (node == nullptr) return nullptr;
  auto* walk = static_cast<VarWalk*>(raw);
  if (IsA(node, Var)) {
    auto* var = reinterpret_cast<Var*>(node);
    if (static_cast<int>(var->varlevelsup) != walk->depth) return static_cast<Node*>(copyObjectImpl(node));
    auto found = walk->attnos.find({var->varno, var->varattno});
    if (found == walk->attnos.end()) {
      walk->unsupported = true;
      return static_cast<Node*>(copyObjectImpl(node));
    }
    const AttrNumber attno = found->second;
    return reinterpret_cast<Node*>(
        makeVar(1, attno, var->vartype, var->vartypmod, var->varcollid, static_cast<Index>(walk->depth)));
  }
  if (IsA(node, Query)) {
    walk->depth++;
    Node* result =
        reinterpret_cast<Node*>(query_tree_mutator(reinterpret_cast<Query*>(node), Mutator(MapVars), raw, 0));
    walk->depth--;
    return result;
  }
  return expression_tree_mutator(node, Mutator(MapVars), raw);
}

// LIMIT n OFFSET m: each shard group needs its first n + m rows.
Node* ShardLimit(Query* query) {
  if (query->limitOffset == nullptr) return static_cast<Node*>(copyObjectImpl(query->limitCount));
  return PgCall([&] {
    ParseState* pstate = make_parsestate(nullptr);
    Node* sum = reinterpret_cast<Node*>(make_op(pstate, list_make1(makeString(pstrdup("+"))),
                                                static_cast<Node*>(copyObjectImpl(query->limitCount)),
                                                static_cast<Node*>(copyObjectImpl(query->limitOffset)), nullptr, -1));
    return eval_const_expressions(nullptr, sum);
  });
}

// What the fragment and the combining query start from: the user's query
// without the clauses each strategy adds back.
Query* BareFragment(Query* query) {
  auto* fragment = static_cast<Query*>(PgCall([&] { return copyObjectImpl(query); }));
  fragment->targetList = NIL;
  fragment->groupClause = NIL;
  fragment->groupingSets = NIL;
  fragment->groupDistinct = false;
  fragment->havingQual = nullptr;
  fragment->windowClause = NIL;
  fragment->distinctClause = NIL;
  fragment->hasDistinctOn = false;
  fragment->sortClause = NIL;
  fragment->limitCount = nullptr;
  fragment->limitOffset = nullptr;
  fragment->limitOption = LIMIT_OPTION_DEFAULT;
  fragment->hasAggs = false;
  fragment->hasWindowFuncs = false;
  fragment->hasTargetSRFs = false;
  return fragment;
}

struct Split {
  Query* fragment = nullptr;
  Query* combining = nullptr;
  FragmentColumns columns;
  std::string strategy;
  double rows = 1000;
};

// Whether the query has a LIMIT the shards can apply (a sub-query in it
// would run on each node).
bool HasShardableLimit(Query* query) {
  return query->limitCount != nullptr && !HasSubLink(query->limitCount) && !HasSubLink(query->limitOffset);
}

bool CanPushLimit(Query* query) {
  return HasShardableLimit(query) && !query->hasAggs && query->groupClause == NIL && query->groupingSets == NIL &&
         query->havingQual == nullptr && query->distinctClause == NIL && !query->hasWindowFuncs &&
         !query->hasTargetSRFs;
}

// Adds ORDER BY and LIMIT n + m to a fragment whose select list holds the
// sort keys as hidden columns (appended after the visible ones).
void PushLimit(Query* query, Query* fragment) {
  fragment->sortClause = static_cast<List*>(copyObjectImpl(query->sortClause));
  fragment->limitCount = ShardLimit(query);
  fragment->limitOption = query->limitOption;
}

// SELECT DISTINCT over plain rows: each shard group first drops its own
// duplicates of the columns the query uses (a DISTINCT over expressions of
// them cannot tell the difference). False when a column's type has no
// equality to sort or hash by.
bool PushDistinct(Query* query, Query* fragment) {
  if (query->distinctClause == NIL || query->hasDistinctOn || query->hasAggs || query->groupClause != NIL ||
      query->groupingSets != NIL || query->havingQual != nullptr || query->hasWindowFuncs || query->hasTargetSRFs)
    return false;
  List* clauses = NIL;
  ListCell* cell = nullptr;
  Index ref = 1;
  foreach (cell, fragment->targetList) {
    auto* entry = static_cast<TargetEntry*>(lfirst(cell));
    if (entry->resjunk) continue;
    SortGroupClause* clause = PgCall([&]() -> SortGroupClause* {
      Oid sort = InvalidOid;
      Oid equality = InvalidOid;
      bool hashable = false;
      get_sort_group_operators(exprType(reinterpret_cast<Node*>(entry->expr)), false, false, false, &sort, &equality,
                               nullptr, &hashable);
      if (!OidIsValid(equality) || (!OidIsValid(sort) && !hashable)) return nullptr;
      SortGroupClause* result = makeNode(SortGroupClause);
      result->tleSortGroupRef = ref;
      result->eqop = equality;
      result->sortop = sort;
      result->nulls_first = false;
      result->hashable = hashable;
      return result;
    });
    if (clause == nullptr) return false;
    entry->ressortgroupref = ref++;
    clauses = PgCall([&] { return lappend(clauses, clause); });
  }
  fragment->distinctClause = clauses;
  return true;
}

bool SplitRows(Query* query, Split& split, size_t shard_count) {
  VarWalk walk;
  PgCall([&] {
    CollectVars(reinterpret_cast<Node*>(query->targetList), &walk);
    CollectVars(query->havingQual, &walk);
  });
  if (walk.unsupported) return false;
  for (Var* var : walk.vars) walk.attnos[{var->varno, var->varattno}] = split.columns.Of(reinterpret_cast<Expr*>(var));
  // A row count needs rows, even without columns.
  if (split.columns.Size() == 0)
    split.columns.Of(reinterpret_cast<Expr*>(
        PgCall([] { return makeConst(INT4OID, -1, InvalidOid, 4, Int32GetDatum(0), false, true); })));

  split.fragment = BareFragment(query);
  split.fragment->targetList = split.columns.TargetList();
  bool limit_pushed = false;
  if (CanPushLimit(query)) {
    List* hidden = NIL;
    bool sortable = true;
    ListCell* cell = nullptr;
    foreach (cell, query->sortClause) {
      auto* clause = static_cast<SortGroupClause*>(lfirst(cell));
      TargetEntry* entry = SortGroupEntry(clause, query->targetList);
      if (!RunsOnNodes(reinterpret_cast<Node*>(entry->expr))) sortable = false;
      TargetEntry* key = PgCall([&] {
        return makeTargetEntry(static_cast<Expr*>(copyObjectImpl(entry->expr)),
                               static_cast<AttrNumber>(split.columns.Size() + list_length(hidden) + 1), nullptr, true);
      });
      key->ressortgroupref = clause->tleSortGroupRef;
      hidden = PgCall([&] { return lappend(hidden, key); });
    }
    if (sortable) {
      split.fragment->targetList = PgCall([&] { return list_concat(split.fragment->targetList, hidden); });
      PushLimit(query, split.fragment);
      limit_pushed = true;
    }
  }

  const bool distinct_pushed = PushDistinct(query, split.fragment);
  split.combining = static_cast<Query*>(PgCall([&] { return copyObjectImpl(query); }));
  PgCall([&] {
    walk.depth = 0;
    split.combining->targetList =
        reinterpret_cast<List*>(MapVars(reinterpret_cast<Node*>(split.combining->targetList), &walk));
    split.combining->havingQual = MapVars(split.combining->havingQual, &walk);
  });
  if (walk.unsupported) return false;
  split.strategy = limit_pushed      ? "shards return their first rows in order, combined here"
                   : distinct_pushed ? "shards return their distinct rows, the rest runs here"
                                     : "shards return the joined and filtered rows, the rest runs here";
  split.rows = 1000.0 * static_cast<double>(shard_count);
  return true;
}

// --- The whole-query strategy: grouped by a distribution column.

// Whether one of clauses (GROUP BY or PARTITION BY items) is a distribution
// column that no outer join null-extends: then each group or partition
// lives in one shard group.
bool HasKey(List* clauses, List* target_list, const FromClause& from) {
  ListCell* cell = nullptr;
  foreach (cell, clauses) {
    TargetEntry* entry = SortGroupEntry(static_cast<SortGroupClause*>(lfirst(cell)), target_list);
    if (from.IsGroupingKey(reinterpret_cast<Node*>(entry->expr))) return true;
  }
  return false;
}

// Grouped by a key, or with window functions all partitioned by a key (or
// both): every group and every partition is complete in its shard group.
bool CompletePerShardGroup(Query* query, const FromClause& from) {
  const bool grouped = query->hasAggs || query->groupClause != NIL || query->havingQual != nullptr;
  if ((!grouped && !query->hasWindowFuncs) || query->groupingSets != NIL) return false;
  if (grouped && !HasKey(query->groupClause, query->targetList, from)) return false;
  ListCell* cell = nullptr;
  foreach (cell, query->windowClause) {
    auto* window = static_cast<WindowClause*>(lfirst(cell));
    if (!HasKey(window->partitionClause, query->targetList, from)) return false;
  }
  return true;
}

std::optional<SplitMember> PerShardGroupSubquery(Query* subquery) {
  if (subquery->commandType != CMD_SELECT || subquery->setOperations != nullptr || subquery->cteList != NIL ||
      subquery->rowMarks != NIL || subquery->limitCount != nullptr || subquery->limitOffset != nullptr ||
      subquery->distinctClause != NIL || subquery->groupingSets != NIL)
    return std::nullopt;
  auto* query = static_cast<Query*>(PgCall([&] { return copyObjectImpl(subquery); }));
  FromClause from(query);
  if (!from.Pushable() || !JoinTreeRunsPerShardGroup(query, from)) return std::nullopt;
  PgCall([&] {
    query->targetList =
        reinterpret_cast<List*>(flatten_join_alias_vars(query, reinterpret_cast<Node*>(query->targetList)));
    query->havingQual = flatten_join_alias_vars(query, query->havingQual);
  });
  if (!RunsOnNodes(reinterpret_cast<Node*>(query->targetList)) || !RunsOnNodes(query->havingQual)) return std::nullopt;
  const bool grouped = query->hasAggs || query->groupClause != NIL || query->havingQual != nullptr;
  if ((grouped || query->hasWindowFuncs) && !CompletePerShardGroup(query, from)) return std::nullopt;
  SplitMember member{from.Anchor(), {}};
  ListCell* cell = nullptr;
  foreach (cell, query->targetList) {
    auto* entry = static_cast<TargetEntry*>(lfirst(cell));
    if (!entry->resjunk && from.IsGroupingKey(reinterpret_cast<Node*>(entry->expr))) member.keys.insert(entry->resno);
  }
  return member;
}

bool SplitWholeQuery(Query* query, const FromClause& from, Split& split) {
  if (!CompletePerShardGroup(query, from) || !RunsOnNodes(reinterpret_cast<Node*>(query->targetList)) ||
      !RunsOnNodes(query->havingQual))
    return false;
  ListCell* cell = nullptr;

  split.fragment = static_cast<Query*>(PgCall([&] { return copyObjectImpl(query); }));
  split.fragment->sortClause = NIL;
  split.fragment->distinctClause = NIL;
  split.fragment->hasDistinctOn = false;
  split.fragment->limitCount = nullptr;
  split.fragment->limitOffset = nullptr;
  split.fragment->limitOption = LIMIT_OPTION_DEFAULT;
  List* combining_targets = NIL;
  // Every entry, hidden ones too, is a fragment column, in the same order.
  split.fragment->targetList = NIL;
  AttrNumber resno = 1;
  foreach (cell, query->targetList) {
    auto* entry = static_cast<TargetEntry*>(lfirst(cell));
    PgCall([&] {
      TargetEntry* shard_entry = flatCopyTargetEntry(entry);
      shard_entry->resno = resno;
      shard_entry->resjunk = false;
      split.fragment->targetList = lappend(split.fragment->targetList, shard_entry);
      Var* var = makeVar(1, resno, exprType(reinterpret_cast<Node*>(entry->expr)),
                         exprTypmod(reinterpret_cast<Node*>(entry->expr)),
                         exprCollation(reinterpret_cast<Node*>(entry->expr)), 0);
      TargetEntry* combined = flatCopyTargetEntry(entry);
      combined->expr = reinterpret_cast<Expr*>(var);
      combining_targets = lappend(combining_targets, combined);
    });
    resno++;
  }
  // Each group is complete in its shard group: the first rows of each
  // shard group include the first rows overall.
  if (HasShardableLimit(query) && query->distinctClause == NIL && !query->hasTargetSRFs)
    PushLimit(query, split.fragment);

  split.combining = static_cast<Query*>(PgCall([&] { return copyObjectImpl(query); }));
  split.combining->targetList = combining_targets;
  split.combining->groupClause = NIL;
  split.combining->havingQual = nullptr;
  split.combining->hasAggs = false;
  split.combining->hasTargetSRFs = false;
  split.combining->windowClause = NIL;
  split.combining->hasWindowFuncs = false;
  split.strategy = "whole query per shard (grouped or partitioned by the distribution column), combined here";
  split.rows = 1000;
  return true;
}

// --- The partial-aggregates strategy.

Oid CatalogAggregate(const char* name, Oid argument_type) {
  return PgCall([&] {
    return LookupFuncName(list_make2(makeString(pstrdup("pg_catalog")), makeString(pstrdup(name))), 1, &argument_type,
                          true);
  });
}

Aggref* MakeAggregate(Oid function, Expr* argument, Expr* filter) {
  return PgCall([&] {
    Aggref* aggref = makeNode(Aggref);
    aggref->aggfnoid = function;
    aggref->aggtype = get_func_rettype(function);
    aggref->aggcollid = InvalidOid;
    aggref->inputcollid = exprCollation(reinterpret_cast<Node*>(argument));
    aggref->aggtranstype = InvalidOid;
    aggref->aggargtypes = list_make1_oid(exprType(reinterpret_cast<Node*>(argument)));
    aggref->args = list_make1(makeTargetEntry(argument, 1, nullptr, false));
    aggref->aggfilter = filter;
    aggref->aggkind = AGGKIND_NORMAL;
    aggref->aggsplit = AGGSPLIT_SIMPLE;
    aggref->aggno = -1;
    aggref->aggtransno = -1;
    aggref->location = -1;
    return aggref;
  });
}

Node* Coerce(Node* expr, Oid type) {
  const Oid from = PgCall([&] { return exprType(expr); });
  if (from == type) return expr;
  Node* result = PgCall([&] {
    return coerce_to_target_type(nullptr, expr, from, type, -1, COERCION_EXPLICIT, COERCE_EXPLICIT_CAST, -1);
  });
  if (result == nullptr) throw Error(sqlstate::kInternalError, "no cast for a combined aggregate");
  return result;
}

Node* Operator(const char* name, Node* left, Node* right) {
  return PgCall([&] {
    ParseState* pstate = make_parsestate(nullptr);
    return reinterpret_cast<Node*>(make_op(pstate, list_make1(makeString(pstrdup(name))), left, right, nullptr, -1));
  });
}

// sum() over a column of partial sums, in the column's own type where
// sum() widens it (sum(int8) is numeric).
Node* SumOf(Var* partial, Oid result_type) {
  const Oid function = CatalogAggregate("sum", partial->vartype);
  if (!OidIsValid(function)) return nullptr;
  return Coerce(reinterpret_cast<Node*>(MakeAggregate(function, reinterpret_cast<Expr*>(partial), nullptr)),
                result_type);
}

struct GroupedMap {
  std::vector<std::pair<Expr*, AttrNumber>> keys;  // group expression -> fragment column
  FragmentColumns* columns;
  bool failed = false;
};

// The combined form of aggref; its partial aggregates become fragment
// columns. nullptr when it does not split.
Node* Combine(Aggref* aggref, FragmentColumns& columns) {
  if (aggref->aggdistinct != NIL || aggref->aggkind != AGGKIND_NORMAL || aggref->agglevelsup != 0 ||
      aggref->aggdirectargs != NIL || aggref->aggvariadic)
    return nullptr;
  const char* raw_name = PgCall([&] { return get_func_name(aggref->aggfnoid); });
  const Oid schema = PgCall([&] { return get_func_namespace(aggref->aggfnoid); });
  if (raw_name == nullptr || schema != PG_CATALOG_NAMESPACE) return nullptr;
  const std::string name = raw_name;
  // Order does not change these aggregates' results.
  auto* partial = static_cast<Aggref*>(PgCall([&] { return copyObjectImpl(aggref); }));
  partial->aggorder = NIL;
  if (!RunsOnNodes(reinterpret_cast<Node*>(partial))) return nullptr;

  if (name == "count") {
    Var* counts = columns.VarOf(columns.Of(reinterpret_cast<Expr*>(partial)));
    Node* sum = SumOf(counts, INT8OID);
    return PgCall([&] {
      CoalesceExpr* coalesce = makeNode(CoalesceExpr);
      coalesce->coalescetype = INT8OID;
      coalesce->coalescecollid = InvalidOid;
      coalesce->args = list_make2(sum, makeConst(INT8OID, -1, InvalidOid, 8, Int64GetDatum(0), false, true));
      coalesce->location = -1;
      return reinterpret_cast<Node*>(coalesce);
    });
  }
  if (name == "sum") return SumOf(columns.VarOf(columns.Of(reinterpret_cast<Expr*>(partial))), aggref->aggtype);
  if (name == "min" || name == "max" || name == "bool_and" || name == "bool_or" || name == "every" ||
      name == "bit_and" || name == "bit_or" || name == "bit_xor") {
    Var* partials = columns.VarOf(columns.Of(reinterpret_cast<Expr*>(partial)));
    auto* combined = static_cast<Aggref*>(PgCall([&] { return copyObjectImpl(aggref); }));
    combined->aggorder = NIL;
    combined->aggfilter = nullptr;
    combined->args =
        PgCall([&] { return list_make1(makeTargetEntry(reinterpret_cast<Expr*>(partials), 1, nullptr, false)); });
    return reinterpret_cast<Node*>(combined);
  }
  if (name == "var_pop" || name == "var_samp" || name == "variance" || name == "stddev" || name == "stddev_pop" ||
      name == "stddev_samp") {
    // Numeric arithmetic is exact up to the division, so the shards' counts,
    // sums and sums of squares combine into Postgres's own result; float
    // inputs (Youngs-Cramer on one server) take the rows strategy.
    const Oid input = linitial_oid(aggref->aggargtypes);
    if (input != INT2OID && input != INT4OID && input != INT8OID && input != NUMERICOID) return nullptr;
    Node* value = Coerce(static_cast<Node*>(PgCall(
                             [&] { return copyObjectImpl(static_cast<TargetEntry*>(linitial(aggref->args))->expr); })),
                         NUMERICOID);
    Node* square = Operator("*", value, static_cast<Node*>(PgCall([&] { return copyObjectImpl(value); })));
    auto partial_of = [&](Oid function, Node* argument) {
      auto* filter = static_cast<Expr*>(PgCall([&] { return copyObjectImpl(aggref->aggfilter); }));
      return columns.VarOf(
          columns.Of(reinterpret_cast<Expr*>(MakeAggregate(function, reinterpret_cast<Expr*>(argument), filter))));
    };
    Var* counts = partial_of(F_COUNT_ANY, static_cast<Node*>(PgCall([&] { return copyObjectImpl(value); })));
    Var* sums = partial_of(CatalogAggregate("sum", NUMERICOID), value);
    Var* squares = partial_of(CatalogAggregate("sum", NUMERICOID), square);
    Node* n = SumOf(counts, NUMERICOID);
    Node* sum_x = SumOf(sums, NUMERICOID);
    Node* sum_x2 = SumOf(squares, NUMERICOID);
    const bool sample = name == "var_samp" || name == "variance" || name == "stddev" || name == "stddev_samp";
    const bool root = name.rfind("stddev", 0) == 0;
    const Oid combine = ExtensionFunction("combined_variance", {NUMERICOID, NUMERICOID, NUMERICOID, BOOLOID, BOOLOID});
    return PgCall([&] {
      List* arguments = list_make5(n, sum_x, sum_x2, makeBoolConst(sample, false), makeBoolConst(root, false));
      return reinterpret_cast<Node*>(
          makeFuncExpr(combine, NUMERICOID, arguments, InvalidOid, InvalidOid, COERCE_EXPLICIT_CALL));
    });
  }
  if (name == "avg") {
    const Oid input = linitial_oid(aggref->aggargtypes);
    auto* argument = static_cast<Expr*>(
        PgCall([&] { return copyObjectImpl(static_cast<TargetEntry*>(linitial(aggref->args))->expr); }));
    Oid sum_function = InvalidOid;
    if (input == INT2OID || input == INT4OID || input == INT8OID || input == NUMERICOID || input == INTERVALOID) {
      sum_function = CatalogAggregate("sum", input);
    } else if (input == FLOAT4OID || input == FLOAT8OID) {
      // avg(real) accumulates in double precision.
      argument = reinterpret_cast<Expr*>(Coerce(reinterpret_cast<Node*>(argument), FLOAT8OID));
      sum_function = CatalogAggregate("sum", FLOAT8OID);
    }
    if (!OidIsValid(sum_function)) return nullptr;
    auto* filter = static_cast<Expr*>(PgCall([&] { return copyObjectImpl(aggref->aggfilter); }));
    Var* sums = columns.VarOf(columns.Of(reinterpret_cast<Expr*>(MakeAggregate(sum_function, argument, filter))));
    auto* counted = static_cast<Expr*>(PgCall([&] { return copyObjectImpl(argument); }));
    auto* count_filter = static_cast<Expr*>(PgCall([&] { return copyObjectImpl(aggref->aggfilter); }));
    Var* counts = columns.VarOf(columns.Of(reinterpret_cast<Expr*>(MakeAggregate(F_COUNT_ANY, counted, count_filter))));
    Node* total = SumOf(sums, sums->vartype == INT8OID ? NUMERICOID : sums->vartype);
    Node* count = SumOf(counts, NUMERICOID);
    if (total == nullptr || count == nullptr) return nullptr;
    Node* result = nullptr;
    if (aggref->aggtype == NUMERICOID) {
      result = Operator("/", Coerce(total, NUMERICOID), count);
    } else if (aggref->aggtype == FLOAT8OID) {
      result = Operator("/", Coerce(total, FLOAT8OID), Coerce(count, FLOAT8OID));
    } else if (aggref->aggtype == INTERVALOID) {
      result = Operator("/", total, Coerce(count, FLOAT8OID));
    }
    if (result == nullptr || PgCall([&] { return exprType(result); }) != aggref->aggtype) return nullptr;
    return result;
  }
  return nullptr;
}

// A tree mutator: runs inside PgCall and must not throw (C frames between).
Node* MapGrouped(Node* node, void* raw) {
  if (node == nullptr) return nullptr;
  auto* map = static_cast<GroupedMap*>(raw);
  if (map->failed) return node;
  for (const auto& [key, attno] : map->keys)
    if (equal(node, key))
      return reinterpret_cast<Node*>(makeVar(1, attno, exprType(node), exprTypmod(node), exprCollation(node), 0));
  if (IsA(node, Aggref)) {
    Node* combined = nullptr;
    try {
      combined = Combine(reinterpret_cast<Aggref*>(node), *map->columns);
    } catch (...) {
      combined = nullptr;
    }
    if (combined == nullptr) {
      map->failed = true;
      return node;
    }
    return combined;
  }
  // A column neither grouped nor aggregated (functionally dependent on a
  // grouped key) has no value per partial group.
  if (IsA(node, Var) || IsA(node, GroupingFunc) || IsA(node, SubLink) || IsA(node, Query)) {
    map->failed = true;
    return node;
  }
  return expression_tree_mutator(node, Mutator(MapGrouped), raw);
}

bool SplitPartialAggregates(Query* query, Split& split, size_t shard_count) {
  if ((!query->hasAggs && query->groupClause == NIL) || query->groupingSets != NIL) return false;
  if (PgCall([&] {
        return checkExprHasSubLink(reinterpret_cast<Node*>(query->targetList)) ||
               checkExprHasSubLink(query->havingQual);
      }))
    return false;
  GroupedMap map;
  map.columns = &split.columns;
  ListCell* cell = nullptr;
  foreach (cell, query->groupClause) {
    auto* clause = static_cast<SortGroupClause*>(lfirst(cell));
    TargetEntry* entry = SortGroupEntry(clause, query->targetList);
    if (!RunsOnNodes(reinterpret_cast<Node*>(entry->expr))) return false;
    split.columns.AddGroupKey(entry->expr, clause->tleSortGroupRef);
    map.keys.emplace_back(entry->expr, split.columns.Of(entry->expr));
  }
  List* targets = NIL;
  foreach (cell, query->targetList) {
    auto* entry = static_cast<TargetEntry*>(lfirst(cell));
    TargetEntry* combined = PgCall([&] { return flatCopyTargetEntry(entry); });
    combined->expr =
        reinterpret_cast<Expr*>(PgCall([&] { return MapGrouped(reinterpret_cast<Node*>(entry->expr), &map); }));
    targets = PgCall([&] { return lappend(targets, combined); });
  }
  Node* having = PgCall([&] { return MapGrouped(query->havingQual, &map); });
  if (map.failed) return false;

  split.fragment = BareFragment(query);
  split.fragment->targetList = split.columns.TargetList();
  split.fragment->groupClause = static_cast<List*>(PgCall([&] { return copyObjectImpl(query->groupClause); }));
  split.fragment->hasAggs = true;
  split.combining = static_cast<Query*>(PgCall([&] { return copyObjectImpl(query); }));
  split.combining->targetList = targets;
  split.combining->havingQual = having;
  split.strategy = "partial aggregates per shard, combined here";
  split.rows = (query->groupClause == NIL ? 1.0 : 100.0) * static_cast<double>(shard_count);
  return true;
}

// The combining query reads the fragment's rows from its first range table
// entry; the user's tables stay in the range table (outside the FROM
// clause) so that the executor checks the user's privileges on them and
// the plan is invalidated when they change.
RangeTblEntry* FragmentEntry(const Split& split) {
  const Oid placeholder = FragmentFunction();
  return PgCall([&] {
    RangeTblFunction* function = makeNode(RangeTblFunction);
    FuncExpr* call = makeFuncExpr(placeholder, RECORDOID, NIL, InvalidOid, InvalidOid, COERCE_EXPLICIT_CALL);
    call->funcretset = true;
    function->funcexpr = reinterpret_cast<Node*>(call);
    List* names = NIL;
    int i = 1;
    ListCell* cell = nullptr;
    foreach (cell, split.fragment->targetList) {
      auto* entry = static_cast<TargetEntry*>(lfirst(cell));
      if (entry->resjunk) continue;
      Node* expr = reinterpret_cast<Node*>(entry->expr);
      names = lappend(names, makeString(psprintf("c%d", i++)));
      function->funccoltypes = lappend_oid(function->funccoltypes, exprType(expr));
      function->funccoltypmods = lappend_int(function->funccoltypmods, exprTypmod(expr));
      function->funccolcollations = lappend_oid(function->funccolcollations, exprCollation(expr));
    }
    function->funccolcount = list_length(names);
    function->funccolnames = names;
    RangeTblEntry* rte = makeNode(RangeTblEntry);
    rte->rtekind = RTE_FUNCTION;
    rte->functions = list_make1(function);
    rte->eref = makeAlias("fragment", static_cast<List*>(copyObjectImpl(names)));
    rte->inFromCl = true;
    return rte;
  });
}

bool CollectParams(Node* node, void* context) {
  if (node == nullptr) return false;
  if (IsA(node, Param) && reinterpret_cast<Param*>(node)->paramkind == PARAM_EXTERN)
    static_cast<std::set<int>*>(context)->insert(reinterpret_cast<Param*>(node)->paramid);
  if (IsA(node, Query)) return query_tree_walker(reinterpret_cast<Query*>(node), Walker(CollectParams), context, 0);
  return expression_tree_walker(node, Walker(CollectParams), context);
}

// Non-recursive CTEs that are plain SELECTs become sub-queries in FROM, as
// Postgres's planner inlines them; false when one cannot (the query then
// takes the general fallback).
bool InlineCtes(Query* query) {
  if (query->cteList == NIL) return true;
  if (query->hasRecursive) return false;
  std::map<std::string, int> references;
  ListCell* cell = nullptr;
  foreach (cell, query->rtable) {
    auto* rte = static_cast<RangeTblEntry*>(lfirst(cell));
    if (rte->rtekind == RTE_CTE && rte->ctelevelsup == 0) references[rte->ctename]++;
  }
  foreach (cell, query->cteList) {
    auto* cte = static_cast<CommonTableExpr*>(lfirst(cell));
    auto* body = reinterpret_cast<Query*>(cte->ctequery);
    // Referenced elsewhere too (a sub-query, another CTE): not worth it.
    if (cte->cterecursive || body->commandType != CMD_SELECT || body->cteList != NIL ||
        references[cte->ctename] != cte->cterefcount)
      return false;
  }
  foreach (cell, query->rtable) {
    auto* rte = static_cast<RangeTblEntry*>(lfirst(cell));
    if (rte->rtekind != RTE_CTE) continue;
    const std::string name = rte->ctename;
    ListCell* cte_cell = nullptr;
    foreach (cte_cell, query->cteList) {
      auto* cte = static_cast<CommonTableExpr*>(lfirst(cte_cell));
      if (name != cte->ctename) continue;
      PgCall([&] {
        rte->rtekind = RTE_SUBQUERY;
        rte->subquery = static_cast<Query*>(copyObjectImpl(cte->ctequery));
        rte->ctename = nullptr;
        rte->ctelevelsup = 0;
        rte->self_reference = false;
        rte->coltypes = NIL;
        rte->coltypmods = NIL;
        rte->colcollations = NIL;
      });
      break;
    }
  }
  query->cteList = NIL;
  return true;
}

bool CollectRelations(Node* node, void* context) {
  if (node == nullptr) return false;
  if (IsA(node, RangeTblEntry)) {
    auto* rte = reinterpret_cast<RangeTblEntry*>(node);
    if (rte->rtekind == RTE_RELATION) {
      auto** list = static_cast<List**>(context);
      *list = lappend(*list, copyObjectImpl(rte));
    }
    return false;
  }
  if (IsA(node, Query))
    return query_tree_walker(reinterpret_cast<Query*>(node), Walker(CollectRelations), context,
                             QTW_EXAMINE_RTES_BEFORE);
  return expression_tree_walker(node, Walker(CollectRelations), context);
}

// Registers a fragment for the planning of its combining query, and removes
// it again however that ends; a query planned meanwhile (a function folded
// at plan time) registers its own beside it.
class PendingScope {
 public:
  PendingScope(const RangeTblEntry* entry, PendingEntry value) : entry_(entry) {
    pending.emplace(entry, std::move(value));
  }
  ~PendingScope() { pending.erase(entry_); }
  PendingScope(const PendingScope&) = delete;
  PendingScope& operator=(const PendingScope&) = delete;

 private:
  const RangeTblEntry* entry_;
};

}  // namespace

PlannedStmt* PlanPushdown(Query* parse, const char* query_string, int cursor_options, ParamListInfo bound_params) {
  if (parse->commandType != CMD_SELECT || parse->utilityStmt != nullptr || parse->setOperations != nullptr ||
      parse->rowMarks != NIL || parse->hasModifyingCTE)
    return nullptr;
  if (HasSecurityBarriers(parse)) return nullptr;
  auto* query = static_cast<Query*>(PgCall([&] { return copyObjectImpl(parse); }));
  if (!InlineCtes(query)) return nullptr;
  FromClause from(query);
  if (!from.Pushable() || !JoinTreeRunsPerShardGroup(query, from)) return nullptr;
  // Above the FROM clause, a column of a join is the column it comes from.
  PgCall([&] {
    query->targetList =
        reinterpret_cast<List*>(flatten_join_alias_vars(query, reinterpret_cast<Node*>(query->targetList)));
    query->havingQual = flatten_join_alias_vars(query, query->havingQual);
  });
  const size_t shard_count = from.Anchor()->record.shards.size();

  Split split;
  if (!SplitWholeQuery(query, from, split)) {
    split = Split();
    if (!SplitPartialAggregates(query, split, shard_count)) {
      split = Split();
      if (!SplitRows(query, split, shard_count)) return nullptr;
    }
  }

  Fragment fragment;
  fragment.anchor_table = from.Anchor()->record.table_id;
  fragment.query = BuildShardQuery(split.fragment);
  std::set<int> params;
  PgCall([&] { query_tree_walker(split.fragment, Walker(CollectParams), &params, 0); });
  fragment.params_used.assign(params.begin(), params.end());
  fragment.strategy = split.strategy;
  fragment.shards = from.PinnedShards();

  Query* combining = split.combining;
  RangeTblEntry* entry = FragmentEntry(split);
  PgCall([&] {
    // Every table the fragment reads, also in its sub-queries.
    List* rtable = list_make1(entry);
    query_tree_walker(query, Walker(CollectRelations), &rtable, QTW_EXAMINE_RTES_BEFORE);
    combining->rtable = rtable;
    combining->jointree = makeFromExpr(list_make1(makeNode(RangeTblRef)), nullptr);
    static_cast<RangeTblRef*>(linitial(combining->jointree->fromlist))->rtindex = 1;
    combining->rowMarks = NIL;
    combining->hasSubLinks = checkExprHasSubLink(reinterpret_cast<Node*>(combining->targetList)) ||
                             checkExprHasSubLink(combining->havingQual) || checkExprHasSubLink(combining->limitCount) ||
                             checkExprHasSubLink(combining->limitOffset);
  });
  PendingScope scope(entry, PendingEntry{fragment, split.rows});
  return PlanWithShardScans(combining, query_string, cursor_options, bound_params);
}

bool RunsPerShardGroup(Query* select, metadata::ColocationId colocation, AttrNumber key) {
  if (HasSecurityBarriers(select)) return false;
  if (select->commandType != CMD_SELECT || select->setOperations != nullptr || select->cteList != NIL ||
      select->rowMarks != NIL || select->limitCount != nullptr || select->limitOffset != nullptr ||
      select->distinctClause != NIL || select->hasWindowFuncs || select->hasTargetSRFs || select->groupingSets != NIL ||
      select->hasModifyingCTE)
    return false;
  auto* query = static_cast<Query*>(PgCall([&] { return copyObjectImpl(select); }));
  FromClause from(query);
  if (!from.Pushable() || from.Anchor()->record.colocation_id != colocation) return false;
  PgCall([&] {
    query->targetList =
        reinterpret_cast<List*>(flatten_join_alias_vars(query, reinterpret_cast<Node*>(query->targetList)));
    query->havingQual = flatten_join_alias_vars(query, query->havingQual);
  });
  if (!JoinTreeRunsPerShardGroup(query, from) || !RunsOnNodes(reinterpret_cast<Node*>(query->targetList)) ||
      !RunsOnNodes(query->havingQual))
    return false;
  if ((query->hasAggs || query->groupClause != NIL || query->havingQual != nullptr) &&
      !CompletePerShardGroup(query, from))
    return false;
  TargetEntry* output = PgCall([&] { return get_tle_by_resno(query->targetList, key); });
  return output != nullptr && !output->resjunk && from.IsGroupingKey(reinterpret_cast<Node*>(output->expr));
}

bool SubqueriesStayInShardGroup(Query* query) {
  // Sub-queries in FROM over distributed tables are the pushdown planner's:
  // the router only follows tables named at the top level.
  if (query->cteList != NIL) return false;
  ListCell* cell = nullptr;
  foreach (cell, query->rtable) {
    auto* rte = static_cast<RangeTblEntry*>(lfirst(cell));
    if (rte->rtekind == RTE_SUBQUERY && ReadsDistributed(reinterpret_cast<Node*>(rte->subquery))) return false;
  }
  FromClause from(query);
  if (!from.Pushable()) return false;
  SublinkCheck check{&from, {}};
  PgCall([&] {
    CollectSublinks(reinterpret_cast<Node*>(query->jointree), &check);
    CollectSublinks(reinterpret_cast<Node*>(query->targetList), &check);
    CollectSublinks(reinterpret_cast<Node*>(query->returningList), &check);
  });
  for (SubLink* sublink : check.reading_distributed)
    if (!StaysInShardGroup(sublink, from)) return false;
  return true;
}

const Fragment* PendingFragment(const RangeTblEntry* rte, double* rows) {
  auto it = pending.find(rte);
  if (it == pending.end()) return nullptr;
  *rows = it->second.rows;
  return &it->second.fragment;
}

}  // namespace phantom::pg
