// The shard scan's CustomScan: at execution it sends each node one
// statement reading all of that node's shards of the table (UNION ALL, with
// the pushed-down filters), keeps every node busy at once, and returns the
// rows, which the scan's own quals then filter like any local scan.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "pg/postgres.hpp"

extern "C" {
#include "nodes/extensible.h"
}

namespace phantom::pg {

extern const CustomScanMethods ShardScanMethods;

// custom_private of a shard scan: table id (as a string node), the
// pushed-down WHERE text ("" for none) with the table's name as column
// qualifier, the parameter numbers that text uses, and the shard indexes
// to read (nullopt: every shard) when the filters pin the distribution
// column to constants.
List* EncodeShardScan(int64_t table_id, const std::string& where, const std::vector<int>& params,
                      const std::optional<std::set<int32_t>>& shards);

// From _PG_init.
void RegisterShardScan();

}  // namespace phantom::pg
