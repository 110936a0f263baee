// Single-byte damage to a framed encoding (src/core/metadata/codec_frame.hpp):
// shared by the tests of the codecs that use the frame.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <string>

namespace phantom::metadata {

// Every change of one byte of `encoded` is refused, for the reason the
// byte's place gives: the magic (bytes 0-3), the format version (byte 4),
// else the checksum. problem_of returns the refusal's message without the
// codec's prefix ("" when the bytes decoded).
template <typename ProblemOf>
void ExpectEveryByteFlipRefused(const std::string& encoded, uint8_t version, ProblemOf problem_of) {
  for (size_t position = 0; position < encoded.size(); position++) {
    for (uint8_t mask : {0x01, 0x10, 0x80, 0xFF}) {
      SCOPED_TRACE("byte " + std::to_string(position) + " xor " + std::to_string(mask));
      std::string corrupted = encoded;
      corrupted[position] = static_cast<char>(corrupted[position] ^ mask);
      std::string expected = "checksum mismatch";
      if (position < 4)
        expected = "bad magic";
      else if (position == 4)
        expected = "unknown format version " + std::to_string(static_cast<uint8_t>(corrupted[4])) +
                   " (this build reads version " + std::to_string(version) + ")";
      EXPECT_EQ(problem_of(corrupted), expected);
    }
  }
}

}  // namespace phantom::metadata
