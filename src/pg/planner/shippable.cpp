// Shippability of expressions; see shippable.hpp.
#include "pg/planner/shippable.hpp"

#include "pg/guard.hpp"
#include "pg/metadata/metadata_cache.hpp"

extern "C" {
#include "nodes/nodeFuncs.h"
#include "utils/fmgroids.h"
}

namespace phantom::pg {

namespace {

bool BuiltIn(Oid oid) { return oid < FirstNormalObjectId; }

// Built-in functions whose value depends on the session or transaction
// that evaluates them: a node's differs from this one's.
bool SessionDependent(Oid function) {
  switch (function) {
    case F_NOW:
    case F_TRANSACTION_TIMESTAMP:
    case F_STATEMENT_TIMESTAMP:
    case F_CLOCK_TIMESTAMP:
    case F_TIMEOFDAY:
    case F_PG_BACKEND_PID:
    case F_TXID_CURRENT:
    case F_PG_CURRENT_XACT_ID:
    // Settings and the search path: a node's session has its own (its
    // search_path is pg_catalog only).
    case F_CURRENT_SETTING_TEXT:
    case F_CURRENT_SETTING_TEXT_BOOL:
    case F_CURRENT_SCHEMA:
    case F_CURRENT_SCHEMAS:
      return true;
    default:
      return false;
  }
}

struct Context {
  SubqueriesOnNodes subqueries;
  int depth = 0;  // sub-queries entered
};

bool NotShippable(Node* node, void* raw);

bool NotShippableQuery(Query* query, Context* context) {
  context->depth++;
  ListCell* cell = nullptr;
  bool refused = false;
  foreach (cell, query->rtable) {
    auto* rte = static_cast<RangeTblEntry*>(lfirst(cell));
    if (rte->rtekind == RTE_RELATION) {
      auto table = metadata_cache::Find(rte->relid);
      if (!table || (!table->IsReference() && context->subqueries != SubqueriesOnNodes::kOverShardGroup))
        refused = true;
    } else if (rte->rtekind != RTE_JOIN && rte->rtekind != RTE_SUBQUERY) {
      refused = true;  // functions, VALUES, CTE references: not worth the case analysis
    }
  }
  if (query->cteList != NIL || query->rowMarks != NIL) refused = true;
  if (!refused) refused = query_tree_walker(query, Walker(NotShippable), context, 0);
  context->depth--;
  return refused;
}

// True when the expression must stay here.
bool NotShippable(Node* node, void* raw) {
  if (node == nullptr) return false;
  auto* context = static_cast<Context*>(raw);
  switch (nodeTag(node)) {
    case T_Var: {
      auto* var = reinterpret_cast<Var*>(node);
      // A reference to an enclosing query that is not sent along.
      if (static_cast<int>(var->varlevelsup) > context->depth) return true;
      return var->varattno <= 0 || !BuiltIn(var->vartype);
    }
    case T_Const:
      return !BuiltIn(reinterpret_cast<Const*>(node)->consttype);
    case T_Param: {
      // $n of the statement, or the output of the sub-query whose test
      // expression holds it; not the executor's own parameters.
      auto* param = reinterpret_cast<Param*>(node);
      return (param->paramkind != PARAM_EXTERN && param->paramkind != PARAM_SUBLINK) || !BuiltIn(param->paramtype);
    }
    case T_FuncExpr: {
      const Oid function = reinterpret_cast<FuncExpr*>(node)->funcid;
      if (!BuiltIn(function) || SessionDependent(function)) return true;
      break;
    }
    case T_Aggref: {
      auto* aggref = reinterpret_cast<Aggref*>(node);
      if (!BuiltIn(aggref->aggfnoid) || static_cast<int>(aggref->agglevelsup) > context->depth) return true;
      break;
    }
    case T_WindowFunc:
      if (!BuiltIn(reinterpret_cast<WindowFunc*>(node)->winfnoid)) return true;
      break;
    case T_OpExpr:
    case T_DistinctExpr:
    case T_NullIfExpr:
      if (!BuiltIn(reinterpret_cast<OpExpr*>(node)->opno)) return true;
      break;
    case T_ScalarArrayOpExpr:
      if (!BuiltIn(reinterpret_cast<ScalarArrayOpExpr*>(node)->opno)) return true;
      break;
    case T_SubLink:
      if (context->subqueries == SubqueriesOnNodes::kRefuse) return true;
      break;
    case T_Query:
      return NotShippableQuery(reinterpret_cast<Query*>(node), context);
    case T_RelabelType:
    case T_CoerceViaIO:
    case T_BoolExpr:
    case T_NullTest:
    case T_BooleanTest:
    case T_ArrayExpr:
    case T_CoalesceExpr:
    case T_CaseExpr:
    case T_CaseWhen:
    case T_CaseTestExpr:
    case T_MinMaxExpr:
    case T_TargetEntry:
    case T_FromExpr:
    case T_JoinExpr:
    case T_RangeTblRef:
    case T_SortGroupClause:
    case T_List:
      break;
    default:
      return true;
  }
  if (!IsA(node, List) && !IsA(node, TargetEntry) && !IsA(node, FromExpr) && !IsA(node, JoinExpr) &&
      !IsA(node, RangeTblRef) && !IsA(node, SortGroupClause) && !IsA(node, SubLink)) {
    const Oid collation = exprCollation(node);
    if (OidIsValid(collation) && !BuiltIn(collation)) return true;
    if (!BuiltIn(exprType(node))) return true;
  }
  return expression_tree_walker(node, Walker(NotShippable), raw);
}

bool FindSecurityBarrier(Node* node, void* context) {
  if (node == nullptr) return false;
  if (IsA(node, RangeTblEntry)) {
    auto* rte = reinterpret_cast<RangeTblEntry*>(node);
    return rte->securityQuals != NIL || (rte->rtekind == RTE_SUBQUERY && rte->security_barrier);
  }
  if (IsA(node, Query))
    return query_tree_walker(reinterpret_cast<Query*>(node), Walker(FindSecurityBarrier), context,
                             QTW_EXAMINE_RTES_BEFORE);
  return expression_tree_walker(node, Walker(FindSecurityBarrier), context);
}

}  // namespace

bool HasSecurityBarriers(Query* query) {
  return PgCall([&] { return FindSecurityBarrier(reinterpret_cast<Node*>(query), nullptr); });
}

bool Shippable(Node* node, SubqueriesOnNodes subqueries) {
  Context context{subqueries};
  return !PgCall([&] { return NotShippable(node, &context); });
}

}  // namespace phantom::pg
