// Records the metadata tests build their catalogs from.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/metadata/command.hpp"
#include "core/sharding/shard_map.hpp"

namespace phantom::metadata {

// A cluster id of sixteen `seed` bytes: distinct seeds, distinct clusters.
inline ClusterId IdOf(uint8_t seed) {
  ClusterId id{};
  id.fill(seed);
  return id;
}

// An active primary named after its host, on port 5432 in region "default".
inline NodeRecord Node(NodeId node_id, const std::string& host) {
  NodeRecord node;
  node.node_id = node_id;
  node.name = host;
  node.host = host;
  node.port = 5432;
  node.region = "default";
  return node;
}

// A hash table whose shards are numbered from first_shard, placed round-robin
// over nodes 1..3 from start with the given replication factor.
inline TableRecord HashTable(TableId table_id, const std::string& name, ColocationId group, int32_t shard_count,
                             ShardId first_shard, int32_t replication_factor = 1, size_t start = 0) {
  TableRecord table;
  table.table_id = table_id;
  table.schema_name = "public";
  table.table_name = name;
  table.method = DistributionMethod::kHash;
  table.distribution_column = "id";
  table.colocation_id = group;
  const std::vector<sharding::HashRange> ranges = sharding::SplitHashSpace(shard_count);
  const auto placements = sharding::PlaceRoundRobin({1, 2, 3}, shard_count, replication_factor, start);
  for (int32_t i = 0; i < shard_count; i++)
    table.shards.push_back(ShardRecord{first_shard + i, i, ranges[i].min, ranges[i].max, placements[i]});
  return table;
}

// A reference table: one shard over the whole hash space, on nodes 1..3.
inline TableRecord ReferenceTable(TableId table_id, const std::string& name, ShardId shard_id) {
  TableRecord table;
  table.table_id = table_id;
  table.schema_name = "public";
  table.table_name = name;
  table.method = DistributionMethod::kReference;
  table.shards.push_back(ShardRecord{shard_id, 0, INT32_MIN, INT32_MAX, {1, 2, 3}});
  return table;
}

}  // namespace phantom::metadata
