// Tables and shards by id at execution; see shard_names.hpp.
#include "pg/executor/shard_names.hpp"

#include "core/common/error.hpp"
#include "pg/sql_text.hpp"

namespace phantom::pg {

std::shared_ptr<const DistributedTable> TableById(metadata::TableId id) {
  auto table = metadata_cache::ByTableId(id);
  if (!table)
    throw Error("40001", "a distributed table of this query was dropped or changed while it ran", "",
                "Retry the statement.");
  return table;
}

const metadata::ShardRecord& ShardAt(const DistributedTable& table, int32_t index) {
  if (table.IsReference()) return table.record.shards.front();
  if (index < 0 || static_cast<size_t>(index) >= table.record.shards.size())
    throw Error(sqlstate::kInternalError, "shard index " + std::to_string(index) + " is out of range for table \"" +
                                              table.record.table_name + "\"");
  return table.record.shards[static_cast<size_t>(index)];
}

std::string ShardTableSql(metadata::TableId table_id, int32_t index) {
  auto table = TableById(table_id);
  return QualifiedName(table->record.schema_name, table->ShardTableName(ShardAt(*table, index)));
}

}  // namespace phantom::pg
