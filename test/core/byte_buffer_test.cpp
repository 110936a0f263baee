#include "core/common/byte_buffer.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "allocation_probe.hpp"
#include "core/common/error.hpp"

namespace phantom {
namespace {

using namespace std::string_literals;

void ExpectCorrupted(const std::function<void()>& read, const std::string& problem_prefix) {
  try {
    read();
    ADD_FAILURE() << "read succeeded; expected \"" << problem_prefix << "...\"";
  } catch (const Error& error) {
    EXPECT_EQ(error.Sqlstate(), sqlstate::kDataCorrupted);
    EXPECT_EQ(error.Message().rfind("test data is corrupted: " + problem_prefix, 0), 0u) << error.Message();
  }
}

TEST(ByteWriterTest, WritesLittleEndian) {
  ByteWriter out;
  out.PutU8(0xAB);
  out.PutU32(0x01020304);
  out.PutI32(-2);
  out.PutI64(0x1122334455667788);
  out.PutBool(true);
  out.PutBool(false);
  EXPECT_EQ(out.Take(), "\xAB\x04\x03\x02\x01\xFE\xFF\xFF\xFF\x88\x77\x66\x55\x44\x33\x22\x11\x01\x00"s);
}

TEST(ByteWriterTest, StringHasU32LengthPrefix) {
  ByteWriter out;
  out.PutString("hi");
  out.PutString("");
  out.PutBytes("raw");
  EXPECT_EQ(out.Size(), 4u + 2u + 4u + 3u);
  EXPECT_EQ(out.Take(), "\x02\x00\x00\x00hi\x00\x00\x00\x00raw"s);
}

TEST(ByteReaderTest, RoundTripsEveryType) {
  ByteWriter out;
  out.PutU8(255);
  out.PutU32(UINT32_MAX);
  out.PutI32(INT32_MIN);
  out.PutI32(INT32_MAX);
  out.PutU64(UINT64_MAX);
  out.PutI64(INT64_MIN);
  out.PutI64(-1);
  out.PutBool(true);
  out.PutBool(false);
  out.PutString("h\0st"s);
  out.PutString("");
  out.PutBytes("xyz");
  const std::string bytes = out.Take();

  ByteReader in(bytes, "test data");
  EXPECT_EQ(in.GetU8(), 255);
  EXPECT_EQ(in.GetU32(), UINT32_MAX);
  EXPECT_EQ(in.GetI32(), INT32_MIN);
  EXPECT_EQ(in.GetI32(), INT32_MAX);
  EXPECT_EQ(in.GetU64(), UINT64_MAX);
  EXPECT_EQ(in.GetI64(), INT64_MIN);
  EXPECT_EQ(in.GetI64(), -1);
  EXPECT_TRUE(in.GetBool());
  EXPECT_FALSE(in.GetBool());
  EXPECT_EQ(in.GetString(), "h\0st"s);
  EXPECT_EQ(in.GetString(), "");
  EXPECT_EQ(in.Remaining(), 3u);
  EXPECT_EQ(in.GetBytes(3), "xyz");
  EXPECT_EQ(in.Remaining(), 0u);
  EXPECT_NO_THROW(in.ExpectEnd());
}

TEST(ByteReaderTest, EveryTruncationIsRejected) {
  ByteWriter out;
  out.PutU8(1);
  out.PutU32(2);
  out.PutI64(3);
  out.PutBool(true);
  out.PutString("four");
  const std::string bytes = out.Take();
  for (size_t length = 0; length < bytes.size(); length++) {
    ByteReader in(std::string_view(bytes).substr(0, length), "test data");
    ExpectCorrupted(
        [&] {
          in.GetU8();
          in.GetU32();
          in.GetI64();
          in.GetBool();
          in.GetString();
        },
        "needs ");
  }
}

TEST(ByteReaderTest, ShortReadNamesOffsetAndSizes) {
  const std::string bytes = "\x01\x02"s;  // the reader only views it
  ByteReader in(bytes, "test data");
  in.GetU8();
  ExpectCorrupted([&] { in.GetU32(); }, "needs 4 more byte(s) at offset 1, has 1");
}

TEST(ByteReaderTest, FailedReadConsumesNothing) {
  const std::string bytes = "\x07\x00"s;  // the reader only views it
  ByteReader in(bytes, "test data");
  ExpectCorrupted([&] { in.GetU32(); }, "needs ");
  EXPECT_EQ(in.Remaining(), 2u);
  EXPECT_EQ(in.GetU8(), 7);
}

TEST(ByteReaderTest, BooleanMustBeZeroOrOne) {
  const std::string bytes = "\x02"s;  // the reader only views it
  ByteReader in(bytes, "test data");
  ExpectCorrupted([&] { in.GetBool(); }, "boolean byte 2 at offset 0");
}

TEST(ByteReaderTest, HugeStringLengthIsRejectedBeforeAllocating) {
  ByteWriter out;
  out.PutU32(0xFFFFFFF0);
  out.PutBytes("abc");
  const std::string bytes = out.Take();
  AllocationProbe probe;
  ByteReader in(bytes, "test data");
  ExpectCorrupted([&] { in.GetString(); }, "needs 4294967280 more byte(s) at offset 4, has 3");
  EXPECT_LT(probe.LargestBytes(), 1024u);
}

TEST(ByteReaderTest, GetBytesBeyondTheEndIsRejected) {
  ByteReader in("abc", "test data");
  ExpectCorrupted([&] { in.GetBytes(SIZE_MAX); }, "needs ");
  EXPECT_EQ(in.GetBytes(3), "abc");
}

TEST(ByteReaderTest, ExpectEndRejectsTrailingBytes) {
  ByteReader in("ab", "test data");
  in.GetU8();
  ExpectCorrupted([&] { in.ExpectEnd(); }, "1 unexpected trailing byte(s)");
}

TEST(ByteReaderTest, FailNamesWhatIsRead) {
  ByteReader in("", "test data");
  ExpectCorrupted([&] { in.Fail("custom problem"); }, "custom problem");
}

TEST(ByteWriterTest, U32AndU64AreLittleEndian) {
  ByteWriter out;
  out.PutU32(0xE3069283);
  EXPECT_EQ(out.Bytes(), "\x83\x92\x06\xE3"s);
  out.PutU64(0x0102030405060708);
  EXPECT_EQ(out.Take(), "\x83\x92\x06\xE3\x08\x07\x06\x05\x04\x03\x02\x01"s);
}

// Each getter, given every length shorter than it needs, names exactly what
// is missing.
TEST(ByteReaderTest, EachGetterRejectsEveryShortLength) {
  const std::string bytes(8, '\x01');
  struct Getter {
    const char* name;
    size_t size;
    std::function<void(ByteReader&)> read;
  };
  const std::vector<Getter> getters = {
      {"GetU8", 1, [](ByteReader& in) { in.GetU8(); }},         {"GetBool", 1, [](ByteReader& in) { in.GetBool(); }},
      {"GetU32", 4, [](ByteReader& in) { in.GetU32(); }},       {"GetI32", 4, [](ByteReader& in) { in.GetI32(); }},
      {"GetU64", 8, [](ByteReader& in) { in.GetU64(); }},       {"GetI64", 8, [](ByteReader& in) { in.GetI64(); }},
      {"GetString", 4, [](ByteReader& in) { in.GetString(); }},
  };
  for (const Getter& getter : getters) {
    for (size_t length = 0; length < getter.size; length++) {
      SCOPED_TRACE(std::string(getter.name) + " on " + std::to_string(length) + " byte(s)");
      ByteReader in(std::string_view(bytes).substr(0, length), "test data");
      ExpectCorrupted([&] { getter.read(in); }, "needs " + std::to_string(getter.size) +
                                                    " more byte(s) at offset 0, has " + std::to_string(length));
      EXPECT_EQ(in.Remaining(), length);
    }
    ByteReader exact(std::string_view(bytes).substr(0, getter.size), "test data");
    if (std::string(getter.name) == "GetString") continue;  // its length says 0x01010101
    EXPECT_NO_THROW(getter.read(exact)) << getter.name;
    EXPECT_EQ(exact.Remaining(), 0u) << getter.name;
  }
}

// A string's body shorter than its length prefix, at every length.
TEST(ByteReaderTest, StringBodyTruncationIsRejected) {
  ByteWriter out;
  out.PutString("phantom");
  const std::string bytes = out.Take();
  for (size_t length = 4; length < bytes.size(); length++) {
    ByteReader in(std::string_view(bytes).substr(0, length), "test data");
    ExpectCorrupted([&] { in.GetString(); }, "needs 7 more byte(s) at offset 4, has " + std::to_string(length - 4));
  }
}

// The largest length a prefix can declare, in a 10-byte buffer.
TEST(ByteReaderTest, MaximalStringLengthIsRejectedBeforeAllocating) {
  const std::string bytes =
      "\xFF\xFF\xFF\xFF"
      "abcdef"s;
  ASSERT_EQ(bytes.size(), 10u);
  AllocationProbe probe;
  ByteReader in(bytes, "test data");
  ExpectCorrupted([&] { in.GetString(); }, "needs 4294967295 more byte(s) at offset 4, has 6");
  EXPECT_LT(probe.LargestBytes(), 1024u);
}

TEST(ByteReaderTest, BooleanRejectsEveryByteAboveOne) {
  for (int value = 2; value <= 255; value++) {
    const std::string bytes = "\x01"s + static_cast<char>(value);
    ByteReader in(bytes, "test data");
    EXPECT_TRUE(in.GetBool());
    ExpectCorrupted([&] { in.GetBool(); }, "boolean byte " + std::to_string(value) + " at offset 1");
  }
}

TEST(ByteReaderTest, ExpectEndCountsEveryTrailingByte) {
  ByteReader fresh("abc", "test data");
  ExpectCorrupted([&] { fresh.ExpectEnd(); }, "3 unexpected trailing byte(s)");
  ByteReader empty("", "test data");
  EXPECT_NO_THROW(empty.ExpectEnd());
}

TEST(ByteReaderTest, ErrorCarriesNoDetailOrHint) {
  ByteReader in("", "metadata command");
  try {
    in.GetU8();
    ADD_FAILURE() << "read past the end";
  } catch (const Error& error) {
    EXPECT_EQ(error.Sqlstate(), "XX001");
    EXPECT_EQ(error.Message(), "metadata command is corrupted: needs 1 more byte(s) at offset 0, has 0");
    EXPECT_EQ(error.Detail(), "");
    EXPECT_EQ(error.Hint(), "");
  }
}

}  // namespace
}  // namespace phantom
