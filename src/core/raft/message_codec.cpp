// Encoding and decoding of Raft values; layout in message_codec.hpp. Field
// order within each payload is part of the format: a new field means a new
// format version.
#include "core/raft/message_codec.hpp"

#include <algorithm>
#include <limits>

#include "core/common/byte_buffer.hpp"
#include "core/common/crc32c.hpp"
#include "core/common/error.hpp"
#include "core/common/pure.hpp"

namespace phantom::raft {

namespace {

constexpr size_t kHeaderSize = 4 + 1 + 4;  // magic, version, payload length
constexpr size_t kChecksumSize = 4;

// The fewest payload bytes each repeated element can take, to bound a decoded
// count by the bytes present before anything is reserved.
constexpr size_t kMinNodeIdSize = 8;
constexpr size_t kMinEntrySize = 8 + 8 + 1 + 4;                     // term, index, type, data length
constexpr size_t kMinConfStateSize = 4 + 4;                         // voter count, learner count
constexpr size_t kMinSnapshotSize = 8 + 8 + kMinConfStateSize + 4;  // index, term, conf, data length
constexpr size_t kMinMessageSize = 1 + 8 * 6 + 1 + 8 + 8 + 4 + 4 + kMinSnapshotSize;

constexpr const char* kMessageWhat = "raft message";
constexpr const char* kBatchWhat = "raft message batch";
constexpr const char* kEntryWhat = "raft entry";
constexpr const char* kHardStateWhat = "raft hard state";
constexpr const char* kConfStateWhat = "raft conf state";
constexpr const char* kConfChangeWhat = "raft conf change";

void PutCount(ByteWriter& out, size_t count, const char* what) {
  if (count > std::numeric_limits<uint32_t>::max())
    throw Error(sqlstate::kInternalError, std::string("cannot encode ") + std::to_string(count) + " " + what);
  out.PutU32(static_cast<uint32_t>(count));
}

// A count is trusted only as far as the remaining bytes could hold that many
// elements of the smallest possible size.
uint32_t GetCount(ByteReader& in, size_t min_element_size, const char* what) {
  uint32_t count = in.GetU32();
  if (count > in.Remaining() / min_element_size)
    in.Fail(std::to_string(count) + " " + what + " cannot fit in the " + std::to_string(in.Remaining()) +
            " remaining byte(s)");
  return count;
}

// Sorted and unique, as ConfState requires.
bool StrictlyIncreasing(const std::vector<NodeId>& ids) {
  return std::adjacent_find(ids.begin(), ids.end(), [](NodeId a, NodeId b) { return a >= b; }) == ids.end();
}

bool Disjoint(const std::vector<NodeId>& a, const std::vector<NodeId>& b) {
  return std::none_of(a.begin(), a.end(), [&](NodeId id) { return std::binary_search(b.begin(), b.end(), id); });
}

void PutNodeIds(ByteWriter& out, const std::vector<NodeId>& ids, const char* what) {
  PutCount(out, ids.size(), what);
  for (NodeId id : ids) out.PutU64(id);
}

std::vector<NodeId> GetNodeIds(ByteReader& in, const char* what) {
  uint32_t count = GetCount(in, kMinNodeIdSize, what);
  std::vector<NodeId> ids;
  ids.reserve(count);
  for (uint32_t i = 0; i < count; i++) ids.push_back(in.GetU64());
  if (!StrictlyIncreasing(ids)) in.Fail(std::string(what) + " are not sorted and unique");
  return ids;
}

void PutConfState(ByteWriter& out, const ConfState& conf) {
  if (!StrictlyIncreasing(conf.voters) || !StrictlyIncreasing(conf.learners) || !Disjoint(conf.voters, conf.learners))
    throw Error(sqlstate::kInternalError,
                "cannot encode a conf state whose voters and learners are not sorted, unique and disjoint");
  PutNodeIds(out, conf.voters, "voters");
  PutNodeIds(out, conf.learners, "learners");
}

ConfState GetConfState(ByteReader& in) {
  ConfState conf;
  conf.voters = GetNodeIds(in, "voters");
  conf.learners = GetNodeIds(in, "learners");
  if (!Disjoint(conf.voters, conf.learners)) in.Fail("a node is both voter and learner");
  return conf;
}

void PutEntry(ByteWriter& out, const Entry& entry) {
  out.PutU64(entry.term);
  out.PutU64(entry.index);
  out.PutU8(static_cast<uint8_t>(entry.type));
  out.PutString(entry.data.view());
}

Entry GetEntry(ByteReader& in) {
  Entry entry;
  entry.term = in.GetU64();
  entry.index = in.GetU64();
  uint8_t type = in.GetU8();
  if (type > static_cast<uint8_t>(EntryType::kConfChange)) in.Fail("unknown entry type " + std::to_string(type));
  entry.type = static_cast<EntryType>(type);
  // Straight from the input into the entry's one allocation; GetString would
  // make an intermediate std::string.
  const uint32_t length = in.GetU32();
  entry.data = Payload(in.GetBytes(length));
  return entry;
}

void PutHardState(ByteWriter& out, const HardState& state) {
  out.PutU64(state.term);
  out.PutU64(state.vote);
  out.PutU64(state.commit);
}

HardState GetHardState(ByteReader& in) {
  HardState state;
  state.term = in.GetU64();
  state.vote = in.GetU64();
  state.commit = in.GetU64();
  return state;
}

void PutConfChange(ByteWriter& out, const ConfChange& change) {
  out.PutU8(static_cast<uint8_t>(change.type));
  out.PutU64(change.node);
}

ConfChange GetConfChange(ByteReader& in) {
  ConfChange change;
  uint8_t type = in.GetU8();
  if (type > static_cast<uint8_t>(ConfChangeType::kRemoveNode))
    in.Fail("unknown conf change type " + std::to_string(type));
  change.type = static_cast<ConfChangeType>(type);
  change.node = in.GetU64();
  return change;
}

void PutMessage(ByteWriter& out, const Message& message) {
  out.PutU8(static_cast<uint8_t>(message.type));
  out.PutU64(message.from);
  out.PutU64(message.to);
  out.PutU64(message.term);
  out.PutU64(message.log_term);
  out.PutU64(message.index);
  out.PutU64(message.commit);
  out.PutBool(message.reject);
  out.PutU64(message.reject_hint);
  out.PutU64(message.hint_term);
  out.PutString(message.context);
  PutCount(out, message.entries.size(), "entries");
  for (const Entry& entry : message.entries) PutEntry(out, entry);
  out.PutU64(message.snapshot.meta.index);
  out.PutU64(message.snapshot.meta.term);
  PutConfState(out, message.snapshot.meta.conf);
  out.PutString(message.snapshot.data);
}

Message GetMessage(ByteReader& in) {
  Message message;
  uint8_t type = in.GetU8();
  if (type > static_cast<uint8_t>(MessageType::kPropose)) in.Fail("unknown message type " + std::to_string(type));
  message.type = static_cast<MessageType>(type);
  message.from = in.GetU64();
  message.to = in.GetU64();
  message.term = in.GetU64();
  message.log_term = in.GetU64();
  message.index = in.GetU64();
  message.commit = in.GetU64();
  message.reject = in.GetBool();
  message.reject_hint = in.GetU64();
  message.hint_term = in.GetU64();
  message.context = in.GetString();
  uint32_t entry_count = GetCount(in, kMinEntrySize, "entries");
  message.entries.reserve(entry_count);
  for (uint32_t i = 0; i < entry_count; i++) message.entries.push_back(GetEntry(in));
  message.snapshot.meta.index = in.GetU64();
  message.snapshot.meta.term = in.GetU64();
  message.snapshot.meta.conf = GetConfState(in);
  message.snapshot.data = in.GetString();
  return message;
}

std::string Frame(std::string_view magic, const ByteWriter& payload, const char* what) {
  if (payload.Size() > std::numeric_limits<uint32_t>::max())
    throw Error(sqlstate::kInternalError,
                std::string("cannot encode a ") + what + " of " + std::to_string(payload.Size()) + " bytes");
  ByteWriter out;
  out.PutBytes(magic);
  out.PutU8(kRaftCodecVersion);
  out.PutU32(static_cast<uint32_t>(payload.Size()));
  out.PutBytes(payload.Bytes());
  out.PutU32(Crc32c(out.Bytes()));
  return out.Take();
}

// Checks the frame and returns its payload. The order of checks follows
// command_codec.cpp: the version before the checksum (a newer version is
// named, not reported as damage), the checksum before any length (damage is
// named as such rather than as whichever field it happened to hit).
std::string_view Unframe(std::string_view bytes, std::string_view magic, const char* what) {
  ByteReader frame(bytes, what);
  if (bytes.size() < kHeaderSize + kChecksumSize)
    frame.Fail(std::to_string(bytes.size()) + " byte(s) is shorter than the smallest frame");
  if (frame.GetBytes(magic.size()) != magic) frame.Fail("bad magic");
  uint8_t version = frame.GetU8();
  if (version != kRaftCodecVersion)
    frame.Fail("unknown format version " + std::to_string(version) + " (this build reads version " +
               std::to_string(kRaftCodecVersion) + ")");
  ByteReader trailer(bytes.substr(bytes.size() - kChecksumSize), what);
  if (Crc32c(bytes.substr(0, bytes.size() - kChecksumSize)) != trailer.GetU32()) frame.Fail("checksum mismatch");
  uint32_t payload_size = frame.GetU32();
  if (payload_size != frame.Remaining() - kChecksumSize)
    frame.Fail("payload length " + std::to_string(payload_size) + " does not match the " +
               std::to_string(frame.Remaining() - kChecksumSize) + " byte(s) present");
  return frame.GetBytes(payload_size);
}

template <typename Put, typename Value>
std::string Encode(std::string_view magic, const char* what, Put put, const Value& value) {
  ByteWriter payload;
  put(payload, value);
  return Frame(magic, payload, what);
}

template <typename Get>
auto Decode(std::string_view bytes, std::string_view magic, const char* what, Get get) {
  ByteReader payload(Unframe(bytes, magic, what), what);
  auto value = get(payload);
  payload.ExpectEnd();
  return value;
}

void PutMessages(ByteWriter& out, const std::vector<Message>& messages) {
  PutCount(out, messages.size(), "messages");
  for (const Message& message : messages) PutMessage(out, message);
}

std::vector<Message> GetMessages(ByteReader& in) {
  uint32_t count = GetCount(in, kMinMessageSize, "messages");
  std::vector<Message> messages;
  messages.reserve(count);
  for (uint32_t i = 0; i < count; i++) messages.push_back(GetMessage(in));
  return messages;
}

}  // namespace

std::string EncodeMessage(const Message& message) { return Encode(kMessageMagic, kMessageWhat, PutMessage, message); }

Message DecodeMessage(std::string_view bytes) { return Decode(bytes, kMessageMagic, kMessageWhat, GetMessage); }

std::string EncodeMessages(const std::vector<Message>& messages) {
  return Encode(kMessageBatchMagic, kBatchWhat, PutMessages, messages);
}

std::vector<Message> DecodeMessages(std::string_view bytes) {
  return Decode(bytes, kMessageBatchMagic, kBatchWhat, GetMessages);
}

std::string EncodeEntry(const Entry& entry) { return Encode(kEntryMagic, kEntryWhat, PutEntry, entry); }

Entry DecodeEntry(std::string_view bytes) { return Decode(bytes, kEntryMagic, kEntryWhat, GetEntry); }

std::string EncodeHardState(const HardState& state) {
  return Encode(kHardStateMagic, kHardStateWhat, PutHardState, state);
}

HardState DecodeHardState(std::string_view bytes) {
  return Decode(bytes, kHardStateMagic, kHardStateWhat, GetHardState);
}

std::string EncodeConfState(const ConfState& conf) {
  return Encode(kConfStateMagic, kConfStateWhat, PutConfState, conf);
}

ConfState DecodeConfState(std::string_view bytes) {
  return Decode(bytes, kConfStateMagic, kConfStateWhat, GetConfState);
}

std::string EncodeConfChange(const ConfChange& change) {
  return Encode(kConfChangeMagic, kConfChangeWhat, PutConfChange, change);
}

ConfChange DecodeConfChange(std::string_view bytes) {
  return Decode(bytes, kConfChangeMagic, kConfChangeWhat, GetConfChange);
}

void PutEntryFields(ByteWriter& out, const Entry& entry) { PutEntry(out, entry); }

Entry GetEntryFields(ByteReader& in) { return GetEntry(in); }

void PutHardStateFields(ByteWriter& out, const HardState& state) { PutHardState(out, state); }

HardState GetHardStateFields(ByteReader& in) { return GetHardState(in); }

void PutConfStateFields(ByteWriter& out, const ConfState& conf) { PutConfState(out, conf); }

ConfState GetConfStateFields(ByteReader& in) { return GetConfState(in); }

}  // namespace phantom::raft
