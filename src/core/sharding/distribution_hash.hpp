// The hash that places a distribution value in a shard. It is part of the
// on-disk format: the same value must land in the same shard on every node,
// in every release, so the algorithm and the canonical byte form of each type
// are fixed and documented in docs/distributed-tables.md.
//
// A value is first turned into canonical bytes (values that compare equal
// under the type's default equality give the same bytes), then hashed with
// 32-bit MurmurHash3 (x86_32, seed 0) and read as a signed int32.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace phantom::sharding {

// MurmurHash3_x86_32 of the bytes with the given seed.
uint32_t Murmur3_32(std::string_view bytes, uint32_t seed = 0);

// The hash of canonical bytes, as a point of the signed 32-bit hash space.
int32_t DistributionHash(std::string_view canonical);

// Canonical forms. Integers of every width share one form, so 42::int2 and
// 42::int8 hash alike (colocation still requires the same column type).
std::string CanonicalInteger(int64_t value);                      // 8 bytes little-endian
std::string CanonicalText(std::string_view value);                // the bytes as stored (deterministic collations only)
std::string CanonicalBpchar(std::string_view value);              // trailing spaces are insignificant for char(n)
std::string CanonicalBool(bool value);                            // one byte 0/1
std::string CanonicalUuid(const std::array<uint8_t, 16>& value);  // the 16 bytes
std::string CanonicalDate(int32_t days);                          // days since 2000-01-01, 4 bytes little-endian
std::string CanonicalTimestamp(int64_t microseconds);             // since 2000-01-01 (UTC for timestamptz), 8 bytes LE
// numeric from its text output (e.g. "-12.500", "NaN", "Infinity"): equal
// numerics differ only in trailing fractional zeros and the sign of zero,
// which are normalised away. Throws phantom::Error (22P02) on malformed text.
std::string CanonicalNumeric(std::string_view text);

}  // namespace phantom::sharding
