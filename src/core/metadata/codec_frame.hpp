// The frame every metadata encoding shares (commands, proposals, catalog
// images), so each is recognised, versioned and checksummed the same way:
//   magic (4 bytes) | format version u8 | body | CRC-32C u32 over everything before it
// Opening checks, in this order: the length, the magic, the version (named
// before the checksum: a newer version may lay out its checksum differently),
// then the checksum, before any field of the body is read, so damage is
// reported as damage and not as whichever field it happened to hit.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace phantom::metadata {

struct FrameFormat {
  std::string_view magic;  // four bytes
  uint8_t version = 0;
  const char* what = "";      // errors read "<what> is corrupted: ..."
  const char* smallest = "";  // "... N byte(s) is shorter than the smallest <smallest>"
  size_t min_body = 0;        // bytes every body has, whatever its content
};

inline constexpr size_t kFrameOverhead = 4 + 1 + 4;  // magic, version, checksum

std::string SealFrame(const FrameFormat& format, std::string_view body);

// The body of a checked frame; throws phantom::Error (XX001) naming the problem.
std::string_view OpenFrame(const FrameFormat& format, std::string_view bytes);

}  // namespace phantom::metadata
