// custom_private encoding of a RouterPlan; see router_plan.hpp. The layout is
// a list: command, anchor, target, pins, pieces, table ids, insert query,
// parameters, locks_rows, several_shards, concatenable, select_sql. Table ids travel as strings (Integer nodes hold only int).
#include "pg/executor/router_plan.hpp"

#include <string>

#include "pg/guard.hpp"

namespace phantom::pg {

namespace {

Node* Int64Node(int64_t value) { return reinterpret_cast<Node*>(makeString(pstrdup(std::to_string(value).c_str()))); }
int64_t Int64Of(Node* node) { return std::stoll(strVal(node)); }

}  // namespace

List* EncodeRouterPlan(const RouterPlan& plan) {
  return PgCall([&] {
    List* pieces = NIL;
    for (const std::string& piece : plan.query.pieces) pieces = lappend(pieces, makeString(pstrdup(piece.c_str())));
    List* tables = NIL;
    for (metadata::TableId id : plan.query.tables) tables = lappend(tables, Int64Node(id));
    List* params = NIL;
    for (int param : plan.params_used) params = lappend_int(params, param);
    List* encoded = NIL;
    encoded = lappend(encoded, makeInteger(static_cast<int>(plan.command)));
    encoded = lappend(encoded, Int64Node(plan.anchor_table));
    encoded = lappend(encoded, Int64Node(plan.target_table));
    encoded = lappend(encoded, plan.pins);
    encoded = lappend(encoded, pieces);
    encoded = lappend(encoded, tables);
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
  ListCell* cell = nullptr;
  foreach (cell, static_cast<List*>(list_nth(custom_private, 4))) plan.query.pieces.emplace_back(strVal(lfirst(cell)));
  foreach (cell, static_cast<List*>(list_nth(custom_private, 5)))
    plan.query.tables.push_back(Int64Of(static_cast<Node*>(lfirst(cell))));
  plan.insert_query = static_cast<Query*>(list_nth(custom_private, 6));
  foreach (cell, static_cast<List*>(list_nth(custom_private, 7))) plan.params_used.push_back(lfirst_int(cell));
  plan.locks_rows = intVal(list_nth(custom_private, 8)) != 0;
  plan.several_shards = intVal(list_nth(custom_private, 9)) != 0;
  plan.concatenable = intVal(list_nth(custom_private, 10)) != 0;
  plan.select_sql = strVal(list_nth(custom_private, 11));
  return plan;
}

}  // namespace phantom::pg
