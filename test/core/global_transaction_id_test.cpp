#include "core/transactions/global_transaction_id.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>

namespace phantom::transactions {
namespace {

TEST(GlobalTransactionIdTest, RoundTrips) {
  for (const GlobalTransactionId gid :
       {GlobalTransactionId{1, 750, 2}, GlobalTransactionId{0, 0, 0},
        GlobalTransactionId{std::numeric_limits<uint32_t>::max(), std::numeric_limits<uint64_t>::max(),
                            std::numeric_limits<uint32_t>::max()}}) {
    const std::string text = FormatGid(gid);
    EXPECT_LE(text.size(), 200u) << text;  // Postgres's GIDSIZE
    EXPECT_EQ(ParseGid(text), gid) << text;
  }
  EXPECT_EQ(FormatGid({3, 123456789012, 7}), "phantom_3_123456789012_7");
}

TEST(GlobalTransactionIdTest, RejectsForeignAndMalformedGids) {
  for (const char* text :
       {"", "phantom_", "phantom_1_2", "phantom_1_2_", "phantom__2_3", "phantom_1_2_3_4", "phantom_1_2_x",
        "phantom_01_2_3", "phantom_-1_2_3", "phantom_+1_2_3", "phantom_4294967296_2_3",
        "phantom_1_18446744073709551616_3", "citus_1_2_3", "Phantom_1_2_3", "my own transaction"})
    EXPECT_EQ(ParseGid(text), std::nullopt) << text;
  EXPECT_EQ(ParseGid("phantom_1_0_3"), (GlobalTransactionId{1, 0, 3}));
}

TEST(GlobalTransactionIdTest, PatternEscapesUnderscores) { EXPECT_EQ(GidPattern(1), "phantom\\_1\\_%"); }

TEST(GlobalTransactionIdTest, CommitRecordDecidesThenRunningWaits) {
  EXPECT_EQ(Resolve(false, true), Resolution::kCommit);
  // A record is only visible once the transaction committed, but recovery
  // may look while the committing backend still shows as running.
  EXPECT_EQ(Resolve(true, true), Resolution::kCommit);
  EXPECT_EQ(Resolve(true, false), Resolution::kWait);
  EXPECT_EQ(Resolve(false, false), Resolution::kRollback);
}

}  // namespace
}  // namespace phantom::transactions
