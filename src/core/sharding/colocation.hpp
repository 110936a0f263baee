// Choosing the colocation group of a table being distributed, from
// phantom_create_distributed_table's colocate_with argument.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/metadata/command.hpp"

namespace phantom::sharding {

struct ColocationRequest {
  std::string colocate_with;      // "default", "none", or a table as the user wrote it
  int32_t shard_count = 0;        // already checked by CheckShardCount
  std::string distribution_type;  // format_type() of the column
  int32_t replication_factor = 1;
  // When colocate_with names a table: that table's record (the glue resolves
  // the name); nullptr when it is not distributed.
  const metadata::TableRecord* target = nullptr;
};

struct ColocationChoice {
  metadata::ColocationId existing = 0;   // join this group (its placements are copied), or 0 ...
  metadata::ColocationRecord new_group;  // ... found this group (colocation_id = next id)
};

// "default": the lowest-numbered group with the same shard count, type and
// replication factor, else a new group. "none": always a new group. A table
// name: that table's group, which must match shard count and type (else
// phantom::Error 22023 naming both tables' values, with a HINT). A reference
// table or a non-distributed table as target: phantom::Error 22023/42P01.
ColocationChoice ChooseColocation(const std::vector<metadata::ColocationRecord>& groups,
                                  const ColocationRequest& request, metadata::ColocationId next_colocation_id);

}  // namespace phantom::sharding
