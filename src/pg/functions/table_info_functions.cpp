// What users ask about distributed tables: phantom_shard_for_value and the
// shard sizes behind the phantom_tables and phantom_shards views.
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/common/error.hpp"
#include "core/sharding/shard_map.hpp"
#include "pg/guard.hpp"
#include "pg/metadata/metadata_cache.hpp"
#include "pg/remote/connection_pool.hpp"
#include "pg/sharding/distribution_value.hpp"
#include "pg/spi.hpp"
#include "pg/sql_text.hpp"

extern "C" {
#include "catalog/pg_type.h"
#include "utils/lsyscache.h"
#include "utils/tuplestore.h"
}

namespace phantom::pg {

namespace {

bool IsInteger(Oid type) { return type == INT2OID || type == INT4OID || type == INT8OID; }

Datum ShardForValue(FunctionCallInfo fcinfo) {
  if (PG_ARGISNULL(0)) throw Error(sqlstate::kNullValueNotAllowed, "table must not be null");
  const Oid relid = PG_GETARG_OID(0);
  auto table = metadata_cache::Lookup(relid);
  if (!table) {
    const char* name = PgCall([&] { return get_rel_name(relid); });
    throw Error(sqlstate::kUndefinedTable,
                std::string("table \"") + (name ? name : std::to_string(relid).c_str()) + "\" is not distributed", "",
                "Distribute it with phantom_create_distributed_table or phantom_create_reference_table.");
  }
  if (table->IsReference()) PG_RETURN_INT64(table->record.shards.front().shard_id);
  // NULL matches no row and so belongs to no shard.
  if (PG_ARGISNULL(1)) PG_RETURN_NULL();

  Oid type = PgCall([&] { return get_fn_expr_argtype(fcinfo->flinfo, 1); });
  Datum value = PG_GETARG_DATUM(1);
  const Oid column_type = table->distribution_type;
  const Oid column_base = PgCall([&] { return getBaseType(column_type); });
  const Oid value_base = PgCall([&] { return getBaseType(type); });
  if (value_base != column_base && !(IsInteger(value_base) && IsInteger(column_base))) {
    // A literal arrives as text: read it as the column's type, as an INSERT would.
    value = PgCall([&] {
      Oid output = InvalidOid, input = InvalidOid, ioparam = InvalidOid;
      bool varlena = false;
      getTypeOutputInfo(type, &output, &varlena);
      char* text = OidOutputFunctionCall(output, value);
      getTypeInputInfo(column_type, &input, &ioparam);
      return OidInputFunctionCall(input, text, ioparam, -1);
    });
    type = column_type;
  }
  const int32_t hash = DistributionHashOf(value, type);
  const int32_t index = sharding::ShardIndexForHash(hash, static_cast<int32_t>(table->record.shards.size()));
  PG_RETURN_INT64(table->record.shards[static_cast<size_t>(index)].shard_id);
}

// Bytes on disk of every placement; NULL where the node did not answer.
Datum ShardSizes(FunctionCallInfo fcinfo) {
  struct Row {
    metadata::ShardId shard_id;
    metadata::NodeId node_id;
    std::optional<int64_t> size;
  };
  std::vector<Row> rows;
  std::map<metadata::NodeId, std::vector<std::pair<metadata::ShardId, std::string>>> by_node;
  for (const auto& table : metadata_cache::AllTables()) {
    for (const metadata::ShardRecord& shard : table->record.shards) {
      const std::string name = QualifiedName(table->record.schema_name, table->ShardTableName(shard));
      for (metadata::NodeId node : shard.placements) by_node[node].emplace_back(shard.shard_id, name);
    }
  }
  for (const auto& [node_id, shards] : by_node) {
    std::string array = "{";
    for (size_t i = 0; i < shards.size(); i++) {
      if (i > 0) array += ",";
      array += "\"";
      for (char c : shards[i].second) {
        if (c == '"' || c == '\\') array += '\\';
        array += c;
      }
      array += "\"";
    }
    array += "}";
    const std::string sql =
        "SELECT coalesce(pg_catalog.pg_total_relation_size(pg_catalog.to_regclass(n)), -1) "
        "FROM pg_catalog.unnest($1::pg_catalog.text[]) WITH ORDINALITY AS u(n, i) ORDER BY i";
    std::vector<std::optional<int64_t>> sizes(shards.size());
    try {
      if (node_id == metadata_cache::LocalNodeId()) {
        spi::WithSpi([&] {
          spi::Execute(sql.c_str(), {spi::Text(array)});
          for (uint64_t r = 0; r < spi::RowCount() && r < sizes.size(); r++) sizes[r] = spi::GetInt64(r, 0);
        });
      } else {
        const CachedNode& node = metadata_cache::Node(node_id);
        const auto result = connection_pool::Run(node, connection_pool::Access::kRead, [&](NodeConnection& connection) {
          return connection.Query(sql, {array});
        });
        for (size_t r = 0; r < result.size() && r < sizes.size(); r++)
          if (result[r][0]) sizes[r] = std::stoll(*result[r][0]);
      }
    } catch (const Error&) {
      // An unreachable node leaves its sizes unknown rather than failing the view.
    }
    for (size_t i = 0; i < shards.size(); i++) {
      std::optional<int64_t> size = sizes[i];
      if (size && *size < 0) size.reset();
      rows.push_back({shards[i].first, node_id, size});
    }
  }
  PgCall([&] { InitMaterializedSRF(fcinfo, 0); });
  auto* result = reinterpret_cast<ReturnSetInfo*>(fcinfo->resultinfo);
  for (const Row& row : rows) {
    PgCall([&] {
      Datum values[3] = {Int64GetDatum(row.shard_id), Int32GetDatum(row.node_id), Int64GetDatum(row.size.value_or(0))};
      bool nulls[3] = {false, false, !row.size.has_value()};
      tuplestore_putvalues(result->setResult, result->setDesc, values, nulls);
    });
  }
  return Datum(0);
}

}  // namespace

}  // namespace phantom::pg

PHANTOM_FUNCTION(phantom_shard_for_value, phantom::pg::ShardForValue)
PHANTOM_FUNCTION(phantom_shard_sizes, phantom::pg::ShardSizes)
