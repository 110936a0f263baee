// See byte_buffer.hpp.
#include "core/common/byte_buffer.hpp"

#include <limits>

#include "core/common/error.hpp"
#include "core/common/pure.hpp"

namespace phantom {

void ByteWriter::PutU32(uint32_t value) {
  for (int shift = 0; shift < 32; shift += 8) PutU8(static_cast<uint8_t>(value >> shift));
}

void ByteWriter::PutU64(uint64_t value) {
  for (int shift = 0; shift < 64; shift += 8) PutU8(static_cast<uint8_t>(value >> shift));
}

void ByteWriter::PutString(std::string_view value) {
  // A length that does not fit the u32 prefix would be silently truncated.
  if (value.size() > std::numeric_limits<uint32_t>::max())
    throw Error(sqlstate::kInternalError, "cannot encode a string of " + std::to_string(value.size()) + " bytes");
  PutU32(static_cast<uint32_t>(value.size()));
  PutBytes(value);
}

void ByteReader::Fail(const std::string& problem) const {
  throw Error(sqlstate::kDataCorrupted, std::string(what_) + " is corrupted: " + problem);
}

void ByteReader::Need(size_t count) const {
  if (count > Remaining())
    Fail("needs " + std::to_string(count) + " more byte(s) at offset " + std::to_string(position_) + ", has " +
         std::to_string(Remaining()));
}

uint8_t ByteReader::GetU8() {
  Need(1);
  return static_cast<uint8_t>(bytes_[position_++]);
}

bool ByteReader::GetBool() {
  uint8_t value = GetU8();
  if (value > 1) Fail("boolean byte " + std::to_string(value) + " at offset " + std::to_string(position_ - 1));
  return value == 1;
}

uint32_t ByteReader::GetU32() {
  Need(4);
  uint32_t value = 0;
  for (int i = 0; i < 4; i++) value |= static_cast<uint32_t>(static_cast<uint8_t>(bytes_[position_++])) << (8 * i);
  return value;
}

uint64_t ByteReader::GetU64() {
  Need(8);
  uint64_t value = 0;
  for (int i = 0; i < 8; i++) value |= static_cast<uint64_t>(static_cast<uint8_t>(bytes_[position_++])) << (8 * i);
  return value;
}

std::string ByteReader::GetString() {
  uint32_t length = GetU32();
  return std::string(GetBytes(length));
}

std::string_view ByteReader::GetBytes(size_t count) {
  Need(count);
  std::string_view view = bytes_.substr(position_, count);
  position_ += count;
  return view;
}

void ByteReader::ExpectEnd() const {
  if (Remaining() != 0) Fail(std::to_string(Remaining()) + " unexpected trailing byte(s)");
}

}  // namespace phantom
