// Sealing and opening metadata frames; see codec_frame.hpp.
#include "core/metadata/codec_frame.hpp"

#include "core/common/byte_buffer.hpp"
#include "core/common/crc32c.hpp"
#include "core/common/pure.hpp"

namespace phantom::metadata {

std::string SealFrame(const FrameFormat& format, std::string_view body) {
  ByteWriter out;
  out.PutBytes(format.magic);
  out.PutU8(format.version);
  out.PutBytes(body);
  out.PutU32(Crc32c(out.Bytes()));
  return out.Take();
}

std::string_view OpenFrame(const FrameFormat& format, std::string_view bytes) {
  ByteReader frame(bytes, format.what);
  if (bytes.size() < kFrameOverhead + format.min_body)
    frame.Fail(std::to_string(bytes.size()) + " byte(s) is shorter than the smallest " + format.smallest);
  if (frame.GetBytes(format.magic.size()) != format.magic) frame.Fail("bad magic");
  const uint8_t version = frame.GetU8();
  if (version != format.version)
    frame.Fail("unknown format version " + std::to_string(version) + " (this build reads version " +
               std::to_string(format.version) + ")");
  const size_t checksummed = bytes.size() - 4;
  ByteReader trailer(bytes.substr(checksummed), format.what);
  if (Crc32c(bytes.substr(0, checksummed)) != trailer.GetU32()) frame.Fail("checksum mismatch");
  return bytes.substr(format.magic.size() + 1, checksummed - format.magic.size() - 1);
}

}  // namespace phantom::metadata
