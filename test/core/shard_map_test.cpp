#include "core/sharding/shard_map.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "core/common/error.hpp"
#include "expect_error.hpp"

namespace phantom::sharding {
namespace {

using metadata::NodeId;

TEST(CheckShardCountTest, AcceptsOneToTheLimit) {
  for (int64_t count : {int64_t{1}, int64_t{2}, int64_t{32}, int64_t{kMaxShardCount}})
    EXPECT_NO_THROW(CheckShardCount(count));
}

TEST(CheckShardCountTest, RejectsOutOfRange) {
  for (int64_t count : {int64_t{0}, int64_t{-1}, int64_t{kMaxShardCount + 1}, int64_t{INT32_MAX},
                        int64_t{INT32_MAX} + 1, INT64_MIN, INT64_MAX})
    ExpectError([&] { CheckShardCount(count); }, {"22023", "shard_count " + std::to_string(count) + " is out of range",
                                                  "", "Use a shard count between 1 and 4096."});
}

TEST(SplitHashSpaceTest, OneShardCoversEverything) {
  EXPECT_EQ(SplitHashSpace(1), (std::vector<HashRange>{{INT32_MIN, INT32_MAX}}));
}

TEST(SplitHashSpaceTest, KnownSplits) {
  EXPECT_EQ(SplitHashSpace(2), (std::vector<HashRange>{{INT32_MIN, -1}, {0, INT32_MAX}}));
  // 2^32 / 3 = 1431655765 with 1 left over, which the last slice takes.
  EXPECT_EQ(SplitHashSpace(3),
            (std::vector<HashRange>{{INT32_MIN, -715827884}, {-715827883, 715827881}, {715827882, INT32_MAX}}));
  EXPECT_EQ(
      SplitHashSpace(4),
      (std::vector<HashRange>{{INT32_MIN, -1073741825}, {-1073741824, -1}, {0, 1073741823}, {1073741824, INT32_MAX}}));
}

TEST(SplitHashSpaceTest, TilesTheSpaceInOrder) {
  for (int32_t count : {1, 2, 3, 5, 7, 16, 32, 100, 1000, 4095, 4096}) {
    SCOPED_TRACE("count " + std::to_string(count));
    const std::vector<HashRange> ranges = SplitHashSpace(count);
    ASSERT_EQ(ranges.size(), static_cast<size_t>(count));
    EXPECT_EQ(ranges.front().min, INT32_MIN);
    EXPECT_EQ(ranges.back().max, INT32_MAX);
    const int64_t size = (int64_t{1} << 32) / count;
    for (size_t i = 0; i < ranges.size(); i++) {
      EXPECT_LE(ranges[i].min, ranges[i].max);
      if (i + 1 < ranges.size()) {
        EXPECT_EQ(static_cast<int64_t>(ranges[i].max) + 1, ranges[i + 1].min) << "slice " << i;
        EXPECT_EQ(int64_t{ranges[i].max} - ranges[i].min + 1, size) << "slice " << i;
      } else {
        EXPECT_EQ(int64_t{ranges[i].max} - ranges[i].min + 1, size + (int64_t{1} << 32) % count);
      }
    }
  }
}

TEST(SplitHashSpaceTest, RejectsOutOfRangeCounts) {
  ExpectError([] { SplitHashSpace(0); },
              {"22023", "shard_count 0 is out of range", "", "Use a shard count between 1 and 4096."});
  ExpectError([] { SplitHashSpace(4097); },
              {"22023", "shard_count 4097 is out of range", "", "Use a shard count between 1 and 4096."});
}

TEST(ShardIndexForHashTest, AgreesWithTheRangesAtEveryBoundary) {
  for (int32_t count : {1, 2, 3, 7, 32, 1000, 4096}) {
    SCOPED_TRACE("count " + std::to_string(count));
    const std::vector<HashRange> ranges = SplitHashSpace(count);
    for (size_t i = 0; i < ranges.size(); i++) {
      const auto index = static_cast<int32_t>(i);
      EXPECT_EQ(ShardIndexForHash(ranges[i].min, count), index);
      EXPECT_EQ(ShardIndexForHash(ranges[i].max, count), index);
      if (ranges[i].max > ranges[i].min) {
        EXPECT_EQ(ShardIndexForHash(ranges[i].min + 1, count), index);
        EXPECT_EQ(ShardIndexForHash(ranges[i].max - 1, count), index);
      }
    }
  }
}

TEST(ShardIndexForHashTest, AgreesWithTheRangesForRandomHashes) {
  std::mt19937 random(4242);
  for (int32_t count : {1, 2, 3, 7, 32, 4096}) {
    const std::vector<HashRange> ranges = SplitHashSpace(count);
    for (int round = 0; round < 20000; round++) {
      const auto hash = static_cast<int32_t>(random());
      const int32_t index = ShardIndexForHash(hash, count);
      ASSERT_GE(index, 0);
      ASSERT_LT(index, count);
      ASSERT_LE(ranges[index].min, hash) << "count " << count << " hash " << hash;
      ASSERT_GE(ranges[index].max, hash) << "count " << count << " hash " << hash;
    }
  }
}

TEST(ShardIndexForHashTest, Extremes) {
  EXPECT_EQ(ShardIndexForHash(INT32_MIN, 32), 0);
  EXPECT_EQ(ShardIndexForHash(INT32_MAX, 32), 31);
  EXPECT_EQ(ShardIndexForHash(-1, 2), 0);
  EXPECT_EQ(ShardIndexForHash(0, 2), 1);
  // The remainder of 2^32 / 3 lands in the last shard.
  EXPECT_EQ(ShardIndexForHash(INT32_MAX, 3), 2);
  EXPECT_EQ(ShardIndexForHash(INT32_MAX - 1, 3), 2);
}

TEST(PlaceRoundRobinTest, OneCopyPerShard) {
  EXPECT_EQ(PlaceRoundRobin({1, 2, 3}, 5, 1), (std::vector<std::vector<NodeId>>{{1}, {2}, {3}, {1}, {2}}));
}

TEST(PlaceRoundRobinTest, ReplicasTakeTheNextNodes) {
  EXPECT_EQ(PlaceRoundRobin({1, 2, 3}, 4, 2), (std::vector<std::vector<NodeId>>{{1, 2}, {2, 3}, {3, 1}, {1, 2}}));
  EXPECT_EQ(PlaceRoundRobin({4, 7, 9}, 3, 3), (std::vector<std::vector<NodeId>>{{4, 7, 9}, {7, 9, 4}, {9, 4, 7}}));
}

TEST(PlaceRoundRobinTest, FirstShiftsTheStart) {
  EXPECT_EQ(PlaceRoundRobin({1, 2, 3}, 3, 1, 1), (std::vector<std::vector<NodeId>>{{2}, {3}, {1}}));
  EXPECT_EQ(PlaceRoundRobin({1, 2, 3}, 2, 2, 5), (std::vector<std::vector<NodeId>>{{3, 1}, {1, 2}}));
  EXPECT_EQ(PlaceRoundRobin({1, 2, 3}, 1, 1, SIZE_MAX), PlaceRoundRobin({1, 2, 3}, 1, 1, SIZE_MAX % 3));
}

TEST(PlaceRoundRobinTest, CopiesOfAShardAreOnDistinctNodes) {
  const std::vector<NodeId> nodes = {1, 2, 3, 4, 5};
  for (int32_t factor = 1; factor <= 5; factor++) {
    for (const std::vector<NodeId>& shard : PlaceRoundRobin(nodes, 32, factor, 3)) {
      ASSERT_EQ(shard.size(), static_cast<size_t>(factor));
      std::vector<NodeId> sorted = shard;
      std::sort(sorted.begin(), sorted.end());
      EXPECT_EQ(std::adjacent_find(sorted.begin(), sorted.end()), sorted.end());
    }
  }
}

TEST(PlaceRoundRobinTest, RejectsABadReplicationFactor) {
  const std::string hint = "Use a replication factor between 1 and the number of active nodes.";
  ExpectError(
      [] {
        PlaceRoundRobin({1, 2}, 4, 3);
      },
      {"22023", "replication_factor 3 is out of range for 2 active node(s)", "", hint});
  ExpectError(
      [] {
        PlaceRoundRobin({1, 2}, 4, 0);
      },
      {"22023", "replication_factor 0 is out of range for 2 active node(s)", "", hint});
  ExpectError(
      [] {
        PlaceRoundRobin({1, 2}, 4, -1);
      },
      {"22023", "replication_factor -1 is out of range for 2 active node(s)", "", hint});
  ExpectError([] { PlaceRoundRobin({}, 4, 1); },
              {"22023", "replication_factor 1 is out of range for 0 active node(s)", "", hint});
}

TEST(PlaceRoundRobinTest, RejectsABadShardCount) {
  ExpectError(
      [] {
        PlaceRoundRobin({1, 2}, 0, 1);
      },
      {"22023", "shard_count 0 is out of range", "", "Use a shard count between 1 and 4096."});
}

}  // namespace
}  // namespace phantom::sharding
