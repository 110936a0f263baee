// From a Postgres value of a distribution column to its point in the hash
// space (src/core/sharding/distribution_hash.hpp holds the canonical forms).
#pragma once

#include <cstdint>
#include <set>
#include <string>

#include "pg/postgres.hpp"

namespace phantom::pg {

// Throws 0A000 naming the column and its type, with a HINT listing the
// supported types, when values of `type` cannot be placed stably (floats,
// nondeterministic collations, arrays, composite types, ...).
void CheckDistributionType(Oid type, Oid collation, const std::string& column);

// The hash of a non-null value of `type` (a type CheckDistributionType accepts,
// or a domain over one, or another integer type when the column is an integer).
int32_t DistributionHashOf(Datum value, Oid type);

// Whether `column = value` under opno holds only for values with the
// column's hash: the type's own equality, or integer equality across widths
// (integers of every width share one canonical form).
bool IsDistributionEquality(Oid opno, Oid column_type, Oid value_type);

// Adds to `shards` the index (of shard_count) of the shard holding value;
// for an array (an IN list), of every non-null element.
void AddShardsOfPin(Datum value, Oid type, int32_t shard_count, std::set<int32_t>& shards);

}  // namespace phantom::pg
