#include "core/metadata/proposal.hpp"

#include <gtest/gtest.h>

#include "frame_damage.hpp"

#include <algorithm>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "allocation_probe.hpp"
#include "core/common/byte_buffer.hpp"
#include "core/common/crc32c.hpp"
#include "core/common/error.hpp"
#include "core/metadata/command_codec.hpp"

namespace phantom::metadata {
namespace {

using namespace std::string_literals;

constexpr const char* kCorrupted = "metadata proposal is corrupted: ";

NodeRecord SampleNode() {
  NodeRecord node;
  node.node_id = 4;
  node.name = "n\xC3\xBC";
  node.host = "db4.example";
  node.port = 5432;
  node.region = "eu";
  node.state = NodeState::kJoining;
  node.last_heartbeat_us = 1700000000000000;
  return node;
}

std::vector<Proposal> SampleProposals() {
  ClusterId id{};
  id.fill(0x5A);
  return {
      Proposal{0x0123456789ABCDEF, 1, 0, CreateCluster{id, SampleNode()}},
      Proposal{UINT64_MAX, 3, 41, AddNode{SampleNode()}},
      Proposal{1, INT32_MAX, INT64_MAX, RemoveNode{4}},
      Proposal{0, 0, 0, DropDistributedTable{7}},
      Proposal{42, INT32_MIN, INT64_MIN, RenameDistributedTable{7, "s", "t", "c"}},
      Proposal{7, 2, -1, SetNodeState{4, NodeState::kJoining, NodeState::kActive, 99}},
      Proposal{},
  };
}

// The documented layout, built field by field, with a valid checksum.
std::string Frame(uint8_t version, uint64_t id, int32_t origin, int64_t based_on, const std::string& command,
                  uint32_t command_length) {
  ByteWriter out;
  out.PutBytes("PHMP");
  out.PutU8(version);
  out.PutU64(id);
  out.PutI32(origin);
  out.PutI64(based_on);
  out.PutU32(command_length);
  out.PutBytes(command);
  out.PutU32(Crc32c(out.Bytes()));
  return out.Take();
}

std::string Frame(const Proposal& proposal) {
  const std::string command = EncodeCommand(proposal.command);
  return Frame(1, proposal.id, proposal.origin, proposal.based_on, command, static_cast<uint32_t>(command.size()));
}

// The error for bytes that must not decode: XX001, no detail or hint.
Error DecodeError(std::string_view bytes) {
  try {
    const Proposal proposal = DecodeProposal(bytes);
    ADD_FAILURE() << "decoded a proposal of " << CommandName(proposal.command) << " from corrupted bytes";
  } catch (const Error& error) {
    EXPECT_EQ(error.Sqlstate(), sqlstate::kDataCorrupted) << error.Message();
    EXPECT_EQ(error.Detail(), "");
    EXPECT_EQ(error.Hint(), "");
    return error;
  }
  return Error("", "");
}

// The problem after "metadata proposal is corrupted: ", or fails.
std::string DecodeProblem(std::string_view bytes) {
  const std::string message = DecodeError(bytes).Message();
  EXPECT_EQ(message.rfind(kCorrupted, 0), 0u) << message;
  return message.substr(std::min(message.size(), std::string(kCorrupted).size()));
}

TEST(ProposalCodecTest, RoundTrips) {
  for (const Proposal& proposal : SampleProposals()) {
    SCOPED_TRACE(CommandName(proposal.command));
    const std::string encoded = EncodeProposal(proposal);
    EXPECT_EQ(DecodeProposal(encoded), proposal);
    EXPECT_EQ(EncodeProposal(DecodeProposal(encoded)), encoded);
  }
}

TEST(ProposalCodecTest, EveryFieldTakesPart) {
  const Proposal base = SampleProposals()[1];
  Proposal other = base;
  other.id ^= 1;
  EXPECT_NE(EncodeProposal(other), EncodeProposal(base));
  other = base;
  other.origin++;
  EXPECT_NE(EncodeProposal(other), EncodeProposal(base));
  other = base;
  other.based_on++;
  EXPECT_NE(EncodeProposal(other), EncodeProposal(base));
  other = base;
  other.command = AddNode{NodeRecord{}};
  EXPECT_NE(EncodeProposal(other), EncodeProposal(base));
}

// The envelope around the command's own encoding, as proposal.hpp documents.
TEST(ProposalCodecTest, Layout) {
  for (const Proposal& proposal : SampleProposals()) {
    SCOPED_TRACE(CommandName(proposal.command));
    EXPECT_EQ(EncodeProposal(proposal), Frame(proposal));
  }
}

TEST(ProposalCodecTest, GoldenHeader) {
  const std::string encoded = EncodeProposal(Proposal{0x0102030405060708, 2, 0x11, RemoveNode{7}});
  const std::string expected =
      "PHMP\x01\x08\x07\x06\x05\x04\x03\x02\x01\x02\x00\x00\x00\x11\x00\x00\x00\x00\x00\x00\x00\x12\x00\x00\x00"s;
  EXPECT_EQ(encoded.substr(0, expected.size()), expected);
  EXPECT_EQ(encoded.substr(expected.size(), 18), EncodeCommand(RemoveNode{7}));
  EXPECT_EQ(encoded.size(), expected.size() + 18 + 4);
}

// Damage anywhere: the magic, the version, or else the checksum names it.
TEST(ProposalCodecTest, EverySingleByteCorruptionIsRejected) {
  for (const Proposal& proposal : SampleProposals()) {
    SCOPED_TRACE(CommandName(proposal.command));
    const std::string encoded = EncodeProposal(proposal);
    ExpectEveryByteFlipRefused(encoded, kProposalFormatVersion, DecodeProblem);
  }
}

TEST(ProposalCodecTest, EveryTruncationIsRejected) {
  for (const Proposal& proposal : SampleProposals()) {
    SCOPED_TRACE(CommandName(proposal.command));
    const std::string encoded = EncodeProposal(proposal);
    for (size_t length = 0; length < encoded.size(); length++) {
      SCOPED_TRACE("length " + std::to_string(length));
      EXPECT_EQ(DecodeProblem(std::string_view(encoded).substr(0, length)),
                length < 33 ? std::to_string(length) + " byte(s) is shorter than the smallest proposal"
                            : "checksum mismatch");
    }
  }
}

TEST(ProposalCodecTest, UnknownVersionIsNamed) {
  const std::string command = EncodeCommand(RemoveNode{7});
  const auto size = static_cast<uint32_t>(command.size());
  EXPECT_EQ(DecodeProblem(Frame(2, 1, 1, 0, command, size)), "unknown format version 2 (this build reads version 1)");
  EXPECT_EQ(DecodeProblem(Frame(0, 1, 1, 0, command, size)), "unknown format version 0 (this build reads version 1)");
}

// Under a valid checksum, the command's length must match what follows it.
TEST(ProposalCodecTest, CommandLengthMustMatch) {
  const std::string command = EncodeCommand(RemoveNode{7});
  const auto size = static_cast<uint32_t>(command.size());
  EXPECT_EQ(DecodeProblem(Frame(1, 1, 1, 0, command, size + 1)),
            "command length 19 does not match the 18 byte(s) present");
  EXPECT_EQ(DecodeProblem(Frame(1, 1, 1, 0, command, size - 1)),
            "command length 17 does not match the 18 byte(s) present");
  EXPECT_EQ(DecodeProblem(Frame(1, 1, 1, 0, command + "x", size)),
            "command length 18 does not match the 19 byte(s) present");
  const std::string frame = Frame(1, 1, 1, 0, command, UINT32_MAX);
  AllocationProbe probe;
  EXPECT_EQ(DecodeProblem(frame), "command length 4294967295 does not match the 18 byte(s) present");
  EXPECT_LT(probe.LargestBytes(), 4096u);
}

// The command inside keeps its own checks, and reports in its own words.
TEST(ProposalCodecTest, ACorruptedCommandInsideIsRejected) {
  std::string command = EncodeCommand(RemoveNode{7});
  command[12] = static_cast<char>(command[12] ^ 1);
  const Error error = DecodeError(Frame(1, 1, 1, 0, command, static_cast<uint32_t>(command.size())));
  EXPECT_EQ(error.Message(), "metadata command is corrupted: checksum mismatch");
  EXPECT_EQ(DecodeError(Frame(1, 1, 1, 0, "", 0)).Message(),
            "metadata command is corrupted: 0 byte(s) is shorter than the smallest command");
}

TEST(ProposalCodecTest, RandomDamageIsRejected) {
  std::mt19937 random(20250101);
  const std::vector<Proposal> proposals = SampleProposals();
  for (int round = 0; round < 2000; round++) {
    const Proposal& proposal = proposals[random() % proposals.size()];
    std::string bytes = EncodeProposal(proposal);
    const int damage = 1 + static_cast<int>(random() % 8);
    for (int i = 0; i < damage; i++) bytes[random() % bytes.size()] = static_cast<char>(random());
    try {
      EXPECT_EQ(DecodeProposal(bytes), proposal) << "round " << round;  // damage may rewrite a byte to itself
    } catch (const Error& error) {
      EXPECT_EQ(error.Sqlstate(), sqlstate::kDataCorrupted);
    }
  }
}

TEST(ProposalCodecTest, DecodedProposalOwnsItsStrings) {
  std::string encoded = EncodeProposal(SampleProposals()[1]);
  const Proposal proposal = DecodeProposal(encoded);
  encoded.assign(encoded.size(), '\0');
  EXPECT_EQ(std::get<AddNode>(proposal.command).node.host, "db4.example");
}

}  // namespace
}  // namespace phantom::metadata
