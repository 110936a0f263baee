// Finding a query's tables and shards again at execution, by the ids the
// plan carries: the metadata may have changed since planning.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "pg/metadata/metadata_cache.hpp"

namespace phantom::pg {

// The table, or 40001 (retry) when it was dropped since planning.
std::shared_ptr<const DistributedTable> TableById(metadata::TableId id);

// The shard at index of table (reference tables have one shard).
const metadata::ShardRecord& ShardAt(const DistributedTable& table, int32_t index);

// The qualified SQL name of that shard's table.
std::string ShardTableSql(metadata::TableId table_id, int32_t index);

}  // namespace phantom::pg
