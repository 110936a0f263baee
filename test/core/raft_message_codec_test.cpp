#include "core/raft/message_codec.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "allocation_probe.hpp"
#include "core/common/byte_buffer.hpp"
#include "core/common/crc32c.hpp"
#include "core/common/error.hpp"

namespace phantom::raft {
namespace {

using namespace std::string_literals;

constexpr MessageType kAllTypes[] = {
    MessageType::kPreVote,        MessageType::kPreVoteResponse,
    MessageType::kVote,           MessageType::kVoteResponse,
    MessageType::kAppend,         MessageType::kAppendResponse,
    MessageType::kHeartbeat,      MessageType::kHeartbeatResponse,
    MessageType::kSnapshot,       MessageType::kTimeoutNow,
    MessageType::kReadIndex,      MessageType::kReadIndexResponse,
    MessageType::kTransferLeader, MessageType::kPropose,
};

Snapshot SampleSnapshot() {
  Snapshot snapshot;
  snapshot.meta.index = 1000;
  snapshot.meta.term = 7;
  snapshot.meta.conf.voters = {1, 2, 3};
  snapshot.meta.conf.learners = {9, UINT64_MAX};
  snapshot.data = "state\x00machine\xFF"s;
  return snapshot;
}

std::vector<Entry> SampleEntries() {
  return {
      Entry{5, 11, EntryType::kNormal, ""},  // a leader's no-op
      Entry{5, 12, EntryType::kNormal, "set x=1\x00\x01"s},
      Entry{6, 13, EntryType::kConfChange, EncodeConfChange(ConfChange{ConfChangeType::kAddLearner, 4})},
  };
}

// One message of every type, each carrying entries, a snapshot and a context
// whether or not the type uses them: the codec does not interpret them.
std::vector<Message> SampleMessages() {
  std::vector<Message> messages;
  uint64_t n = 1;
  for (MessageType type : kAllTypes) {
    Message message;
    message.type = type;
    message.from = n;
    message.to = n + 1;
    message.term = 100 + n;
    message.log_term = 90 + n;
    message.index = 1000 + n;
    message.commit = 999 + n;
    message.reject = n % 2 == 0;
    message.reject_hint = 500 + n;
    message.hint_term = 80 + n;
    message.entries = SampleEntries();
    message.snapshot = SampleSnapshot();
    message.context = "read-" + std::to_string(n);
    messages.push_back(message);
    n++;
  }
  Message extremes;
  extremes.type = MessageType::kAppendResponse;
  extremes.from = UINT64_MAX;
  extremes.to = UINT64_MAX;
  extremes.term = UINT64_MAX;
  extremes.log_term = UINT64_MAX;
  extremes.index = UINT64_MAX;
  extremes.commit = UINT64_MAX;
  extremes.reject = true;
  extremes.reject_hint = UINT64_MAX;
  extremes.hint_term = UINT64_MAX;
  messages.push_back(extremes);
  messages.push_back(Message{});
  return messages;
}

// A frame around any payload with a valid checksum, to reach the checks that
// come after it.
std::string Frame(std::string_view magic, uint8_t version, const std::string& payload, uint32_t declared_length) {
  ByteWriter out;
  out.PutBytes(magic);
  out.PutU8(version);
  out.PutU32(declared_length);
  out.PutBytes(payload);
  out.PutU32(Crc32c(out.Bytes()));
  return out.Take();
}

std::string Frame(std::string_view magic, const std::string& payload) {
  return Frame(magic, kRaftCodecVersion, payload, static_cast<uint32_t>(payload.size()));
}

// The payload of an encoding, to build variants of it.
std::string PayloadOf(const std::string& encoded) { return encoded.substr(9, encoded.size() - 13); }

// Returns the message of the XX001 error decoding throws, or fails.
std::string DecodeError(const std::function<void()>& decode) {
  try {
    decode();
    ADD_FAILURE() << "decoded corrupted bytes";
  } catch (const Error& error) {
    EXPECT_EQ(error.Sqlstate(), sqlstate::kDataCorrupted) << error.Message();
    return error.Message();
  }
  return "";
}

// Every top-level encoding with its decoder, for the damage tests.
struct Sample {
  std::string name;
  std::string encoded;
  std::function<void(std::string_view)> decode;
};

std::vector<Sample> Samples() {
  std::vector<Message> messages = SampleMessages();
  auto decode_message = [](std::string_view bytes) { DecodeMessage(bytes); };
  return {
      {"append", EncodeMessage(messages[4]), decode_message},
      {"snapshot", EncodeMessage(messages[8]), decode_message},
      {"empty message", EncodeMessage(Message{}), decode_message},
      {"batch", EncodeMessages({messages[0], messages[4], Message{}}),
       [](std::string_view bytes) { DecodeMessages(bytes); }},
      {"entry", EncodeEntry(SampleEntries()[1]), [](std::string_view bytes) { DecodeEntry(bytes); }},
      {"hard state", EncodeHardState(HardState{3, 2, 17}), [](std::string_view bytes) { DecodeHardState(bytes); }},
      {"conf state", EncodeConfState(SampleSnapshot().meta.conf),
       [](std::string_view bytes) { DecodeConfState(bytes); }},
      {"conf change", EncodeConfChange(ConfChange{ConfChangeType::kRemoveNode, 3}),
       [](std::string_view bytes) { DecodeConfChange(bytes); }},
  };
}

TEST(RaftMessageCodecTest, RoundTripsEveryMessageType) {
  for (const Message& message : SampleMessages()) {
    SCOPED_TRACE(static_cast<int>(message.type));
    EXPECT_EQ(DecodeMessage(EncodeMessage(message)), message);
  }
}

TEST(RaftMessageCodecTest, RoundTripsBatches) {
  const std::vector<Message> messages = SampleMessages();
  EXPECT_EQ(DecodeMessages(EncodeMessages(messages)), messages);
  EXPECT_EQ(DecodeMessages(EncodeMessages({})), std::vector<Message>{});
  EXPECT_EQ(DecodeMessages(EncodeMessages({messages[3]})), std::vector<Message>{messages[3]});
}

TEST(RaftMessageCodecTest, RoundTripsEntriesStatesAndChanges) {
  for (const Entry& entry : SampleEntries()) EXPECT_EQ(DecodeEntry(EncodeEntry(entry)), entry);
  Entry big{UINT64_MAX, UINT64_MAX, EntryType::kNormal, std::string(100000, 'z')};
  EXPECT_EQ(DecodeEntry(EncodeEntry(big)), big);
  for (const HardState& state : {HardState{}, HardState{3, 2, 17}, HardState{UINT64_MAX, UINT64_MAX, UINT64_MAX}})
    EXPECT_EQ(DecodeHardState(EncodeHardState(state)), state);
  for (const ConfState& conf : {ConfState{}, ConfState{{1}, {}}, SampleSnapshot().meta.conf})
    EXPECT_EQ(DecodeConfState(EncodeConfState(conf)), conf);
  for (ConfChangeType type : {ConfChangeType::kAddVoter, ConfChangeType::kAddLearner, ConfChangeType::kRemoveNode}) {
    ConfChange change{type, 42};
    EXPECT_EQ(DecodeConfChange(EncodeConfChange(change)), change);
  }
  // A kConfChange entry's data decodes to the change it was made from.
  EXPECT_EQ(DecodeConfChange(SampleEntries()[2].data.view()), (ConfChange{ConfChangeType::kAddLearner, 4}));
}

TEST(RaftMessageCodecTest, GoldenHardState) {
  const std::string expected =
      "PHRH\x01\x18\x00\x00\x00"
      "\x03\x00\x00\x00\x00\x00\x00\x00"
      "\x02\x00\x00\x00\x00\x00\x00\x00"
      "\x11\x00\x00\x00\x00\x00\x00\x00"s;
  const std::string encoded = EncodeHardState(HardState{3, 2, 17});
  ASSERT_EQ(encoded.size(), expected.size() + 4);
  EXPECT_EQ(encoded.substr(0, expected.size()), expected);
  ByteReader crc(std::string_view(encoded).substr(expected.size()), "test");
  EXPECT_EQ(crc.GetU32(), Crc32c(expected));
}

TEST(RaftMessageCodecTest, GoldenConfChangeAndEntry) {
  EXPECT_EQ(EncodeConfChange(ConfChange{ConfChangeType::kAddLearner, 4}),
            Frame("PHRC", "\x01\x04\x00\x00\x00\x00\x00\x00\x00"s));
  EXPECT_EQ(EncodeEntry(Entry{2, 3, EntryType::kConfChange, "ab"}),
            Frame("PHRE",
                  "\x02\x00\x00\x00\x00\x00\x00\x00\x03\x00\x00\x00\x00\x00\x00\x00\x01\x02\x00\x00\x00"
                  "ab"s));
}

// The smallest encodings, which the count bounds in the decoder rely on.
TEST(RaftMessageCodecTest, SmallestEncodings) {
  EXPECT_EQ(PayloadOf(EncodeMessage(Message{})).size(), 102u);
  EXPECT_EQ(PayloadOf(EncodeEntry(Entry{})).size(), 21u);
  EXPECT_EQ(PayloadOf(EncodeConfState(ConfState{})).size(), 8u);
}

TEST(RaftMessageCodecTest, MagicsAreDistinct) {
  // A hard state's bytes are not a conf change's, even though both are valid frames.
  EXPECT_EQ(DecodeError([] { DecodeConfChange(EncodeHardState(HardState{})); }),
            "raft conf change is corrupted: bad magic");
  EXPECT_EQ(DecodeError([] { DecodeMessages(EncodeMessage(Message{})); }),
            "raft message batch is corrupted: bad magic");
  EXPECT_EQ(DecodeError([] { DecodeMessage(EncodeMessages({Message{}})); }), "raft message is corrupted: bad magic");
}

TEST(RaftMessageCodecTest, EverySingleByteCorruptionIsRejected) {
  for (const Sample& sample : Samples()) {
    SCOPED_TRACE(sample.name);
    for (size_t position = 0; position < sample.encoded.size(); position++) {
      for (uint8_t mask : {0x01, 0x80, 0xFF}) {
        std::string corrupted = sample.encoded;
        corrupted[position] = static_cast<char>(corrupted[position] ^ mask);
        SCOPED_TRACE("byte " + std::to_string(position) + " xor " + std::to_string(mask));
        EXPECT_NE(DecodeError([&] { sample.decode(corrupted); }), "");
      }
    }
  }
}

// Damage under a recomputed checksum reaches the payload parser: it must
// either decode something or throw XX001, never crash or read out of bounds.
TEST(RaftMessageCodecTest, PayloadDamageUnderValidChecksumIsHandled) {
  for (const Sample& sample : Samples()) {
    SCOPED_TRACE(sample.name);
    const std::string magic = sample.encoded.substr(0, 4);
    const std::string payload = PayloadOf(sample.encoded);
    size_t rejected = 0;
    for (size_t position = 0; position < payload.size(); position++) {
      for (uint8_t mask : {0x01, 0x80, 0xFF}) {
        std::string damaged = payload;
        damaged[position] = static_cast<char>(damaged[position] ^ mask);
        try {
          sample.decode(Frame(magic, damaged));
        } catch (const Error& error) {
          EXPECT_EQ(error.Sqlstate(), sqlstate::kDataCorrupted) << error.Message();
          rejected++;
        }
      }
    }
    // Not every damaged byte is detectable (a term is any u64), but in all
    // but the hard state (three plain u64s) some are.
    if (sample.name != "hard state") {
      EXPECT_GT(rejected, 0u);
    }
  }
}

TEST(RaftMessageCodecTest, EveryTruncationIsRejected) {
  for (const Sample& sample : Samples()) {
    SCOPED_TRACE(sample.name);
    for (size_t length = 0; length < sample.encoded.size(); length++) {
      SCOPED_TRACE("length " + std::to_string(length));
      EXPECT_NE(DecodeError([&] { sample.decode(std::string_view(sample.encoded).substr(0, length)); }), "");
    }
  }
}

TEST(RaftMessageCodecTest, ShortInputIsNamed) {
  EXPECT_EQ(DecodeError([] { DecodeMessage(""); }),
            "raft message is corrupted: 0 byte(s) is shorter than the smallest frame");
  EXPECT_EQ(DecodeError([] { DecodeHardState("PHRH\x01"s); }),
            "raft hard state is corrupted: 5 byte(s) is shorter than the smallest frame");
}

TEST(RaftMessageCodecTest, UnknownVersionIsNamed) {
  const std::string payload = PayloadOf(EncodeMessage(Message{}));
  EXPECT_EQ(DecodeError([&] { DecodeMessage(Frame("PHRM", 2, payload, static_cast<uint32_t>(payload.size()))); }),
            "raft message is corrupted: unknown format version 2 (this build reads version 1)");
  // Named even when the rest of the frame is unreadable to this build.
  std::string future = EncodeConfChange(ConfChange{});
  future[4] = 9;
  EXPECT_EQ(DecodeError([&] { DecodeConfChange(future); }),
            "raft conf change is corrupted: unknown format version 9 (this build reads version 1)");
}

TEST(RaftMessageCodecTest, ChecksumMismatchIsNamed) {
  std::string encoded = EncodeHardState(HardState{3, 2, 17});
  encoded[12] ^= 0x10;
  EXPECT_EQ(DecodeError([&] { DecodeHardState(encoded); }), "raft hard state is corrupted: checksum mismatch");
}

TEST(RaftMessageCodecTest, LengthMismatchIsRejected) {
  const std::string payload = PayloadOf(EncodeHardState(HardState{}));
  EXPECT_EQ(DecodeError([&] { DecodeHardState(Frame("PHRH", 1, payload, 23)); }),
            "raft hard state is corrupted: payload length 23 does not match the 24 byte(s) present");
  EXPECT_EQ(DecodeError([&] { DecodeHardState(Frame("PHRH", 1, payload, 0xFFFFFFFF)); }),
            "raft hard state is corrupted: payload length 4294967295 does not match the 24 byte(s) present");
}

TEST(RaftMessageCodecTest, TrailingBytesAreRejected) {
  const std::string encoded = EncodeConfChange(ConfChange{});
  EXPECT_EQ(DecodeError([&] { DecodeConfChange(encoded + "\x00"s); }),
            "raft conf change is corrupted: checksum mismatch");
  // Extra payload bytes under a consistent length and checksum.
  EXPECT_EQ(DecodeError([&] { DecodeConfChange(Frame("PHRC", PayloadOf(encoded) + "\x00"s)); }),
            "raft conf change is corrupted: 1 unexpected trailing byte(s)");
  EXPECT_EQ(DecodeError([&] { DecodeMessages(Frame("PHRB", PayloadOf(EncodeMessages({Message{}})) + "xy")); }),
            "raft message batch is corrupted: 2 unexpected trailing byte(s)");
}

TEST(RaftMessageCodecTest, EnumsOutOfRangeAreRejected) {
  std::string message = PayloadOf(EncodeMessage(Message{}));
  message[0] = 14;
  EXPECT_EQ(DecodeError([&] { DecodeMessage(Frame("PHRM", message)); }),
            "raft message is corrupted: unknown message type 14");
  std::string entry = PayloadOf(EncodeEntry(Entry{}));
  entry[16] = 2;
  EXPECT_EQ(DecodeError([&] { DecodeEntry(Frame("PHRE", entry)); }), "raft entry is corrupted: unknown entry type 2");
  std::string change = PayloadOf(EncodeConfChange(ConfChange{}));
  change[0] = 3;
  EXPECT_EQ(DecodeError([&] { DecodeConfChange(Frame("PHRC", change)); }),
            "raft conf change is corrupted: unknown conf change type 3");
  std::string reject = PayloadOf(EncodeMessage(Message{}));
  reject[49] = 2;  // after type and six u64 fields
  EXPECT_EQ(DecodeError([&] { DecodeMessage(Frame("PHRM", reject)); }),
            "raft message is corrupted: boolean byte 2 at offset 49");
}

TEST(RaftMessageCodecTest, InvalidMembershipIsRejected) {
  ByteWriter unsorted;
  unsorted.PutU32(2);
  unsorted.PutU64(2);
  unsorted.PutU64(1);
  unsorted.PutU32(0);
  EXPECT_EQ(DecodeError([&] { DecodeConfState(Frame("PHRS", unsorted.Take())); }),
            "raft conf state is corrupted: voters are not sorted and unique");
  ByteWriter overlapping;
  overlapping.PutU32(1);
  overlapping.PutU64(5);
  overlapping.PutU32(1);
  overlapping.PutU64(5);
  EXPECT_EQ(DecodeError([&] { DecodeConfState(Frame("PHRS", overlapping.Take())); }),
            "raft conf state is corrupted: a node is both voter and learner");
  // The encoder refuses what the decoder would reject.
  try {
    EncodeConfState(ConfState{{1, 1}, {}});
    ADD_FAILURE() << "encoded duplicate voters";
  } catch (const Error& error) {
    EXPECT_EQ(error.Sqlstate(), sqlstate::kInternalError);
  }
}

// A forged count or length is rejected against the bytes present, before
// anything of that size is reserved.
TEST(RaftMessageCodecTest, ForgedCountsDoNotAllocate) {
  std::string message = PayloadOf(EncodeMessage(Message{}));
  constexpr size_t kEntryCountOffset = 1 + 8 * 6 + 1 + 8 + 8 + 4;  // after the empty context
  message[kEntryCountOffset + 3] = '\x7F';
  std::string forged = Frame("PHRM", message);
  {
    AllocationProbe probe;
    EXPECT_EQ(DecodeError([&] { DecodeMessage(forged); }),
              "raft message is corrupted: 2130706432 entries cannot fit in the 28 remaining byte(s)");
    EXPECT_LT(probe.LargestBytes(), 4096u);
  }

  std::string context_length = PayloadOf(EncodeMessage(Message{}));
  context_length[kEntryCountOffset - 4 + 3] = '\x7F';
  forged = Frame("PHRM", context_length);
  {
    AllocationProbe probe;
    EXPECT_EQ(DecodeError([&] { DecodeMessage(forged); }),
              "raft message is corrupted: needs 2130706432 more byte(s) at offset 70, has 32");
    EXPECT_LT(probe.LargestBytes(), 4096u);
  }

  ByteWriter voters;
  voters.PutU32(0xFFFFFFFF);
  voters.PutU32(0);
  forged = Frame("PHRS", voters.Take());
  {
    AllocationProbe probe;
    EXPECT_EQ(DecodeError([&] { DecodeConfState(forged); }),
              "raft conf state is corrupted: 4294967295 voters cannot fit in the 4 remaining byte(s)");
    EXPECT_LT(probe.LargestBytes(), 4096u);
  }

  ByteWriter batch;
  batch.PutU32(1000);
  batch.PutBytes(PayloadOf(EncodeMessage(Message{})));
  forged = Frame("PHRB", batch.Take());
  {
    AllocationProbe probe;
    EXPECT_EQ(DecodeError([&] { DecodeMessages(forged); }),
              "raft message batch is corrupted: 1000 messages cannot fit in the 102 remaining byte(s)");
    EXPECT_LT(probe.LargestBytes(), 4096u);
  }

  // Counts that do fit the bytes but whose elements are not all there.
  ByteWriter two_entries;
  two_entries.PutU32(2);
  two_entries.PutBytes(std::string(2 * 21 - 1, '\0'));
  EXPECT_NE(DecodeError([&] {
              ByteWriter payload;
              std::string body = PayloadOf(EncodeMessage(Message{}));
              payload.PutBytes(body.substr(0, kEntryCountOffset));
              payload.PutBytes(two_entries.Bytes());
              DecodeMessage(Frame("PHRM", payload.Take()));
            }),
            "");
}

}  // namespace
}  // namespace phantom::raft
