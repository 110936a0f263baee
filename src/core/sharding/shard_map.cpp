// Cutting the hash space into shards and placing them; see shard_map.hpp.
// The ranges are part of the on-disk format: a row stored in shard i must be
// looked for in shard i by every later release.
#include "core/sharding/shard_map.hpp"

#include <algorithm>
#include <limits>

#include "core/common/error.hpp"
#include "core/common/pure.hpp"

namespace phantom::sharding {

namespace {

constexpr uint64_t kHashSpace = uint64_t{1} << 32;

uint64_t SliceSize(int32_t shard_count) { return kHashSpace / static_cast<uint64_t>(shard_count); }

// The distance of hash from the bottom of the space, so slices are plain
// unsigned arithmetic.
uint64_t Offset(int32_t hash) {
  return static_cast<uint64_t>(static_cast<int64_t>(hash) - std::numeric_limits<int32_t>::min());
}

int32_t FromOffset(uint64_t offset) {
  return static_cast<int32_t>(static_cast<int64_t>(offset) + std::numeric_limits<int32_t>::min());
}

}  // namespace

void CheckShardCount(int64_t shard_count) {
  if (shard_count < 1 || shard_count > kMaxShardCount)
    throw Error(sqlstate::kInvalidParameterValue, "shard_count " + std::to_string(shard_count) + " is out of range", "",
                "Use a shard count between 1 and " + std::to_string(kMaxShardCount) + ".");
}

std::vector<HashRange> SplitHashSpace(int32_t shard_count) {
  CheckShardCount(shard_count);
  const uint64_t size = SliceSize(shard_count);
  std::vector<HashRange> ranges;
  ranges.reserve(static_cast<size_t>(shard_count));
  for (int32_t i = 0; i < shard_count; i++) {
    const uint64_t start = size * static_cast<uint64_t>(i);
    // The last slice also takes the remainder of the division.
    const uint64_t end = i == shard_count - 1 ? kHashSpace - 1 : start + size - 1;
    ranges.push_back(HashRange{FromOffset(start), FromOffset(end)});
  }
  return ranges;
}

int32_t ShardIndexForHash(int32_t hash, int32_t shard_count) {
  CheckShardCount(shard_count);
  const uint64_t index = Offset(hash) / SliceSize(shard_count);
  // Hashes in the remainder past the last full slice belong to the last shard.
  return static_cast<int32_t>(std::min<uint64_t>(index, static_cast<uint64_t>(shard_count - 1)));
}

std::vector<std::vector<metadata::NodeId>> PlaceRoundRobin(const std::vector<metadata::NodeId>& nodes,
                                                           int32_t shard_count, int32_t replication_factor,
                                                           size_t first) {
  CheckShardCount(shard_count);
  if (replication_factor < 1 || static_cast<size_t>(replication_factor) > nodes.size())
    throw Error(sqlstate::kInvalidParameterValue,
                "replication_factor " + std::to_string(replication_factor) + " is out of range for " +
                    std::to_string(nodes.size()) + " active node(s)",
                "", "Use a replication factor between 1 and the number of active nodes.");
  std::vector<std::vector<metadata::NodeId>> placements(static_cast<size_t>(shard_count));
  for (size_t shard = 0; shard < placements.size(); shard++) {
    placements[shard].reserve(static_cast<size_t>(replication_factor));
    for (size_t copy = 0; copy < static_cast<size_t>(replication_factor); copy++)
      placements[shard].push_back(nodes[(first % nodes.size() + shard + copy) % nodes.size()]);
  }
  return placements;
}

}  // namespace phantom::sharding
