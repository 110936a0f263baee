// Version-4 UUIDs for cluster ids; see cluster_id.hpp.
#include "core/metadata/cluster_id.hpp"

#include "core/common/error.hpp"
#include "core/common/pure.hpp"

namespace phantom::metadata {

namespace {

constexpr char kHexDigits[] = "0123456789abcdef";

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool IsDashPosition(size_t position) { return position == 8 || position == 13 || position == 18 || position == 23; }

}  // namespace

ClusterId MakeClusterId(ClusterId random_bytes) {
  random_bytes[6] = static_cast<uint8_t>((random_bytes[6] & 0x0f) | 0x40);  // version 4
  random_bytes[8] = static_cast<uint8_t>((random_bytes[8] & 0x3f) | 0x80);  // RFC 4122 variant
  return random_bytes;
}

std::string FormatClusterId(const ClusterId& id) {
  std::string text;
  text.reserve(36);
  for (size_t i = 0; i < id.size(); i++) {
    if (i == 4 || i == 6 || i == 8 || i == 10) text.push_back('-');
    text.push_back(kHexDigits[id[i] >> 4]);
    text.push_back(kHexDigits[id[i] & 0x0f]);
  }
  return text;
}

ClusterId ParseClusterId(std::string_view text) {
  ClusterId id{};
  bool ok = text.size() == 36;
  size_t byte = 0;
  for (size_t position = 0; ok && position < text.size();) {
    if (IsDashPosition(position)) {
      ok = text[position] == '-';
      position++;
      continue;
    }
    int high = HexValue(text[position]);
    int low = position + 1 < text.size() ? HexValue(text[position + 1]) : -1;
    ok = high >= 0 && low >= 0 && !IsDashPosition(position + 1);
    if (ok) id[byte++] = static_cast<uint8_t>(high << 4 | low);
    position += 2;
  }
  if (!ok || byte != id.size())
    throw Error(sqlstate::kInvalidParameterValue, "invalid cluster id \"" + std::string(text) + "\"",
                "A cluster id is a UUID such as 1b4e28ba-2fa1-41d2-883f-0016d3cca427.");
  return id;
}

}  // namespace phantom::metadata
