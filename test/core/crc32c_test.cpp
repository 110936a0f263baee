#include "core/common/crc32c.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace phantom {
namespace {

TEST(Crc32cTest, StandardCheckValue) { EXPECT_EQ(Crc32c("123456789"), 0xE3069283u); }

TEST(Crc32cTest, EmptyInput) { EXPECT_EQ(Crc32c(""), 0x00000000u); }

// The iSCSI test vectors of RFC 3720, appendix B.4.
TEST(Crc32cTest, Rfc3720Vectors) {
  EXPECT_EQ(Crc32c(std::string(32, '\x00')), 0x8A9136AAu);
  EXPECT_EQ(Crc32c(std::string(32, '\xFF')), 0x62A8AB43u);
  std::string ascending;
  std::string descending;
  for (int i = 0; i < 32; i++) {
    ascending.push_back(static_cast<char>(i));
    descending.push_back(static_cast<char>(31 - i));
  }
  EXPECT_EQ(Crc32c(ascending), 0x46DD794Eu);
  EXPECT_EQ(Crc32c(descending), 0x113FDB5Cu);
}

TEST(Crc32cTest, EmbeddedNulBytesCount) {
  using namespace std::string_literals;
  EXPECT_NE(Crc32c("a\0b"s), Crc32c("ab"));
  EXPECT_NE(Crc32c("\0"s), Crc32c(""));
}

// Flipping any single bit changes the checksum, and no two flips give the
// same checksum (so any two-bit error in a short frame is caught too).
TEST(Crc32cTest, EverySingleBitFlipChangesTheValue) {
  for (const std::string& original : {std::string("123456789"), std::string(64, '\x5A'), std::string(1, '\0')}) {
    const uint32_t crc = Crc32c(original);
    std::set<uint32_t> seen{crc};
    for (size_t byte = 0; byte < original.size(); byte++) {
      for (int bit = 0; bit < 8; bit++) {
        std::string flipped = original;
        flipped[byte] = static_cast<char>(flipped[byte] ^ (1 << bit));
        EXPECT_TRUE(seen.insert(Crc32c(flipped)).second) << "byte " << byte << " bit " << bit;
      }
    }
    EXPECT_EQ(seen.size(), 1 + 8 * original.size());
  }
}

TEST(Crc32cTest, DependsOnOrderAndLength) {
  EXPECT_NE(Crc32c("ab"), Crc32c("ba"));
  EXPECT_NE(Crc32c("a"), Crc32c("aa"));
  EXPECT_EQ(Crc32c("a"), 0xC1D04330u);
}

}  // namespace
}  // namespace phantom
