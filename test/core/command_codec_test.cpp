#include "core/metadata/command_codec.hpp"

#include <gtest/gtest.h>

#include "frame_damage.hpp"

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
// The format version these tests pin, and the tags of version 2.
constexpr uint8_t kV = 2;
constexpr uint8_t kCreateClusterTag = 1;
constexpr uint8_t kAddNodeTag = 2;
constexpr uint8_t kRemoveNodeTag = 3;
constexpr uint8_t kCreateTableTag = 4;
constexpr uint8_t kDropTableTag = 5;
constexpr uint8_t kRenameTableTag = 6;
constexpr uint8_t kSetNodeStateTag = 7;

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
  node.last_heartbeat_us = -1234567890123;
  return node;
}

TableRecord SampleHashTable() {
  TableRecord table;
  table.table_id = 3;
  table.schema_name = "sales";
  table.table_name = "\xC3\xB6rders";
  table.method = DistributionMethod::kHash;
  table.distribution_column = "customer_id";
  table.colocation_id = 2;
  table.shards = {
      ShardRecord{102008, 0, INT32_MIN, -1, {1, 2}},
      ShardRecord{102009, 1, 0, INT32_MAX, {2, 1}},
  };
  return table;
}

TableRecord SampleReferenceTable() {
  TableRecord table;
  table.table_id = INT64_MAX;
  table.schema_name = "public";
  table.table_name = "countries";
  table.method = DistributionMethod::kReference;
  table.shards = {ShardRecord{INT64_MAX, 0, INT32_MIN, INT32_MAX, {1, 2, 3}}};
  return table;
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
      CreateDistributedTable{SampleHashTable(), ColocationRecord{2, 2, "bigint", 2}},
      CreateDistributedTable{SampleHashTable(), std::nullopt},
      CreateDistributedTable{SampleReferenceTable(), std::nullopt},
      CreateDistributedTable{TableRecord{}, ColocationRecord{}},
      DropDistributedTable{3},
      DropDistributedTable{INT64_MIN},
      RenameDistributedTable{3, "archive", "old_orders", "customer"},
      RenameDistributedTable{},
      SetNodeState{3, NodeState::kActive, NodeState::kSuspect, 1700000000000000},
      SetNodeState{INT32_MIN, NodeState::kDrained, NodeState::kJoining, INT64_MIN},
      SetNodeState{},
      MetadataBarrier{},
  };
}

// The payload of a CreateDistributedTable as documented field by field,
// with the counts as given so a test can lie about them.
std::string TableHeader(const TableRecord& table, uint8_t method) {
  ByteWriter out;
  out.PutI64(table.table_id);
  out.PutString(table.schema_name);
  out.PutString(table.table_name);
  out.PutU8(method);
  out.PutString(table.distribution_column);
  out.PutI32(table.colocation_id);
  return out.Take();
}

std::string ShardPayload(const ShardRecord& shard, uint32_t placement_count) {
  ByteWriter out;
  out.PutI64(shard.shard_id);
  out.PutI32(shard.shard_index);
  out.PutI32(shard.hash_min);
  out.PutI32(shard.hash_max);
  out.PutU32(placement_count);
  for (NodeId node : shard.placements) out.PutI32(node);
  return out.Take();
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

std::string NodePayload(const NodeRecord& node, uint8_t role, uint8_t state) {
  ByteWriter out;
  out.PutI32(node.node_id);
  out.PutString(node.name);
  out.PutString(node.host);
  out.PutI32(node.port);
  out.PutString(node.region);
  out.PutU8(role);
  out.PutU8(state);
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

// Tags and the version are part of the stored format: within a version these
// values must never change (version 2 renumbered the tags after JoinCluster
// and LeaveCluster were retired, before any release).
TEST(CommandCodecTest, TagsAreStable) {
  EXPECT_EQ(kCommandFormatVersion, kV);
  EXPECT_EQ(EncodeCommand(CreateCluster{})[5], 1);
  EXPECT_EQ(EncodeCommand(AddNode{})[5], 2);
  EXPECT_EQ(EncodeCommand(RemoveNode{})[5], 3);
  EXPECT_EQ(EncodeCommand(CreateDistributedTable{})[5], 4);
  EXPECT_EQ(EncodeCommand(DropDistributedTable{})[5], 5);
  EXPECT_EQ(EncodeCommand(RenameDistributedTable{})[5], 6);
  EXPECT_EQ(EncodeCommand(SetNodeState{})[5], 7);
  EXPECT_EQ(EncodeCommand(MetadataBarrier{})[5], 8);
}

TEST(CommandCodecTest, GoldenDropDistributedTable) {
  const std::string expected = "PHMC\x02\x05\x08\x00\x00\x00\x09\x01\x00\x00\x00\x00\x00\x00"s;
  const std::string encoded = EncodeCommand(DropDistributedTable{0x109});
  ASSERT_EQ(encoded.size(), expected.size() + 4);
  EXPECT_EQ(encoded.substr(0, expected.size()), expected);
  EXPECT_EQ(encoded, Frame(kV, kDropTableTag, expected.substr(10)));
}

TEST(CommandCodecTest, CreateDistributedTableLayout) {
  const TableRecord table = SampleHashTable();
  ByteWriter payload;
  payload.PutBytes(TableHeader(table, 0));
  payload.PutU32(2);
  for (const ShardRecord& shard : table.shards) payload.PutBytes(ShardPayload(shard, 2));
  const std::string without_group = payload.Bytes() + "\x00"s;
  EXPECT_EQ(EncodeCommand(CreateDistributedTable{table, std::nullopt}), Frame(kV, kCreateTableTag, without_group));
  payload.PutBool(true);
  payload.PutI32(2);
  payload.PutI32(2);
  payload.PutString("bigint");
  payload.PutI32(2);
  EXPECT_EQ(EncodeCommand(CreateDistributedTable{table, ColocationRecord{2, 2, "bigint", 2}}),
            Frame(kV, kCreateTableTag, payload.Take()));
}

TEST(CommandCodecTest, RenameDistributedTableLayout) {
  ByteWriter payload;
  payload.PutI64(3);
  payload.PutString("archive");
  payload.PutString("old_orders");
  payload.PutString("customer");
  EXPECT_EQ(EncodeCommand(RenameDistributedTable{3, "archive", "old_orders", "customer"}),
            Frame(kV, kRenameTableTag, payload.Take()));
}

TEST(CommandCodecTest, UnknownDistributionMethodIsRejected) {
  const TableRecord table = SampleReferenceTable();
  for (uint8_t method : {2, 255}) {
    const std::string payload = TableHeader(table, method) + "\x00\x00\x00\x00\x00"s;
    EXPECT_EQ(DecodeProblem(Frame(kV, kCreateTableTag, payload)),
              "unknown distribution method " + std::to_string(method));
  }
  EXPECT_NO_THROW(DecodeCommand(Frame(kV, kCreateTableTag, TableHeader(table, 1) + "\x00\x00\x00\x00\x00"s)));
}

TEST(CommandCodecTest, NewGroupFlagMustBeABoolean) {
  const std::string payload = TableHeader(TableRecord{}, 0) + "\x00\x00\x00\x00"s;
  EXPECT_EQ(DecodeProblem(Frame(kV, kCreateTableTag, payload + "\x02"s)),
            "boolean byte 2 at offset " + std::to_string(payload.size()));
}

// A count is checked against the bytes left before anything is reserved, so
// a corrupted count fails cleanly instead of allocating for it.
TEST(CommandCodecTest, HugeShardCountIsRejectedWithoutAllocating) {
  const std::string payload = TableHeader(SampleHashTable(), 0) + "\x00\x00\x00\x80"s + std::string(10, 'x');
  const std::string frame = Frame(kV, kCreateTableTag, payload);
  AllocationProbe probe;
  EXPECT_EQ(DecodeProblem(frame), "2147483648 shard(s) cannot fit in the 10 byte(s) left");
  EXPECT_LT(probe.LargestBytes(), 4096u);
}

TEST(CommandCodecTest, HugePlacementCountIsRejectedWithoutAllocating) {
  const TableRecord table = SampleHashTable();
  const std::string payload =
      TableHeader(table, 0) + "\x01\x00\x00\x00"s + ShardPayload(table.shards[0], 0xFFFFFFFF) + "\x00"s;
  const std::string frame = Frame(kV, kCreateTableTag, payload);
  AllocationProbe probe;
  EXPECT_EQ(DecodeProblem(frame), "4294967295 placement(s) cannot fit in the 9 byte(s) left");
  EXPECT_LT(probe.LargestBytes(), 4096u);
}

TEST(CommandCodecTest, CountsOneTooLargeAreRejected) {
  const TableRecord table = SampleHashTable();
  // Two shards of 24 + 8 bytes and the group flag: 65 bytes cannot hold 3
  // shards' fixed 72, and 2 placements then leave 2 (at 4 bytes each) too few.
  std::string shards = ShardPayload(table.shards[0], 2) + ShardPayload(table.shards[1], 2) + "\x00"s;
  EXPECT_EQ(DecodeProblem(Frame(kV, kCreateTableTag, TableHeader(table, 0) + "\x03\x00\x00\x00"s + shards)),
            "3 shard(s) cannot fit in the 65 byte(s) left");
  const std::string one_shard = TableHeader(table, 0) + "\x01\x00\x00\x00"s + ShardPayload(table.shards[0], 3);
  EXPECT_EQ(DecodeProblem(Frame(kV, kCreateTableTag, one_shard + "\x00"s)),
            "3 placement(s) cannot fit in the 9 byte(s) left");
  // A count that fits the minimum size but whose elements run out.
  const std::string short_second =
      TableHeader(table, 0) + "\x02\x00\x00\x00"s + ShardPayload(table.shards[0], 2) + std::string(16, '\0');
  EXPECT_EQ(DecodeProblem(Frame(kV, kCreateTableTag, short_second)),
            "needs 4 more byte(s) at offset " + std::to_string(short_second.size()) + ", has 0");
}

TEST(CommandCodecTest, GoldenRemoveNode) {
  const std::string expected = "PHMC\x02\x03\x04\x00\x00\x00\x07\x00\x00\x00"s;
  const std::string encoded = EncodeCommand(RemoveNode{7});
  ASSERT_EQ(encoded.size(), expected.size() + 4);
  EXPECT_EQ(encoded.substr(0, expected.size()), expected);
  EXPECT_EQ(encoded.substr(expected.size()), "\xCB\xF4\x7C\x85"s);  // CRC-32C, little-endian
}

TEST(CommandCodecTest, NodeRecordLayout) {
  const NodeRecord node = SampleNode();
  EXPECT_EQ(EncodeCommand(AddNode{node}), Frame(kV, kAddNodeTag, NodePayload(node, 1, 4)));
}

TEST(CommandCodecTest, CreateClusterLayout) {
  const ClusterId id = SampleClusterId();
  const std::string raw(reinterpret_cast<const char*>(id.data()), id.size());  // sixteen raw bytes
  const NodeRecord node = SampleNode();
  EXPECT_EQ(EncodeCommand(CreateCluster{id, node}), Frame(kV, kCreateClusterTag, raw + NodePayload(node, 1, 4)));
}

TEST(CommandCodecTest, SetNodeStateLayout) {
  ByteWriter payload;
  payload.PutI32(3);
  payload.PutU8(2);  // suspect
  payload.PutU8(3);  // failed
  payload.PutI64(-5);
  EXPECT_EQ(EncodeCommand(SetNodeState{3, NodeState::kSuspect, NodeState::kFailed, -5}),
            Frame(kV, kSetNodeStateTag, payload.Take()));
}

TEST(CommandCodecTest, EverySingleByteCorruptionIsRejected) {
  for (const Command& command : SampleCommands()) {
    SCOPED_TRACE(CommandName(command));
    const std::string encoded = EncodeCommand(command);
    ExpectEveryByteFlipRefused(encoded, kCommandFormatVersion, DecodeProblem);
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
  EXPECT_EQ(DecodeProblem("PHMC\x02\x03"s), "6 byte(s) is shorter than the smallest command");
}

TEST(CommandCodecTest, TrailingBytesAreRejected) {
  const std::string encoded = EncodeCommand(RemoveNode{7});
  EXPECT_EQ(DecodeProblem(encoded + "\x00"s), "checksum mismatch");
  // Extra payload bytes under a consistent length and checksum.
  EXPECT_EQ(DecodeProblem(Frame(kV, kRemoveNodeTag, "\x07\x00\x00\x00\x00"s)), "1 unexpected trailing byte(s)");
}

TEST(CommandCodecTest, BadMagicIsRejected) {
  std::string frame = Frame(kV, kRemoveNodeTag, "\x07\x00\x00\x00"s);
  frame[3] = 'X';
  EXPECT_EQ(DecodeProblem(frame), "bad magic");
}

TEST(CommandCodecTest, UnknownVersionIsNamed) {
  // Version 1 had JoinCluster and LeaveCluster and other tags: never read as version 2.
  EXPECT_EQ(DecodeProblem(Frame(1, 3, "\x07\x00\x00\x00"s)), "unknown format version 1 (this build reads version 2)");
  EXPECT_EQ(DecodeProblem(Frame(3, 3, "\x07\x00\x00\x00"s)), "unknown format version 3 (this build reads version 2)");
  EXPECT_EQ(DecodeProblem(Frame(0, 3, "\x07\x00\x00\x00"s)), "unknown format version 0 (this build reads version 2)");
  // A later version may lay out its checksum differently: named all the same.
  std::string newer = EncodeCommand(RemoveNode{7});
  newer[4] = 9;
  EXPECT_EQ(DecodeProblem(newer), "unknown format version 9 (this build reads version 2)");
}

TEST(CommandCodecTest, UnknownTagIsRejected) {
  for (uint8_t tag : {0, 9, 10, 255})
    EXPECT_EQ(DecodeProblem(Frame(kV, tag, "")), "unknown command tag " + std::to_string(tag));
}

TEST(CommandCodecTest, PayloadLengthMustMatch) {
  const std::string payload = "\x07\x00\x00\x00"s;
  EXPECT_EQ(DecodeProblem(Frame(kV, kRemoveNodeTag, payload, 5)),
            "payload length 5 does not match the 4 byte(s) present");
  EXPECT_EQ(DecodeProblem(Frame(kV, kRemoveNodeTag, payload, 3)),
            "payload length 3 does not match the 4 byte(s) present");
  EXPECT_EQ(DecodeProblem(Frame(kV, kRemoveNodeTag, payload, UINT32_MAX)),
            "payload length 4294967295 does not match the 4 byte(s) present");
}

TEST(CommandCodecTest, ShortPayloadIsRejected) {
  EXPECT_EQ(DecodeProblem(Frame(kV, kRemoveNodeTag, "\x07\x00"s)), "needs 4 more byte(s) at offset 0, has 2");
  EXPECT_EQ(DecodeProblem(Frame(kV, kCreateClusterTag, std::string(15, 'x'))),
            "needs 16 more byte(s) at offset 0, has 15");
  EXPECT_EQ(DecodeProblem(Frame(kV, kSetNodeStateTag, "\x03\x00\x00\x00\x01\x02\x00"s)),
            "needs 8 more byte(s) at offset 6, has 1");
}

TEST(CommandCodecTest, EnumsOutOfRangeAreRejected) {
  const NodeRecord node = SampleNode();
  EXPECT_EQ(DecodeProblem(Frame(kV, kAddNodeTag, NodePayload(node, 2, 1))), "unknown node role 2");
  EXPECT_EQ(DecodeProblem(Frame(kV, kAddNodeTag, NodePayload(node, 255, 1))), "unknown node role 255");
  EXPECT_EQ(DecodeProblem(Frame(kV, kAddNodeTag, NodePayload(node, 0, 6))), "unknown node state 6");
  // Every value in range decodes.
  for (uint8_t role = 0; role <= 1; role++)
    for (uint8_t state = 0; state <= 5; state++)
      EXPECT_NO_THROW(DecodeCommand(Frame(kV, kAddNodeTag, NodePayload(node, role, state))));
}

// SetNodeState's two states are checked like a node record's.
TEST(CommandCodecTest, SetNodeStateStatesOutOfRangeAreRejected) {
  auto payload = [](uint8_t from, uint8_t to) {
    ByteWriter out;
    out.PutI32(2);
    out.PutU8(from);
    out.PutU8(to);
    out.PutI64(0);
    return out.Take();
  };
  EXPECT_EQ(DecodeProblem(Frame(kV, kSetNodeStateTag, payload(6, 1))), "unknown node state 6");
  EXPECT_EQ(DecodeProblem(Frame(kV, kSetNodeStateTag, payload(1, 255))), "unknown node state 255");
  for (uint8_t from = 0; from <= 5; from++)
    for (uint8_t to = 0; to <= 5; to++)
      EXPECT_EQ(DecodeCommand(Frame(kV, kSetNodeStateTag, payload(from, to))),
                Command(SetNodeState{2, static_cast<NodeState>(from), static_cast<NodeState>(to), 0}));
}

TEST(CommandCodecTest, HugeStringLengthIsRejectedWithoutAllocating) {
  ByteWriter payload;
  payload.PutI32(7);
  payload.PutU32(0xFFFFFFF0);  // the name's declared length
  payload.PutBytes("short");
  const std::string frame = Frame(kV, kAddNodeTag, payload.Take());
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
    std::string bytes = "PHMC\x02"s;
    const size_t length = random() % 64;
    for (size_t i = 0; i < length; i++) bytes.push_back(static_cast<char>(random()));
    EXPECT_THROW(DecodeCommand(bytes), Error) << "round " << round;
  }
}

// Every role and state, and the extremes of every integer field, survive the
// round trip.
TEST(CommandCodecTest, RoundTripsEveryRoleStateAndExtreme) {
  const NodeRole roles[] = {NodeRole::kPrimary, NodeRole::kReplica};
  const NodeState states[] = {NodeState::kJoining, NodeState::kActive,   NodeState::kSuspect,
                              NodeState::kFailed,  NodeState::kDraining, NodeState::kDrained};
  const int32_t ints[] = {INT32_MIN, -1, 0, 1, INT32_MAX};
  const int64_t longs[] = {INT64_MIN, -1, 0, 1, INT64_MAX};
  int round = 0;
  for (NodeRole role : roles) {
    for (NodeState state : states) {
      NodeRecord node = SampleNode();
      node.role = role;
      node.state = state;
      node.node_id = ints[round % 5];
      node.port = ints[(round + 2) % 5];
      node.last_heartbeat_us = longs[round % 5];
      node.name = "\xE6\x97\xA5\xE6\x9C\xAC-\xF0\x9F\x90\x98";  // CJK and an emoji
      node.host = std::string("h\0st", 4);
      node.region = std::string(300, 'r');
      round++;
      SCOPED_TRACE(std::string(NodeRoleName(role)) + "/" + NodeStateName(state));
      for (const Command& command : {Command(AddNode{node}), Command(CreateCluster{SampleClusterId(), node})})
        EXPECT_EQ(DecodeCommand(EncodeCommand(command)), command);
    }
  }
  for (NodeState from : states)
    for (NodeState to : states) {
      const SetNodeState change{ints[round % 5], from, to, longs[round % 5]};
      round++;
      EXPECT_EQ(DecodeCommand(EncodeCommand(change)), Command(change));
    }
  for (int32_t value : ints) EXPECT_EQ(DecodeCommand(EncodeCommand(RemoveNode{value})), Command(RemoveNode{value}));
  ClusterId all_ones{};
  all_ones.fill(0xFF);
  const CreateCluster create{all_ones, SampleNode()};
  EXPECT_EQ(DecodeCommand(EncodeCommand(create)), Command(create));
}

// Every encoding: magic, version 2, its tag, the payload's true length, and
// the CRC-32C of the rest; re-encoding a decoded command gives the same bytes.
TEST(CommandCodecTest, EveryEncodingHasTheDocumentedFrame) {
  for (const Command& command : SampleCommands()) {
    SCOPED_TRACE(CommandName(command));
    const std::string encoded = EncodeCommand(command);
    ASSERT_GE(encoded.size(), 14u);
    EXPECT_EQ(encoded.substr(0, 4), "PHMC");
    EXPECT_EQ(encoded[4], static_cast<char>(kV));
    EXPECT_EQ(static_cast<size_t>(encoded[5]), command.index() + 1);
    ByteReader header(std::string_view(encoded).substr(6, 4), "header");
    EXPECT_EQ(header.GetU32(), encoded.size() - 14);
    ByteReader trailer(std::string_view(encoded).substr(encoded.size() - 4), "trailer");
    EXPECT_EQ(trailer.GetU32(), Crc32c(std::string_view(encoded).substr(0, encoded.size() - 4)));
    EXPECT_EQ(EncodeCommand(DecodeCommand(encoded)), encoded);
  }
}

// A single damaged byte names what it hit: the magic, the version, and
// anywhere else the checksum (CRC-32C catches every single-byte error).
TEST(CommandCodecTest, EverySingleByteCorruptionIsNamedExactly) {
  for (const Command& command : SampleCommands()) {
    SCOPED_TRACE(CommandName(command));
    const std::string encoded = EncodeCommand(command);
    for (size_t position = 0; position < encoded.size(); position++) {
      for (int mask = 1; mask <= 0xFF; mask++) {
        if (mask != 0xFF && (mask & (mask - 1)) != 0) continue;  // each bit, and all eight
        std::string corrupted = encoded;
        corrupted[position] = static_cast<char>(corrupted[position] ^ mask);
        SCOPED_TRACE("byte " + std::to_string(position) + " xor " + std::to_string(mask));
        std::string expected = "checksum mismatch";
        if (position < 4)
          expected = "bad magic";
        else if (position == 4)
          expected = "unknown format version " + std::to_string(static_cast<uint8_t>(corrupted[4])) +
                     " (this build reads version 2)";
        EXPECT_EQ(DecodeProblem(corrupted), expected);
      }
    }
  }
}

// Every prefix of every encoding, with the exact problem: too short for a
// header, or (the checksum being read from the wrong place) a mismatch.
TEST(CommandCodecTest, EveryTruncationIsNamedExactly) {
  for (const Command& command : SampleCommands()) {
    SCOPED_TRACE(CommandName(command));
    const std::string encoded = EncodeCommand(command);
    for (size_t length = 0; length < encoded.size(); length++) {
      SCOPED_TRACE("length " + std::to_string(length));
      EXPECT_EQ(
          DecodeProblem(std::string_view(encoded).substr(0, length)),
          length < 14 ? std::to_string(length) + " byte(s) is shorter than the smallest command" : "checksum mismatch");
    }
  }
}

// Every command's payload with a byte too many or too few, re-framed with a
// valid checksum and a consistent length, is still rejected.
TEST(CommandCodecTest, EveryPayloadMustBeExactlyConsumed) {
  for (const Command& command : SampleCommands()) {
    SCOPED_TRACE(CommandName(command));
    const std::string encoded = EncodeCommand(command);
    const auto tag = static_cast<uint8_t>(encoded[5]);
    const std::string payload = encoded.substr(10, encoded.size() - 14);
    EXPECT_EQ(Frame(kV, tag, payload), encoded);
    EXPECT_EQ(DecodeProblem(Frame(kV, tag, payload + "\x00"s)), "1 unexpected trailing byte(s)");
    EXPECT_EQ(DecodeProblem(Frame(kV, tag, payload + "xyz")), "3 unexpected trailing byte(s)");
    if (!payload.empty()) {  // a barrier has no payload to cut short
      const std::string problem = DecodeProblem(Frame(kV, tag, payload.substr(0, payload.size() - 1)));
      EXPECT_EQ(problem.rfind("needs ", 0), 0u) << problem;
    }
    // The declared length disagreeing with the bytes present, either way.
    const auto size = static_cast<uint32_t>(payload.size());
    EXPECT_EQ(DecodeProblem(Frame(kV, tag, payload, size + 1)), "payload length " + std::to_string(size + 1) +
                                                                    " does not match the " + std::to_string(size) +
                                                                    " byte(s) present");
    if (size > 0) {
      EXPECT_EQ(DecodeProblem(Frame(kV, tag, payload, size - 1)), "payload length " + std::to_string(size - 1) +
                                                                      " does not match the " + std::to_string(size) +
                                                                      " byte(s) present");
    }
  }
}

TEST(CommandCodecTest, EnumsOutOfRangeAreNamed) {
  const NodeRecord node = SampleNode();
  EXPECT_EQ(DecodeProblem(Frame(kV, kAddNodeTag, NodePayload(node, 7, 1))), "unknown node role 7");
  EXPECT_EQ(DecodeProblem(Frame(kV, kAddNodeTag, NodePayload(node, 0, 9))), "unknown node state 9");
  // The same checks guard CreateCluster's self record.
  const ClusterId id = SampleClusterId();
  const std::string raw_id(reinterpret_cast<const char*>(id.data()), id.size());
  EXPECT_EQ(DecodeProblem(Frame(kV, kCreateClusterTag, raw_id + NodePayload(node, 7, 1))), "unknown node role 7");
  EXPECT_EQ(DecodeProblem(Frame(kV, kCreateClusterTag, raw_id + NodePayload(node, 0, 9))), "unknown node state 9");
}

TEST(CommandCodecTest, UnknownVersionIsNamedBeforeTheChecksum) {
  // A version-3 frame whose checksum does not match still names the version.
  std::string frame = Frame(3, 3, "\x07\x00\x00\x00"s);
  frame.back() = static_cast<char>(frame.back() ^ 1);
  EXPECT_EQ(DecodeProblem(frame), "unknown format version 3 (this build reads version 2)");
  EXPECT_EQ(DecodeProblem(Frame(255, 1, "")), "unknown format version 255 (this build reads version 2)");
}

TEST(CommandCodecTest, ChecksumIsCheckedBeforeTagAndLength) {
  // An unknown tag and a wrong length, but the checksum is wrong too: the
  // damage is reported as such.
  std::string frame = Frame(kV, 9, "abc", 99);
  frame[frame.size() - 1] = static_cast<char>(frame[frame.size() - 1] ^ 0x40);
  EXPECT_EQ(DecodeProblem(frame), "checksum mismatch");
}

TEST(CommandCodecTest, DecodedCommandOwnsItsStrings) {
  std::string encoded = EncodeCommand(AddNode{SampleNode()});
  const Command command = DecodeCommand(encoded);
  encoded.assign(encoded.size(), '\0');
  EXPECT_EQ(std::get<AddNode>(command).node.host, "::1");
  EXPECT_EQ(std::get<AddNode>(command).node.region, "eu-west");
}

}  // namespace
}  // namespace phantom::metadata
