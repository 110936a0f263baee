// Encoding proposals and telling versioned commands; see proposal.hpp.
#include "core/metadata/proposal.hpp"

#include "core/common/byte_buffer.hpp"
#include "core/metadata/codec_frame.hpp"
#include "core/metadata/command_codec.hpp"
#include "core/common/pure.hpp"

namespace phantom::metadata {

namespace {

constexpr size_t kMinBody = 8 + 4 + 8 + 4;  // id, origin, based_on, command length
constexpr FrameFormat kFormat{"PHMP", kProposalFormatVersion, "metadata proposal", "proposal", kMinBody};

}  // namespace

std::string EncodeProposal(const Proposal& proposal) {
  ByteWriter body;
  body.PutU64(proposal.id);
  body.PutI32(proposal.origin);
  body.PutI64(proposal.based_on);
  body.PutString(EncodeCommand(proposal.command));
  return SealFrame(kFormat, body.Bytes());
}

Proposal DecodeProposal(std::string_view bytes) {
  ByteReader body(OpenFrame(kFormat, bytes), kFormat.what);
  Proposal proposal;
  proposal.id = body.GetU64();
  proposal.origin = body.GetI32();
  proposal.based_on = body.GetI64();
  const uint32_t command_size = body.GetU32();
  if (command_size != body.Remaining())
    body.Fail("command length " + std::to_string(command_size) + " does not match the " +
              std::to_string(body.Remaining()) + " byte(s) present");
  proposal.command = DecodeCommand(body.GetBytes(command_size));
  return proposal;
}

bool IsVersioned(const Command& command) {
  return !std::holds_alternative<SetNodeState>(command) && !std::holds_alternative<MetadataBarrier>(command);
}

}  // namespace phantom::metadata
