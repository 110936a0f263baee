// Seed lists as users write them and discovery URLs return them.
#include "core/metadata/seeds.hpp"

#include <gtest/gtest.h>

#include "core/common/error.hpp"

namespace phantom::metadata {
namespace {

std::string SqlstateOf(auto&& fn) {
  try {
    fn();
  } catch (const Error& error) {
    return error.Sqlstate() + ": " + error.Message();
  }
  return "no error";
}

TEST(SeedsTest, ParsesACommaSeparatedList) {
  EXPECT_EQ(ParseSeeds(" 10.0.0.1:5432 , db-2.internal:6432,"),
            (std::vector<SeedAddress>{{"10.0.0.1", 5432}, {"db-2.internal", 6432}}));
  EXPECT_TRUE(ParseSeeds("").empty());
  EXPECT_TRUE(ParseSeeds(" , ").empty());
}

TEST(SeedsTest, NamesTheBadEntry) {
  EXPECT_EQ(SqlstateOf([] { ParseSeeds("a:1, db2"); }), "22023: seed \"db2\" has no port");
  EXPECT_EQ(SqlstateOf([] { ParseSeeds("db:0"); }), "22023: seed \"db:0\" has an invalid port");
  EXPECT_EQ(SqlstateOf([] { ParseSeeds("db:65536"); }), "22023: seed \"db:65536\" has an invalid port");
  EXPECT_EQ(SqlstateOf([] { ParseSeeds("db:54x"); }), "22023: seed \"db:54x\" has an invalid port");
  EXPECT_EQ(SqlstateOf([] { ParseSeeds(":5432"); }), "22023: seed \":5432\" has no host");
}

TEST(SeedsTest, ParsesAJsonArrayOfAddresses) {
  EXPECT_EQ(ParseSeedsJson(" [\"127.0.0.1:5432\", \"node-b:5433\"]\n"),
            (std::vector<SeedAddress>{{"127.0.0.1", 5432}, {"node-b", 5433}}));
  EXPECT_TRUE(ParseSeedsJson("[ ]").empty());
}

TEST(SeedsTest, RefusesOtherJsonWithWhereAndWhat) {
  EXPECT_EQ(SqlstateOf([] { ParseSeedsJson("{\"seeds\": []}"); }),
            "22P02: invalid seed list from the discovery URL: expected '[' at byte 0");
  EXPECT_EQ(SqlstateOf([] { ParseSeedsJson("[\"a:1\" \"b:2\"]"); }),
            "22P02: invalid seed list from the discovery URL: expected ',' or ']' at byte 7");
  EXPECT_EQ(SqlstateOf([] { ParseSeedsJson("[5432]"); }),
            "22P02: invalid seed list from the discovery URL: expected a string at byte 1");
  EXPECT_EQ(SqlstateOf([] { ParseSeedsJson("[\"a:1\""); }),
            "22P02: invalid seed list from the discovery URL: expected ',' or ']' at byte 6");
  EXPECT_EQ(SqlstateOf([] { ParseSeedsJson("[\"abc"); }),
            "22P02: invalid seed list from the discovery URL: unterminated string at byte 1");
  EXPECT_EQ(SqlstateOf([] { ParseSeedsJson("[\"db\"]"); }),
            "22P02: invalid seed list from the discovery URL: seed \"db\" has no port at byte 2");
  EXPECT_EQ(SqlstateOf([] { ParseSeedsJson("[] x"); }),
            "22P02: invalid seed list from the discovery URL: unexpected text after the array at byte 3");
}

}  // namespace
}  // namespace phantom::metadata
