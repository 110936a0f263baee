#include "core/metadata/command_codec.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "allocation_probe.hpp"
#include "core/common/byte_buffer.hpp"
#include "core/common/crc32c.hpp"
#include "core/common/error.hpp"

namespace phantom::metadata {
namespace {

using namespace std::string_literals;

constexpr const char* kCorrupted = "metadata command is corrupted: ";

ClusterId SampleClusterId() {
  ClusterId id{};
  for (size_t i = 0; i < id.size(); i++) id[i] = static_cast<uint8_t>(i * 17 + 3);
  return id;
}

NodeRecord SampleNode() {
  NodeRecord node;
  node.node_id = 7;
  node.name = "n\xC3\xBC";  // non-ASCII, as a user may name a node
  node.host = "::1";
  node.port = 5433;
  node.region = "eu-west";
  node.role = NodeRole::kReplica;
  node.state = NodeState::kDraining;
  node.is_raft_voter = true;
  node.last_heartbeat_us = -1234567890123;
  return node;
}

std::vector<Command> SampleCommands() {
  NodeRecord self = SampleNode();
  self.node_id = 1;
  self.role = NodeRole::kPrimary;
  self.state = NodeState::kActive;
  NodeRecord extremes;
  extremes.node_id = INT32_MAX;
  extremes.port = INT32_MIN;
  extremes.state = NodeState::kDrained;
  extremes.last_heartbeat_us = INT64_MAX;
  return {
      CreateCluster{SampleClusterId(), self},
      AddNode{SampleNode()},
      AddNode{NodeRecord{}},
      AddNode{extremes},
      RemoveNode{42},
      RemoveNode{-1},
      JoinCluster{SampleClusterId(), "coordinator.example", 5432},
      JoinCluster{ClusterId{}, "", 0},
      LeaveCluster{SampleClusterId()},
  };
}

// A frame around any payload, with a valid checksum, so a test can reach the
// checks that come after the checksum.
std::string Frame(uint8_t version, uint8_t tag, const std::string& payload, uint32_t declared_length) {
  ByteWriter out;
  out.PutBytes("PHMC");
  out.PutU8(version);
  out.PutU8(tag);
  out.PutU32(declared_length);
  out.PutBytes(payload);
  out.PutU32(Crc32c(out.Bytes()));
  return out.Take();
}

std::string Frame(uint8_t version, uint8_t tag, const std::string& payload) {
  return Frame(version, tag, payload, static_cast<uint32_t>(payload.size()));
}

std::string NodePayload(const NodeRecord& node, uint8_t role, uint8_t state, uint8_t voter) {
  ByteWriter out;
  out.PutI32(node.node_id);
  out.PutString(node.name);
  out.PutString(node.host);
  out.PutI32(node.port);
  out.PutString(node.region);
  out.PutU8(role);
  out.PutU8(state);
  out.PutU8(voter);
  out.PutI64(node.last_heartbeat_us);
  return out.Take();
}

// Returns the problem after "metadata command is corrupted: ", or fails.
std::string DecodeProblem(std::string_view bytes) {
  try {
    Command command = DecodeCommand(bytes);
    ADD_FAILURE() << "decoded a " << CommandName(command) << " from corrupted bytes";
  } catch (const Error& error) {
    EXPECT_EQ(error.Sqlstate(), sqlstate::kDataCorrupted) << error.Message();
    EXPECT_EQ(error.Message().rfind(kCorrupted, 0), 0u) << error.Message();
    EXPECT_EQ(error.Detail(), "");
    EXPECT_EQ(error.Hint(), "");
    return error.Message().substr(std::string(kCorrupted).size());
  }
  return "";
}

TEST(CommandCodecTest, RoundTripsEveryCommand) {
  for (const Command& command : SampleCommands()) {
    SCOPED_TRACE(CommandName(command));
    EXPECT_EQ(DecodeCommand(EncodeCommand(command)), command);
  }
}

TEST(CommandCodecTest, CoversEveryCommandType) {
  std::vector<bool> seen(std::variant_size_v<Command>, false);
  for (const Command& command : SampleCommands()) seen[command.index()] = true;
  for (size_t index = 0; index < seen.size(); index++) EXPECT_TRUE(seen[index]) << "no sample of variant " << index;
}

// Tags are part of the stored format: these values must never change.
TEST(CommandCodecTest, TagsAreStable) {
  EXPECT_EQ(EncodeCommand(CreateCluster{})[5], 1);
  EXPECT_EQ(EncodeCommand(AddNode{})[5], 2);
  EXPECT_EQ(EncodeCommand(RemoveNode{})[5], 3);
  EXPECT_EQ(EncodeCommand(JoinCluster{})[5], 4);
  EXPECT_EQ(EncodeCommand(LeaveCluster{})[5], 5);
}

TEST(CommandCodecTest, GoldenRemoveNode) {
  const std::string expected = "PHMC\x01\x03\x04\x00\x00\x00\x07\x00\x00\x00"s;
  const std::string encoded = EncodeCommand(RemoveNode{7});
  ASSERT_EQ(encoded.size(), expected.size() + 4);
  EXPECT_EQ(encoded.substr(0, expected.size()), expected);
  EXPECT_EQ(encoded.substr(expected.size()), "\xD5\x0E\x6A\xDD"s);  // CRC-32C, little-endian
}

TEST(CommandCodecTest, NodeRecordLayout) {
  const NodeRecord node = SampleNode();
  EXPECT_EQ(EncodeCommand(AddNode{node}), Frame(1, 2, NodePayload(node, 1, 4, 1)));
}

TEST(CommandCodecTest, ClusterIdIsSixteenRawBytes) {
  const ClusterId id = SampleClusterId();
  const std::string raw(reinterpret_cast<const char*>(id.data()), id.size());
  EXPECT_EQ(EncodeCommand(LeaveCluster{id}), Frame(1, 5, raw));
  ByteWriter join;
  join.PutBytes(raw);
  join.PutString("coordinator.example");
  join.PutI32(5432);
  EXPECT_EQ(EncodeCommand(JoinCluster{id, "coordinator.example", 5432}), Frame(1, 4, join.Take()));
}

TEST(CommandCodecTest, EverySingleByteCorruptionIsRejected) {
  for (const Command& command : SampleCommands()) {
    SCOPED_TRACE(CommandName(command));
    const std::string encoded = EncodeCommand(command);
    for (size_t position = 0; position < encoded.size(); position++) {
      for (uint8_t mask : {0x01, 0x80, 0xFF}) {
        std::string corrupted = encoded;
        corrupted[position] = static_cast<char>(corrupted[position] ^ mask);
        SCOPED_TRACE("byte " + std::to_string(position) + " xor " + std::to_string(mask));
        EXPECT_NE(DecodeProblem(corrupted), "");
      }
    }
  }
}

TEST(CommandCodecTest, EveryTruncationIsRejected) {
  for (const Command& command : SampleCommands()) {
    SCOPED_TRACE(CommandName(command));
    const std::string encoded = EncodeCommand(command);
    for (size_t length = 0; length < encoded.size(); length++) {
      SCOPED_TRACE("length " + std::to_string(length));
      EXPECT_NE(DecodeProblem(std::string_view(encoded).substr(0, length)), "");
    }
  }
}

TEST(CommandCodecTest, ShortInputIsNamed) {
  EXPECT_EQ(DecodeProblem(""), "0 byte(s) is shorter than the smallest command");
  EXPECT_EQ(DecodeProblem("PHMC\x01\x03"s), "6 byte(s) is shorter than the smallest command");
}

TEST(CommandCodecTest, TrailingBytesAreRejected) {
  const std::string encoded = EncodeCommand(RemoveNode{7});
  EXPECT_EQ(DecodeProblem(encoded + "\x00"s), "checksum mismatch");
  // Extra payload bytes under a consistent length and checksum.
  EXPECT_EQ(DecodeProblem(Frame(1, 3, "\x07\x00\x00\x00\x00"s)), "1 unexpected trailing byte(s)");
}

TEST(CommandCodecTest, BadMagicIsRejected) {
  std::string frame = Frame(1, 3, "\x07\x00\x00\x00"s);
  frame[3] = 'X';
  EXPECT_EQ(DecodeProblem(frame), "bad magic");
}

TEST(CommandCodecTest, UnknownVersionIsNamed) {
  EXPECT_EQ(DecodeProblem(Frame(2, 3, "\x07\x00\x00\x00"s)), "unknown format version 2 (this build reads version 1)");
  EXPECT_EQ(DecodeProblem(Frame(0, 3, "\x07\x00\x00\x00"s)), "unknown format version 0 (this build reads version 1)");
  // A later version may lay out its checksum differently: named all the same.
  std::string newer = EncodeCommand(RemoveNode{7});
  newer[4] = 9;
  EXPECT_EQ(DecodeProblem(newer), "unknown format version 9 (this build reads version 1)");
}

TEST(CommandCodecTest, UnknownTagIsRejected) {
  for (uint8_t tag : {0, 6, 255})
    EXPECT_EQ(DecodeProblem(Frame(1, tag, "")), "unknown command tag " + std::to_string(tag));
}

TEST(CommandCodecTest, PayloadLengthMustMatch) {
  const std::string payload = "\x07\x00\x00\x00"s;
  EXPECT_EQ(DecodeProblem(Frame(1, 3, payload, 5)), "payload length 5 does not match the 4 byte(s) present");
  EXPECT_EQ(DecodeProblem(Frame(1, 3, payload, 3)), "payload length 3 does not match the 4 byte(s) present");
  EXPECT_EQ(DecodeProblem(Frame(1, 3, payload, UINT32_MAX)),
            "payload length 4294967295 does not match the 4 byte(s) present");
}

TEST(CommandCodecTest, ShortPayloadIsRejected) {
  EXPECT_EQ(DecodeProblem(Frame(1, 3, "\x07\x00"s)), "needs 4 more byte(s) at offset 0, has 2");
  EXPECT_EQ(DecodeProblem(Frame(1, 5, std::string(15, 'x'))), "needs 16 more byte(s) at offset 0, has 15");
}

TEST(CommandCodecTest, EnumsOutOfRangeAreRejected) {
  const NodeRecord node = SampleNode();
  EXPECT_EQ(DecodeProblem(Frame(1, 2, NodePayload(node, 2, 1, 1))), "unknown node role 2");
  EXPECT_EQ(DecodeProblem(Frame(1, 2, NodePayload(node, 255, 1, 1))), "unknown node role 255");
  EXPECT_EQ(DecodeProblem(Frame(1, 2, NodePayload(node, 0, 6, 1))), "unknown node state 6");
  const std::string bad_voter = NodePayload(node, 0, 1, 2);
  EXPECT_EQ(DecodeProblem(Frame(1, 2, bad_voter)), "boolean byte 2 at offset " + std::to_string(bad_voter.size() - 9));
  // Every value in range decodes.
  for (uint8_t role = 0; role <= 1; role++)
    for (uint8_t state = 0; state <= 5; state++)
      for (uint8_t voter = 0; voter <= 1; voter++)
        EXPECT_NO_THROW(DecodeCommand(Frame(1, 2, NodePayload(node, role, state, voter))));
}

TEST(CommandCodecTest, HugeStringLengthIsRejectedWithoutAllocating) {
  ByteWriter payload;
  payload.PutI32(7);
  payload.PutU32(0xFFFFFFF0);  // the name's declared length
  payload.PutBytes("short");
  const std::string frame = Frame(1, 2, payload.Take());
  AllocationProbe probe;
  EXPECT_EQ(DecodeProblem(frame), "needs 4294967280 more byte(s) at offset 8, has 5");
  EXPECT_LT(probe.LargestBytes(), 4096u);
}

// Random damage of every kind, beyond single bytes: always an Error, never a
// crash or a silently different command. Seeded, so a failure reproduces.
TEST(CommandCodecTest, RandomDamageIsRejected) {
  std::mt19937 random(20240601);
  const std::vector<Command> commands = SampleCommands();
  for (int round = 0; round < 2000; round++) {
    const Command& command = commands[random() % commands.size()];
    std::string bytes = EncodeCommand(command);
    const int damage = 1 + static_cast<int>(random() % 8);
    for (int i = 0; i < damage; i++) bytes[random() % bytes.size()] = static_cast<char>(random());
    try {
      EXPECT_EQ(DecodeCommand(bytes), command) << "round " << round;  // damage may rewrite a byte to itself
    } catch (const Error& error) {
      EXPECT_EQ(error.Sqlstate(), sqlstate::kDataCorrupted);
    }
  }
  // Random garbage behind a valid header prefix.
  for (int round = 0; round < 2000; round++) {
    std::string bytes = "PHMC\x01"s;
    const size_t length = random() % 64;
    for (size_t i = 0; i < length; i++) bytes.push_back(static_cast<char>(random()));
    EXPECT_THROW(DecodeCommand(bytes), Error) << "round " << round;
  }
}

}  // namespace
}  // namespace phantom::metadata
