#include "core/sharding/colocation.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/common/error.hpp"
#include "expect_error.hpp"

namespace phantom::sharding {
namespace {

using metadata::ColocationRecord;
using metadata::DistributionMethod;
using metadata::TableRecord;

const std::vector<ColocationRecord> kGroups = {
    {1, 32, "bigint", 1}, {2, 16, "bigint", 1}, {3, 32, "text", 1},
    {4, 32, "bigint", 2}, {5, 32, "bigint", 1},  // like 1: "default" must pick 1
};

ColocationRequest Request(const std::string& colocate_with, int32_t shard_count, const std::string& type,
                          int32_t replication_factor = 1, const TableRecord* target = nullptr) {
  ColocationRequest request;
  request.colocate_with = colocate_with;
  request.shard_count = shard_count;
  request.distribution_type = type;
  request.replication_factor = replication_factor;
  request.target = target;
  return request;
}

TableRecord HashTable(metadata::ColocationId group) {
  TableRecord table;
  table.table_id = 10;
  table.schema_name = "public";
  table.table_name = "orders";
  table.method = DistributionMethod::kHash;
  table.distribution_column = "id";
  table.colocation_id = group;
  return table;
}

void ExpectJoins(const ColocationChoice& choice, metadata::ColocationId group) {
  EXPECT_EQ(choice.existing, group);
  EXPECT_EQ(choice.new_group, ColocationRecord{});
}

void ExpectFounds(const ColocationChoice& choice, const ColocationRecord& group) {
  EXPECT_EQ(choice.existing, 0);
  EXPECT_EQ(choice.new_group, group);
}

TEST(ChooseColocationTest, DefaultJoinsTheLowestMatchingGroup) {
  ExpectJoins(ChooseColocation(kGroups, Request("default", 32, "bigint"), 6), 1);
  ExpectJoins(ChooseColocation(kGroups, Request("default", 16, "bigint"), 6), 2);
  ExpectJoins(ChooseColocation(kGroups, Request("default", 32, "text"), 6), 3);
  ExpectJoins(ChooseColocation(kGroups, Request("default", 32, "bigint", 2), 6), 4);
}

TEST(ChooseColocationTest, DefaultDoesNotRelyOnTheListOrder) {
  const std::vector<ColocationRecord> reversed(kGroups.rbegin(), kGroups.rend());
  ExpectJoins(ChooseColocation(reversed, Request("default", 32, "bigint"), 6), 1);
}

TEST(ChooseColocationTest, DefaultFoundsAGroupWhenNoneMatches) {
  ExpectFounds(ChooseColocation(kGroups, Request("default", 8, "bigint"), 6), {6, 8, "bigint", 1});
  ExpectFounds(ChooseColocation(kGroups, Request("default", 32, "integer"), 6), {6, 32, "integer", 1});
  ExpectFounds(ChooseColocation(kGroups, Request("default", 16, "bigint", 3), 9), {9, 16, "bigint", 3});
  ExpectFounds(ChooseColocation({}, Request("default", 32, "bigint"), 1), {1, 32, "bigint", 1});
}

TEST(ChooseColocationTest, NoneAlwaysFoundsAGroup) {
  ExpectFounds(ChooseColocation(kGroups, Request("none", 32, "bigint"), 6), {6, 32, "bigint", 1});
  ExpectFounds(ChooseColocation({}, Request("none", 4, "uuid", 2), 1), {1, 4, "uuid", 2});
}

TEST(ChooseColocationTest, KeywordsAreCaseSensitive) {
  // "Default" names a table, which the glue did not find.
  ExpectError([] { ChooseColocation(kGroups, Request("Default", 32, "bigint"), 6); },
              {"42P01", "table \"Default\" is not distributed", "",
               "Distribute it first with phantom_create_distributed_table, or use colocate_with => 'default' or "
               "'none'."});
  ExpectError([] { ChooseColocation(kGroups, Request("NONE", 32, "bigint"), 6); },
              {"42P01", "table \"NONE\" is not distributed", "",
               "Distribute it first with phantom_create_distributed_table, or use colocate_with => 'default' or "
               "'none'."});
}

TEST(ChooseColocationTest, ATableJoinsItsGroup) {
  const TableRecord orders = HashTable(2);
  ExpectJoins(ChooseColocation(kGroups, Request("orders", 16, "bigint", 1, &orders), 6), 2);
  // Even when a lower group would also match, as "default" would choose.
  const TableRecord other = HashTable(5);
  ExpectJoins(ChooseColocation(kGroups, Request("public.other", 32, "bigint", 1, &other), 6), 5);
}

TEST(ChooseColocationTest, ATableThatIsNotDistributed) {
  ExpectError([] { ChooseColocation(kGroups, Request("public.items", 32, "bigint"), 6); },
              {"42P01", "table \"public.items\" is not distributed", "",
               "Distribute it first with phantom_create_distributed_table, or use colocate_with => 'default' or "
               "'none'."});
}

TEST(ChooseColocationTest, AReferenceTable) {
  TableRecord countries = HashTable(0);
  countries.method = DistributionMethod::kReference;
  countries.distribution_column.clear();
  ExpectError([&] { ChooseColocation(kGroups, Request("countries", 32, "bigint", 1, &countries), 6); },
              {"22023", "cannot colocate with reference table \"countries\"", "",
               "Only hash-distributed tables form colocation groups; use colocate_with => 'default' or 'none'."});
}

TEST(ChooseColocationTest, ShardCountMismatch) {
  const TableRecord orders = HashTable(2);
  ExpectError([&] { ChooseColocation(kGroups, Request("orders", 32, "bigint", 1, &orders), 6); },
              {"22023", "cannot colocate with \"orders\": it has 16 shards, not 32", "",
               "Use shard_count => 16, or colocate_with => 'none'."});
}

TEST(ChooseColocationTest, TypeMismatch) {
  const TableRecord orders = HashTable(1);
  ExpectError([&] { ChooseColocation(kGroups, Request("orders", 32, "text", 1, &orders), 6); },
              {"22023", "cannot colocate with \"orders\": its distribution column is of type bigint, not text", "",
               "Colocated tables need distribution columns of the same type; use colocate_with => 'none' for a new "
               "group."});
}

TEST(ChooseColocationTest, ReplicationFactorMismatch) {
  const TableRecord orders = HashTable(4);
  ExpectError([&] { ChooseColocation(kGroups, Request("orders", 32, "bigint", 1, &orders), 6); },
              {"22023", "cannot colocate with \"orders\": its replication factor is 2, not 1", "",
               "Use replication_factor => 2, or colocate_with => 'none'."});
}

TEST(ChooseColocationTest, AShardCountMismatchIsNamedBeforeAType) {
  const TableRecord orders = HashTable(2);
  ExpectError([&] { ChooseColocation(kGroups, Request("orders", 32, "text", 2, &orders), 6); },
              {"22023", "cannot colocate with \"orders\": it has 16 shards, not 32", "",
               "Use shard_count => 16, or colocate_with => 'none'."});
}

TEST(ChooseColocationTest, AMissingGroupIsAnInternalError) {
  const TableRecord orders = HashTable(9);
  ExpectError([&] { ChooseColocation(kGroups, Request("orders", 32, "bigint", 1, &orders), 6); },
              {"XX000", "colocation group 9 of table \"orders\" is missing from the catalog"});
}

}  // namespace
}  // namespace phantom::sharding
