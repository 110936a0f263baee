// Shell and shard DDL; see shard_ddl.hpp.
#include "pg/sharding/shard_ddl.hpp"

#include "pg/remote/connection_pool.hpp"
#include "pg/spi.hpp"
#include "pg/sql_text.hpp"

extern "C" {
#include "utils/guc.h"
}

namespace phantom::pg {

std::vector<std::string> ShellTableDdl(Oid relid) {
  return WithQualifiedNames([&] {
    std::vector<std::string> statements;
    const spi::Param rel{OIDOID, ObjectIdGetDatum(relid), false};
    // The schema, and the enum types of its columns, may not exist on a node
    // yet; both are created if missing (an existing enum is left as it is,
    // and a differing one shows up as soon as a value does not convert).
    spi::Execute(
        "SELECT 'CREATE SCHEMA IF NOT EXISTS ' || pg_catalog.quote_ident(n.nspname) "
        "FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
        "WHERE c.oid = $1 AND n.nspname <> 'public' "
        "UNION ALL "
        "SELECT DISTINCT 'DO $phantom$ BEGIN IF pg_catalog.to_regtype(' || pg_catalog.quote_literal("
        "pg_catalog.format_type(t.oid, NULL)) || ') IS NULL THEN ' "
        "|| CASE WHEN tn.nspname <> 'public' THEN 'CREATE SCHEMA IF NOT EXISTS ' || pg_catalog.quote_ident(tn.nspname) "
        "|| '; ' ELSE '' END "
        "|| 'CREATE TYPE ' || pg_catalog.format_type(t.oid, NULL) || ' AS ENUM (' "
        "|| (SELECT pg_catalog.string_agg(pg_catalog.quote_literal(e.enumlabel), ', ' ORDER BY e.enumsortorder) "
        "    FROM pg_catalog.pg_enum e WHERE e.enumtypid = t.oid) || '); END IF; END $phantom$' "
        "FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_type t ON t.oid = a.atttypid "
        "JOIN pg_catalog.pg_namespace tn ON tn.oid = t.typnamespace "
        "WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped AND t.typtype = 'e'",
        {rel});
    for (uint64_t row = 0; row < spi::RowCount(); row++) statements.push_back(spi::GetText(row, 0));
    spi::Execute("SELECT pg_catalog.format('%s', $1::pg_catalog.regclass)", {rel});
    const std::string qualified = spi::GetText(0, 0);

    spi::Execute(
        "SELECT pg_catalog.quote_ident(a.attname) || ' ' || pg_catalog.format_type(a.atttypid, a.atttypmod) "
        "|| CASE WHEN a.attcollation <> 0 AND a.attcollation <> t.typcollation "
        "        THEN ' COLLATE ' || pg_catalog.quote_ident(cn.nspname) || '.' || pg_catalog.quote_ident(c.collname) "
        "        ELSE '' END "
        "|| CASE WHEN a.attgenerated = 's' "
        "        THEN ' GENERATED ALWAYS AS (' || pg_catalog.pg_get_expr(d.adbin, d.adrelid) || ') STORED' "
        "        ELSE '' END "
        "|| CASE WHEN a.attnotnull THEN ' NOT NULL' ELSE '' END "
        "FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_type t ON t.oid = a.atttypid "
        "LEFT JOIN pg_catalog.pg_collation c ON c.oid = a.attcollation "
        "LEFT JOIN pg_catalog.pg_namespace cn ON cn.oid = c.collnamespace "
        "LEFT JOIN pg_catalog.pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum "
        "WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum",
        {rel});
    std::string create = "CREATE TABLE " + qualified + " (";
    for (uint64_t row = 0; row < spi::RowCount(); row++) {
      if (row > 0) create += ", ";
      create += spi::GetText(row, 0);
    }
    create += ")";
    statements.push_back(create);

    spi::Execute(
        "SELECT 'ALTER TABLE ' || $2 || ' ADD CONSTRAINT ' || pg_catalog.quote_ident(conname) || ' ' "
        "|| pg_catalog.pg_get_constraintdef(oid) FROM pg_catalog.pg_constraint "
        "WHERE conrelid = $1 AND contype IN ('c', 'p', 'u', 'x') ORDER BY conname",
        {rel, spi::Text(qualified)});
    for (uint64_t row = 0; row < spi::RowCount(); row++) statements.push_back(spi::GetText(row, 0));

    spi::Execute(
        "SELECT pg_catalog.pg_get_indexdef(i.indexrelid) FROM pg_catalog.pg_index i "
        "WHERE i.indrelid = $1 AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint c "
        "WHERE c.conindid = i.indexrelid AND c.contype IN ('p', 'u', 'x')) ORDER BY i.indexrelid",
        {rel});
    for (uint64_t row = 0; row < spi::RowCount(); row++) statements.push_back(spi::GetText(row, 0));
    return statements;
  });
}

std::string CreateShardTableSql(const std::string& schema, const std::string& table, const std::string& shard_table) {
  // Not INCLUDING DEFAULTS or IDENTITY: values arrive complete from the
  // node that planned the write.
  return "CREATE TABLE " + QualifiedName(schema, shard_table) + " (LIKE " + QualifiedName(schema, table) +
         " INCLUDING CONSTRAINTS INCLUDING INDEXES INCLUDING GENERATED INCLUDING STORAGE INCLUDING COMPRESSION "
         "INCLUDING STATISTICS)";
}

void ExecuteOnNode(const CachedNode& node, const std::string& sql) {
  if (node.node_id == metadata_cache::LocalNodeId()) {
    // The user sees their own statement's messages, not one per shard: the
    // shard statement runs with notices off and its errors lose SPI's
    // "SQL statement ..." context. (Remote nodes' notices are dropped by
    // the connection; see node_connection.cpp.)
    const int level = PgCall([] {
      int nest = NewGUCNestLevel();
      set_config_option("client_min_messages", "warning", PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
      return nest;
    });
    try {
      spi::Execute(sql.c_str());
    } catch (const PgError& error) {
      error.Data()->context = nullptr;
      throw;  // the transaction's abort unwinds the setting
    }
    PgCall([&] { AtEOXact_GUC(true, level); });
    return;
  }
  // No deadline: building an index on a large shard takes what it takes;
  // cancel and statement_timeout still interrupt the wait.
  connection_pool::Run(node, connection_pool::Access::kWriteInTransaction, [&](NodeConnection& connection) {
    connection.SendQuery(sql, {});
    connection.Drain();
  });
}

}  // namespace phantom::pg
