#include "core/sharding/distribution_hash.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "core/common/error.hpp"
#include "expect_error.hpp"

namespace phantom::sharding {
namespace {

using namespace std::string_literals;

// Published MurmurHash3_x86_32 vectors, also checked against an independent
// implementation of the algorithm.
TEST(Murmur3Test, KnownVectors) {
  EXPECT_EQ(Murmur3_32("", 0), 0u);
  EXPECT_EQ(Murmur3_32("", 1), 0x514e28b7u);
  EXPECT_EQ(Murmur3_32("", 0xffffffff), 0x81f16f39u);
  EXPECT_EQ(Murmur3_32("\0\0\0\0"s, 0), 0x2362f9deu);
  EXPECT_EQ(Murmur3_32("hello", 0), 0x248bfa47u);
  EXPECT_EQ(Murmur3_32("Hello, world!", 1234), 0xfaf6cdb3u);
  EXPECT_EQ(Murmur3_32("The quick brown fox jumps over the lazy dog", 0), 0x2e4ff723u);
}

// One, two and three tail bytes after zero or more whole blocks.
TEST(Murmur3Test, EveryTailLength) {
  EXPECT_EQ(Murmur3_32("a"), 0x3c2569b2u);
  EXPECT_EQ(Murmur3_32("ab"), 0x9bbfd75fu);
  EXPECT_EQ(Murmur3_32("abc"), 0xb3dd93fau);
  EXPECT_EQ(Murmur3_32("abcd"), 0x43ed676au);
}

TEST(Murmur3Test, DefaultSeedIsZero) { EXPECT_EQ(Murmur3_32("hello"), Murmur3_32("hello", 0)); }

TEST(Murmur3Test, HighBytesAreUnsigned) {
  // A signed-char implementation would differ on bytes >= 0x80.
  EXPECT_NE(Murmur3_32("\x80"), Murmur3_32("\x00"s));
  EXPECT_EQ(DistributionHash("\xC3\xBC"
                             "ber"),
            -1610176724);
}

TEST(DistributionHashTest, IsMurmur3ReadAsSigned) {
  EXPECT_EQ(DistributionHash(""), 0);
  EXPECT_EQ(DistributionHash("hello"), 0x248bfa47);
  EXPECT_EQ(DistributionHash("\0\0\0\0"s), 0x2362f9de);
  EXPECT_EQ(DistributionHash(CanonicalInteger(INT64_MAX)),
            static_cast<int32_t>(Murmur3_32(CanonicalInteger(INT64_MAX))));
  EXPECT_LT(DistributionHash(CanonicalInteger(INT64_MAX)), 0);
}

TEST(CanonicalTest, IntegersAreEightBytesLittleEndian) {
  EXPECT_EQ(CanonicalInteger(0), std::string(8, '\0'));
  EXPECT_EQ(CanonicalInteger(1), "\x01\0\0\0\0\0\0\0"s);
  EXPECT_EQ(CanonicalInteger(0x0102030405060708), "\x08\x07\x06\x05\x04\x03\x02\x01"s);
  EXPECT_EQ(CanonicalInteger(-1), std::string(8, '\xff'));
  EXPECT_EQ(CanonicalInteger(INT64_MIN), "\0\0\0\0\0\0\0\x80"s);
}

// int2, int4 and int8 values widen to one form, so equal values hash alike.
TEST(CanonicalTest, IntegerWidthsAgree) {
  const int16_t small = -12345;
  const int32_t medium = -12345;
  const int64_t large = -12345;
  EXPECT_EQ(CanonicalInteger(small), CanonicalInteger(large));
  EXPECT_EQ(CanonicalInteger(medium), CanonicalInteger(large));
  EXPECT_EQ(CanonicalInteger(INT16_MAX), CanonicalInteger(int64_t{32767}));
  EXPECT_EQ(CanonicalInteger(INT32_MIN), CanonicalInteger(int64_t{-2147483648LL}));
}

TEST(CanonicalTest, TextIsItsBytes) {
  EXPECT_EQ(CanonicalText(""), "");
  EXPECT_EQ(CanonicalText("abc "), "abc ");
  EXPECT_EQ(CanonicalText("a\0b"s), "a\0b"s);
  EXPECT_NE(CanonicalText("abc"), CanonicalText("abc "));
}

TEST(CanonicalTest, BpcharIgnoresTrailingSpaces) {
  EXPECT_EQ(CanonicalBpchar("abc"), "abc");
  EXPECT_EQ(CanonicalBpchar("abc   "), "abc");
  EXPECT_EQ(CanonicalBpchar("  abc "), "  abc");
  EXPECT_EQ(CanonicalBpchar("a b  "), "a b");
  EXPECT_EQ(CanonicalBpchar("   "), "");
  EXPECT_EQ(CanonicalBpchar(""), "");
  EXPECT_EQ(CanonicalBpchar("abc\t"), "abc\t");  // only spaces pad a char(n)
  EXPECT_EQ(DistributionHash(CanonicalBpchar("x ")), DistributionHash(CanonicalBpchar("x    ")));
}

TEST(CanonicalTest, BoolUuidDateTimestamp) {
  EXPECT_EQ(CanonicalBool(false), "\0"s);
  EXPECT_EQ(CanonicalBool(true), "\x01"s);
  std::array<uint8_t, 16> uuid{};
  for (size_t i = 0; i < uuid.size(); i++) uuid[i] = static_cast<uint8_t>(0xf0 + i);
  EXPECT_EQ(CanonicalUuid(uuid), "\xf0\xf1\xf2\xf3\xf4\xf5\xf6\xf7\xf8\xf9\xfa\xfb\xfc\xfd\xfe\xff");
  EXPECT_EQ(CanonicalDate(0), "\0\0\0\0"s);
  EXPECT_EQ(CanonicalDate(-1), "\xff\xff\xff\xff");
  EXPECT_EQ(CanonicalDate(0x01020304), "\x04\x03\x02\x01");
  EXPECT_EQ(CanonicalTimestamp(0x0102030405060708), "\x08\x07\x06\x05\x04\x03\x02\x01");
  EXPECT_EQ(CanonicalTimestamp(-2), "\xfe\xff\xff\xff\xff\xff\xff\xff");
}

TEST(CanonicalNumericTest, NormalisesEqualValues) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"0", "0"},
      {"-0", "0"},
      {"0.000", "0"},
      {"-0.000", "0"},
      {"-0.00", "0"},
      {"00", "0"},
      {"12", "12"},
      {"12.", "12"},
      {"12.0", "12"},
      {"12.500", "12.5"},
      {"0012.3400", "12.34"},
      {"-0012.3400", "-12.34"},
      {"0.5", "0.5"},
      {".5", "0.5"},
      {"-.50", "-0.5"},
      {"100", "100"},
      {"100.001", "100.001"},
      {"-100.0010", "-100.001"},
      {"1000000000000000000000000000000.0", "1000000000000000000000000000000"},
      {"0.000000000000000000000000000001", "0.000000000000000000000000000001"},
      {"NaN", "NaN"},
      {"Infinity", "Infinity"},
      {"-Infinity", "-Infinity"},
  };
  for (const auto& [text, canonical] : cases) EXPECT_EQ(CanonicalNumeric(text), canonical) << text;
  EXPECT_EQ(DistributionHash(CanonicalNumeric("1.10")), DistributionHash(CanonicalNumeric("1.1")));
  EXPECT_NE(CanonicalNumeric("1.1"), CanonicalNumeric("11"));
}

TEST(CanonicalNumericTest, RejectsMalformedText) {
  for (const char* bad : {"", "-", ".", "-.", "+1", "1e5", "1E5", "1.2.3", " 1", "1 ", "--1", "0x10", "nan", "inf",
                          "+Infinity", "1,5", "1-", "12a", "\xC3\xBC"}) {
    ExpectError([&] { CanonicalNumeric(bad); },
                {"22P02", std::string("invalid numeric distribution value \"") + bad + "\""});
  }
}

// The hashes below place rows on disk: a change to the algorithm or to a
// canonical form moves existing rows to the wrong shard, so these values
// must never change.
TEST(DistributionHashTest, GoldenValues) {
  std::array<uint8_t, 16> uuid{};
  for (size_t i = 0; i < uuid.size(); i++) uuid[i] = static_cast<uint8_t>(i);
  const std::vector<std::pair<std::string, int32_t>> golden = {
      {CanonicalInteger(0), 1669671676},
      {CanonicalInteger(1), 1392991556},
      {CanonicalInteger(42), 1871679806},
      {CanonicalInteger(-1), 1651860712},
      {CanonicalInteger(INT64_MAX), -2106506049},
      {CanonicalInteger(INT64_MIN), 1366273829},
      {CanonicalText(""), 0},
      {CanonicalText("hello"), 613153351},
      {CanonicalText("\xC3\xBC"
                     "ber"),
       -1610176724},
      {CanonicalBpchar("abc   "), -1277324294},
      {CanonicalBool(false), 1364076727},
      {CanonicalBool(true), -463810133},
      {CanonicalUuid(uuid), 420836317},
      {CanonicalDate(0), 593689054},
      {CanonicalDate(-1), 1982413648},
      {CanonicalDate(9000), 1436358431},
      {CanonicalTimestamp(0), 1669671676},
      {CanonicalTimestamp(-1), 1651860712},
      {CanonicalTimestamp(1234567890123456), 1972926067},
      {CanonicalNumeric("12.500"), 1999661935},
      {CanonicalNumeric("-0.00"), -764297089},
      {CanonicalNumeric("NaN"), -160668180},
  };
  for (size_t i = 0; i < golden.size(); i++)
    EXPECT_EQ(DistributionHash(golden[i].first), golden[i].second) << "row " << i;
}

}  // namespace
}  // namespace phantom::sharding
