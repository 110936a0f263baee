// How a table's hash space is cut into shards and where the shards go.
// Shard i of n covers an equal slice of the signed 32-bit hash space, in
// order; the last slice takes the remainder. Placement is round-robin over
// the active nodes, so colocated tables (same shard count and type) place
// shard i on the same nodes.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/metadata/command.hpp"

namespace phantom::sharding {

inline constexpr int32_t kMaxShardCount = 4096;

struct HashRange {
  int32_t min = 0;  // inclusive
  int32_t max = 0;  // inclusive

  bool operator==(const HashRange&) const = default;
};

// Throws phantom::Error (22023) naming the value when shard_count is outside 1..kMaxShardCount.
void CheckShardCount(int64_t shard_count);
std::vector<HashRange> SplitHashSpace(int32_t shard_count);
// The index of the shard whose range holds hash, for SplitHashSpace(shard_count).
int32_t ShardIndexForHash(int32_t hash, int32_t shard_count);

// placements[i] lists replication_factor distinct nodes for shard i: shard i
// starts at nodes[(first + i) % n] and takes the next ones in order. Throws
// phantom::Error (22023) when replication_factor < 1 or exceeds nodes.size(),
// naming both numbers.
std::vector<std::vector<metadata::NodeId>> PlaceRoundRobin(const std::vector<metadata::NodeId>& nodes,
                                                           int32_t shard_count, int32_t replication_factor,
                                                           size_t first = 0);

}  // namespace phantom::sharding
