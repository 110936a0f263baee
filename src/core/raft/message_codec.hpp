// Binary encoding of the Raft values that cross the network or reach disk:
// messages (alone or batched for the transport), entries, hard state,
// membership and membership changes. Each is framed (integers little-endian):
//   magic | format version u8 | payload length u32 | payload |
//   CRC-32C u32 over everything before it
// with a distinct magic per top-level type, so bytes of one kind are never
// decoded as another. Decoding checks every count and length against the
// bytes actually present before allocating, so a corrupted or truncated
// buffer is rejected with phantom::Error XX001, never trusted.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/raft/types.hpp"

namespace phantom {
class ByteReader;
class ByteWriter;
}  // namespace phantom

namespace phantom::raft {

inline constexpr uint8_t kRaftCodecVersion = 1;

// Magics; part of the format.
inline constexpr std::string_view kMessageMagic = "PHRM";
inline constexpr std::string_view kMessageBatchMagic = "PHRB";
inline constexpr std::string_view kEntryMagic = "PHRE";
inline constexpr std::string_view kHardStateMagic = "PHRH";
inline constexpr std::string_view kConfStateMagic = "PHRS";
inline constexpr std::string_view kConfChangeMagic = "PHRC";

// Encoders throw phantom::Error XX000 for a value that could not be decoded
// again: a string or list too long for its u32 prefix, or a ConfState whose
// voters/learners are not sorted, unique and disjoint.
// Decoders throw phantom::Error XX001 ("raft <type> is corrupted: ...").
std::string EncodeMessage(const Message& message);
Message DecodeMessage(std::string_view bytes);

// Many messages in one frame (one checksum), in order.
std::string EncodeMessages(const std::vector<Message>& messages);
std::vector<Message> DecodeMessages(std::string_view bytes);

std::string EncodeEntry(const Entry& entry);
Entry DecodeEntry(std::string_view bytes);

std::string EncodeHardState(const HardState& state);
HardState DecodeHardState(std::string_view bytes);

std::string EncodeConfState(const ConfState& conf);
ConfState DecodeConfState(std::string_view bytes);

// What a kConfChange entry's data holds.
std::string EncodeConfChange(const ConfChange& change);
ConfChange DecodeConfChange(std::string_view bytes);

// The unframed payload layouts of an entry, a hard state and a conf state, for
// formats that carry many values under one checksum of their own (the durable
// log, log_file_format.hpp): one layout per value, wherever it is stored. Put*
// and Get* throw as the encoders and decoders above do.
void PutEntryFields(ByteWriter& out, const Entry& entry);
Entry GetEntryFields(ByteReader& in);
void PutHardStateFields(ByteWriter& out, const HardState& state);
HardState GetHardStateFields(ByteReader& in);
void PutConfStateFields(ByteWriter& out, const ConfState& conf);
ConfState GetConfStateFields(ByteReader& in);

}  // namespace phantom::raft
