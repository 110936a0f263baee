// Binary encoding of metadata commands, the bytes a proposal (proposal.hpp)
// carries through the metadata Raft log. Layout (all integers little-endian),
// in the shared frame of codec_frame.hpp:
//   magic "PHMC" | format version u8 | command tag u8 | payload length u32 |
//   payload | CRC-32C u32 over everything before it
// Decoding checks every length against the bytes actually present before
// allocating, so a corrupted or truncated buffer is rejected, never trusted.
#pragma once

#include <string>
#include <string_view>

#include "core/metadata/command.hpp"

namespace phantom::metadata {

// Version 2 dropped JoinCluster, LeaveCluster and the node's Raft voter flag,
// renumbering the tags after them; version 1 was never released, so nothing
// needs to read it.
inline constexpr uint8_t kCommandFormatVersion = 2;

std::string EncodeCommand(const Command& command);

// Throws phantom::Error with SQLSTATE XX001 (data corrupted) describing what
// is wrong: bad magic, unknown version or tag, length mismatch, checksum.
Command DecodeCommand(std::string_view bytes);

}  // namespace phantom::metadata
