// Deparsing a query and cutting it at table names; see shard_query.hpp.
#include "pg/planner/shard_query.hpp"

#include <set>
#include <utility>

#include "core/common/error.hpp"
#include "pg/guard.hpp"
#include "pg/metadata/metadata_cache.hpp"
#include "pg/sql_text.hpp"

extern "C" {
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "parser/scanner.h"
// gram.h after scanner.h, as the grammar itself includes them.
#include "parser/gram.h"
#include "parser/parsetree.h"
#include "utils/ruleutils.h"
}

namespace phantom::pg {

namespace {

struct NamedTable {
  std::string schema;
  std::string name;
  metadata::TableId table_id;
};

struct Collector {
  std::vector<NamedTable> tables;
  std::set<std::string> refnames;  // every range table entry's name in the query
};

bool CollectRtes(Node* node, void* context) {
  if (node == nullptr) return false;
  auto* collector = static_cast<Collector*>(context);
  if (IsA(node, RangeTblEntry)) {
    auto* rte = reinterpret_cast<RangeTblEntry*>(node);
    if (rte->alias != nullptr) collector->refnames.insert(rte->alias->aliasname);
    if (rte->rtekind == RTE_RELATION) {
      if (auto table = metadata_cache::Find(rte->relid)) {
        // Column references name the entry, not the table: give it an alias
        // spelled like the table so they survive the change of table name.
        if (rte->alias == nullptr) rte->alias = makeAlias(rte->eref->aliasname, NIL);
        collector->refnames.insert(rte->alias->aliasname);
        collector->tables.push_back({table->record.schema_name, table->record.table_name, table->record.table_id});
      }
    }
    return false;
  }
  if (IsA(node, Query))
    return query_tree_walker(reinterpret_cast<Query*>(node), Walker(CollectRtes), context, QTW_EXAMINE_RTES_BEFORE);
  return expression_tree_walker(node, Walker(CollectRtes), context);
}

struct Token {
  int code;
  int start;
  int end;
  std::string identifier;  // for identifiers and keywords: the name they spell
};

bool IsNameToken(const Token& token) { return !token.identifier.empty(); }

// Where an identifier token ends in the source: quoted identifiers carry
// their quotes and doubled quotes, plain ones are as long as their name
// (ruleutils writes them in lower case already).
int IdentifierEnd(const std::string& sql, int start, const std::string& name) {
  if (sql[start] != '"') return start + static_cast<int>(name.size());
  size_t i = static_cast<size_t>(start) + 1;
  while (i < sql.size()) {
    if (sql[i] == '"') {
      if (i + 1 < sql.size() && sql[i + 1] == '"') {
        i += 2;
        continue;
      }
      return static_cast<int>(i + 1);
    }
    i++;
  }
  return static_cast<int>(sql.size());
}

// Every token code from the grammar's first one up is a keyword, except
// these: a keyword may name a schema or table (unreserved ones are not quoted).
bool IsKeywordCode(int code) {
  switch (code) {
    case IDENT:
    case UIDENT:
    case FCONST:
    case SCONST:
    case USCONST:
    case BCONST:
    case XCONST:
    case Op:
    case ICONST:
    case PARAM:
    case TYPECAST:
    case DOT_DOT:
    case COLON_EQUALS:
    case EQUALS_GREATER:
    case LESS_EQUALS:
    case GREATER_EQUALS:
    case NOT_EQUALS:
      return false;
    default:
      return code >= IDENT;
  }
}

std::vector<Token> Lex(const std::string& sql) {
  std::vector<Token> tokens;
  PgCall([&] {
    core_yy_extra_type extra;
    core_yyscan_t scanner = scanner_init(sql.c_str(), &extra, &ScanKeywords, ScanKeywordTokens);
    for (;;) {
      core_YYSTYPE value;
      YYLTYPE location;
      int code = core_yylex(&value, &location, scanner);
      if (code == 0) break;
      Token token{code, location, location, {}};
      if (code == IDENT) {
        token.identifier = value.str;
        token.end = IdentifierEnd(sql, location, token.identifier);
      } else if (IsKeywordCode(code) && value.keyword != nullptr) {
        token.identifier = value.keyword;
        token.end = location + static_cast<int>(token.identifier.size());
      }
      tokens.push_back(std::move(token));
    }
    scanner_finish(scanner);
  });
  return tokens;
}

}  // namespace

ShardQueryTemplate BuildShardQuery(Query* original) {
  Query* query = PgCall([&] { return static_cast<Query*>(copyObjectImpl(original)); });
  Collector collector;
  PgCall([&] { CollectRtes(reinterpret_cast<Node*>(query), &collector); });

  std::set<std::string> schemas;
  for (const NamedTable& table : collector.tables) schemas.insert(table.schema);
  for (const std::string& refname : collector.refnames) {
    if (schemas.count(refname) > 0)
      throw Error(sqlstate::kFeatureNotSupported,
                  "a table alias spelled like schema \"" + refname + "\" is not supported yet in distributed queries",
                  "", "Choose another alias.");
  }

  const std::string sql =
      WithQualifiedNames([&] { return std::string(PgCall([&] { return pg_get_querydef(query, false); })); });
  const std::vector<Token> tokens = Lex(sql);

  ShardQueryTemplate result;
  int copied_to = 0;
  for (size_t i = 0; i + 2 < tokens.size(); i++) {
    if (!IsNameToken(tokens[i]) || tokens[i + 1].code != '.' || !IsNameToken(tokens[i + 2])) continue;
    if (i > 0 && tokens[i - 1].code == '.') continue;
    if (i + 3 < tokens.size() && (tokens[i + 3].code == '.' || tokens[i + 3].code == '(')) continue;
    for (const NamedTable& table : collector.tables) {
      if (table.schema != tokens[i].identifier || table.name != tokens[i + 2].identifier) continue;
      result.pieces.push_back(sql.substr(copied_to, tokens[i].start - copied_to));
      result.tables.push_back(table.table_id);
      copied_to = tokens[i + 2].end;
      i += 2;
      break;
    }
  }
  result.pieces.push_back(sql.substr(copied_to));
  return result;
}

}  // namespace phantom::pg
