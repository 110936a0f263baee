// custom_private encoding of a RouterPlan; see router_plan.hpp. The layout is
// a list: command, anchor, target, pins, shard query (plan_encoding.hpp),
// insert query, parameters, locks_rows, several_shards, concatenable,
// select_sql.
#include "pg/executor/router_plan.hpp"

#include <string>

#include "pg/executor/plan_encoding.hpp"
#include "pg/guard.hpp"

namespace phantom::pg {

List* EncodeRouterPlan(const RouterPlan& plan) {
  Node* anchor = Int64Node(plan.anchor_table);
  Node* target = Int64Node(plan.target_table);
  List* query = EncodeShardQuery(plan.query);
  List* params = IntList(plan.params_used);
  return PgCall([&] {
    List* encoded = NIL;
    encoded = lappend(encoded, makeInteger(static_cast<int>(plan.command)));
    encoded = lappend(encoded, anchor);
    encoded = lappend(encoded, target);
    encoded = lappend(encoded, plan.pins);
    encoded = lappend(encoded, query);
    encoded = lappend(encoded, plan.insert_query);
    encoded = lappend(encoded, params);
    encoded = lappend(encoded, makeInteger(plan.locks_rows ? 1 : 0));
    encoded = lappend(encoded, makeInteger(plan.several_shards ? 1 : 0));
    encoded = lappend(encoded, makeInteger(plan.concatenable ? 1 : 0));
    encoded = lappend(encoded, makeString(pstrdup(plan.select_sql.c_str())));
    return encoded;
  });
}

RouterPlan DecodeRouterPlan(List* custom_private) {
  RouterPlan plan;
  plan.command = static_cast<CmdType>(intVal(list_nth(custom_private, 0)));
  plan.anchor_table = Int64Of(static_cast<Node*>(list_nth(custom_private, 1)));
  plan.target_table = Int64Of(static_cast<Node*>(list_nth(custom_private, 2)));
  plan.pins = static_cast<List*>(list_nth(custom_private, 3));
  plan.query = DecodeShardQuery(static_cast<List*>(list_nth(custom_private, 4)));
  plan.insert_query = static_cast<Query*>(list_nth(custom_private, 5));
  plan.params_used = IntsOf(static_cast<List*>(list_nth(custom_private, 6)));
  plan.locks_rows = intVal(list_nth(custom_private, 7)) != 0;
  plan.several_shards = intVal(list_nth(custom_private, 8)) != 0;
  plan.concatenable = intVal(list_nth(custom_private, 9)) != 0;
  plan.select_sql = strVal(list_nth(custom_private, 10));
  return plan;
}

}  // namespace phantom::pg
