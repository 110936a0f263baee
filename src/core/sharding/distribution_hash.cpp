// The distribution hash and the canonical byte forms; see distribution_hash.hpp.
// Every byte written here is part of the on-disk format: rows already placed
// by this code must be found by every later release.
#include "core/sharding/distribution_hash.hpp"

#include "core/common/error.hpp"
#include "core/common/pure.hpp"

namespace phantom::sharding {

namespace {

constexpr uint32_t kC1 = 0xcc9e2d51;
constexpr uint32_t kC2 = 0x1b873593;

uint32_t RotateLeft(uint32_t value, int bits) { return (value << bits) | (value >> (32 - bits)); }

// Read as little-endian whatever the host, so every node hashes alike.
uint32_t LoadLittleEndian32(const char* bytes) {
  uint32_t value = 0;
  for (int i = 0; i < 4; i++) value |= static_cast<uint32_t>(static_cast<uint8_t>(bytes[i])) << (8 * i);
  return value;
}

uint32_t MixBlock(uint32_t block) {
  block *= kC1;
  block = RotateLeft(block, 15);
  return block * kC2;
}

std::string LittleEndian(uint64_t value, int bytes) {
  std::string out;
  out.reserve(static_cast<size_t>(bytes));
  for (int i = 0; i < bytes; i++) out.push_back(static_cast<char>(static_cast<uint8_t>(value >> (8 * i))));
  return out;
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

[[noreturn]] void MalformedNumeric(std::string_view text) {
  throw Error(sqlstate::kInvalidTextRepresentation, "invalid numeric distribution value \"" + std::string(text) + "\"");
}

}  // namespace

uint32_t Murmur3_32(std::string_view bytes, uint32_t seed) {
  uint32_t hash = seed;
  const size_t blocks = bytes.size() / 4;
  for (size_t i = 0; i < blocks; i++) {
    hash ^= MixBlock(LoadLittleEndian32(bytes.data() + 4 * i));
    hash = RotateLeft(hash, 13);
    hash = hash * 5 + 0xe6546b64;
  }
  const std::string_view tail = bytes.substr(4 * blocks);
  if (!tail.empty()) {
    uint32_t last = 0;
    for (size_t i = 0; i < tail.size(); i++) last |= static_cast<uint32_t>(static_cast<uint8_t>(tail[i])) << (8 * i);
    hash ^= MixBlock(last);
  }
  // The algorithm folds in the length as a 32-bit value.
  hash ^= static_cast<uint32_t>(bytes.size());
  hash ^= hash >> 16;
  hash *= 0x85ebca6b;
  hash ^= hash >> 13;
  hash *= 0xc2b2ae35;
  hash ^= hash >> 16;
  return hash;
}

int32_t DistributionHash(std::string_view canonical) { return static_cast<int32_t>(Murmur3_32(canonical, 0)); }

std::string CanonicalInteger(int64_t value) { return LittleEndian(static_cast<uint64_t>(value), 8); }

std::string CanonicalText(std::string_view value) { return std::string(value); }

std::string CanonicalBpchar(std::string_view value) {
  size_t end = value.find_last_not_of(' ');
  return std::string(end == std::string_view::npos ? std::string_view() : value.substr(0, end + 1));
}

std::string CanonicalBool(bool value) { return std::string(1, value ? '\x01' : '\x00'); }

std::string CanonicalUuid(const std::array<uint8_t, 16>& value) {
  return std::string(reinterpret_cast<const char*>(value.data()), value.size());
}

std::string CanonicalDate(int32_t days) { return LittleEndian(static_cast<uint32_t>(days), 4); }

std::string CanonicalTimestamp(int64_t microseconds) { return LittleEndian(static_cast<uint64_t>(microseconds), 8); }

std::string CanonicalNumeric(std::string_view text) {
  // Postgres spells the specials this way; its numeric output never uses an
  // exponent, so anything else is not a numeric's text output.
  if (text == "NaN" || text == "Infinity" || text == "-Infinity") return std::string(text);

  std::string_view rest = text;
  const bool negative = !rest.empty() && rest.front() == '-';
  if (negative) rest.remove_prefix(1);
  const size_t point = rest.find('.');
  std::string_view integer = rest.substr(0, point);
  std::string_view fraction = point == std::string_view::npos ? std::string_view() : rest.substr(point + 1);
  for (char c : integer)
    if (!IsDigit(c)) MalformedNumeric(text);
  for (char c : fraction)
    if (!IsDigit(c)) MalformedNumeric(text);
  if (integer.empty() && fraction.empty()) MalformedNumeric(text);

  while (integer.size() > 1 && integer.front() == '0') integer.remove_prefix(1);
  while (!fraction.empty() && fraction.back() == '0') fraction.remove_suffix(1);
  std::string out;
  if (integer.empty()) integer = "0";  // ".5" as "0.5"
  const bool zero = integer == "0" && fraction.empty();
  if (negative && !zero) out.push_back('-');
  out.append(integer);
  if (!fraction.empty()) {
    out.push_back('.');
    out.append(fraction);
  }
  return out;
}

}  // namespace phantom::sharding
