// ContiguousRuns: every item in exactly one run, in order, lengths within one.
#include "core/sharding/contiguous_runs.hpp"

#include <gtest/gtest.h>

namespace phantom::sharding {
namespace {

using Runs = std::vector<std::pair<size_t, size_t>>;

TEST(ContiguousRunsTest, SplitsIntoNearEqualRunsInOrder) {
  EXPECT_EQ(ContiguousRuns(8, 3), (Runs{{0, 2}, {2, 5}, {5, 8}}));
  EXPECT_EQ(ContiguousRuns(5, 1), (Runs{{0, 5}}));
  EXPECT_EQ(ContiguousRuns(4, 4), (Runs{{0, 1}, {1, 2}, {2, 3}, {3, 4}}));
}

TEST(ContiguousRunsTest, NeverMakesEmptyRuns) {
  EXPECT_EQ(ContiguousRuns(2, 5), (Runs{{0, 1}, {1, 2}}));
  EXPECT_EQ(ContiguousRuns(0, 3), Runs{});
  EXPECT_EQ(ContiguousRuns(3, 0), (Runs{{0, 3}}));
}

TEST(ContiguousRunsTest, CoversEveryItemOnceForAllShapes) {
  for (size_t count = 0; count <= 40; count++) {
    for (size_t parts = 0; parts <= 12; parts++) {
      const Runs runs = ContiguousRuns(count, parts);
      size_t next = 0;
      size_t shortest = count;
      size_t longest = 0;
      for (const auto& [begin, end] : runs) {
        ASSERT_EQ(begin, next) << count << " items in " << parts << " parts";
        ASSERT_LT(begin, end);
        shortest = std::min(shortest, end - begin);
        longest = std::max(longest, end - begin);
        next = end;
      }
      EXPECT_EQ(next, count);
      if (!runs.empty()) {
        EXPECT_LE(longest - shortest, 1u);
      }
    }
  }
}

}  // namespace
}  // namespace phantom::sharding
