// Node-tree encodings for custom_private; see plan_encoding.hpp.
#include "pg/executor/plan_encoding.hpp"

#include <string>

#include "pg/guard.hpp"

namespace phantom::pg {

Node* Int64Node(int64_t value) {
  const std::string text = std::to_string(value);
  return PgCall([&] { return reinterpret_cast<Node*>(makeString(pstrdup(text.c_str()))); });
}

int64_t Int64Of(Node* node) { return std::stoll(strVal(node)); }

List* IntList(const std::vector<int>& values) {
  return PgCall([&] {
    List* list = NIL;
    for (int value : values) list = lappend_int(list, value);
    return list;
  });
}

std::vector<int> IntsOf(List* list) {
  std::vector<int> values;
  ListCell* cell = nullptr;
  foreach (cell, list) values.push_back(lfirst_int(cell));
  return values;
}

List* EncodeShardQuery(const ShardQueryTemplate& query) {
  List* tables = NIL;
  for (metadata::TableId id : query.tables) {
    Node* node = Int64Node(id);
    tables = PgCall([&] { return lappend(tables, node); });
  }
  return PgCall([&] {
    List* pieces = NIL;
    for (const std::string& piece : query.pieces) pieces = lappend(pieces, makeString(pstrdup(piece.c_str())));
    return list_make2(pieces, tables);
  });
}

ShardQueryTemplate DecodeShardQuery(List* encoded) {
  ShardQueryTemplate query;
  ListCell* cell = nullptr;
  foreach (cell, static_cast<List*>(linitial(encoded))) query.pieces.emplace_back(strVal(lfirst(cell)));
  foreach (cell, static_cast<List*>(lsecond(encoded)))
    query.tables.push_back(Int64Of(static_cast<Node*>(lfirst(cell))));
  return query;
}

}  // namespace phantom::pg
