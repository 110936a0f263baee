// Encoding and decoding of metadata commands; layout in command_codec.hpp.
// Tags are the variant's index + 1 and are part of the format: a new command
// is appended to the variant, never inserted.
#include "core/metadata/command_codec.hpp"

#include <limits>

#include "core/common/byte_buffer.hpp"
#include "core/common/crc32c.hpp"
#include "core/common/error.hpp"
#include "core/common/pure.hpp"

namespace phantom::metadata {

namespace {

constexpr std::string_view kMagic = "PHMC";
constexpr size_t kHeaderSize = 4 + 1 + 1 + 4;  // magic, version, tag, payload length
constexpr size_t kChecksumSize = 4;
constexpr const char* kWhat = "metadata command";

void PutClusterId(ByteWriter& out, const ClusterId& id) {
  out.PutBytes(std::string_view(reinterpret_cast<const char*>(id.data()), id.size()));
}

ClusterId GetClusterId(ByteReader& in) {
  std::string_view bytes = in.GetBytes(ClusterId{}.size());
  ClusterId id{};
  for (size_t i = 0; i < id.size(); i++) id[i] = static_cast<uint8_t>(bytes[i]);
  return id;
}

void PutNode(ByteWriter& out, const NodeRecord& node) {
  out.PutI32(node.node_id);
  out.PutString(node.name);
  out.PutString(node.host);
  out.PutI32(node.port);
  out.PutString(node.region);
  out.PutU8(static_cast<uint8_t>(node.role));
  out.PutU8(static_cast<uint8_t>(node.state));
  out.PutBool(node.is_raft_voter);
  out.PutI64(node.last_heartbeat_us);
}

NodeRecord GetNode(ByteReader& in) {
  NodeRecord node;
  node.node_id = in.GetI32();
  node.name = in.GetString();
  node.host = in.GetString();
  node.port = in.GetI32();
  node.region = in.GetString();
  uint8_t role = in.GetU8();
  if (role > static_cast<uint8_t>(NodeRole::kReplica)) in.Fail("unknown node role " + std::to_string(role));
  node.role = static_cast<NodeRole>(role);
  uint8_t state = in.GetU8();
  if (state > static_cast<uint8_t>(NodeState::kDrained)) in.Fail("unknown node state " + std::to_string(state));
  node.state = static_cast<NodeState>(state);
  node.is_raft_voter = in.GetBool();
  node.last_heartbeat_us = in.GetI64();
  return node;
}

struct PayloadWriter {
  ByteWriter& out;
  void operator()(const CreateCluster& command) const {
    PutClusterId(out, command.cluster_id);
    PutNode(out, command.self);
  }
  void operator()(const AddNode& command) const { PutNode(out, command.node); }
  void operator()(const RemoveNode& command) const { out.PutI32(command.node_id); }
  void operator()(const JoinCluster& command) const {
    PutClusterId(out, command.cluster_id);
    out.PutString(command.coordinator_host);
    out.PutI32(command.coordinator_port);
  }
  void operator()(const LeaveCluster& command) const { PutClusterId(out, command.cluster_id); }
};

Command ReadPayload(uint8_t tag, ByteReader& in) {
  switch (tag) {
    case 1: {
      CreateCluster command;
      command.cluster_id = GetClusterId(in);
      command.self = GetNode(in);
      return command;
    }
    case 2:
      return AddNode{GetNode(in)};
    case 3:
      return RemoveNode{in.GetI32()};
    case 4: {
      JoinCluster command;
      command.cluster_id = GetClusterId(in);
      command.coordinator_host = in.GetString();
      command.coordinator_port = in.GetI32();
      return command;
    }
    case 5:
      return LeaveCluster{GetClusterId(in)};
    default:
      in.Fail("unknown command tag " + std::to_string(tag));
  }
}

}  // namespace

std::string EncodeCommand(const Command& command) {
  ByteWriter payload;
  std::visit(PayloadWriter{payload}, command);
  if (payload.Size() > std::numeric_limits<uint32_t>::max())
    throw Error(sqlstate::kInternalError,
                "cannot encode a metadata command of " + std::to_string(payload.Size()) + " bytes");

  ByteWriter out;
  out.PutBytes(kMagic);
  out.PutU8(kCommandFormatVersion);
  out.PutU8(static_cast<uint8_t>(command.index() + 1));
  out.PutU32(static_cast<uint32_t>(payload.Size()));
  out.PutBytes(payload.Bytes());
  out.PutU32(Crc32c(out.Bytes()));
  return out.Take();
}

Command DecodeCommand(std::string_view bytes) {
  ByteReader frame(bytes, kWhat);
  if (bytes.size() < kHeaderSize + kChecksumSize)
    frame.Fail(std::to_string(bytes.size()) + " byte(s) is shorter than the smallest command");
  if (frame.GetBytes(kMagic.size()) != kMagic) frame.Fail("bad magic");
  // The version decides the rest of the layout, the checksum included, so a
  // newer version is named rather than reported as a checksum mismatch.
  uint8_t version = frame.GetU8();
  if (version != kCommandFormatVersion)
    frame.Fail("unknown format version " + std::to_string(version) + " (this build reads version " +
               std::to_string(kCommandFormatVersion) + ")");
  // The checksum before the tag and lengths: on a damaged buffer it names the
  // real problem instead of whichever field the damage happened to hit.
  ByteReader trailer(bytes.substr(bytes.size() - kChecksumSize), kWhat);
  if (Crc32c(bytes.substr(0, bytes.size() - kChecksumSize)) != trailer.GetU32()) frame.Fail("checksum mismatch");

  uint8_t tag = frame.GetU8();
  if (tag < 1 || tag > std::variant_size_v<Command>) frame.Fail("unknown command tag " + std::to_string(tag));
  uint32_t payload_size = frame.GetU32();
  if (payload_size != frame.Remaining() - kChecksumSize)
    frame.Fail("payload length " + std::to_string(payload_size) + " does not match the " +
               std::to_string(frame.Remaining() - kChecksumSize) + " byte(s) present");

  ByteReader payload(frame.GetBytes(payload_size), kWhat);
  Command command = ReadPayload(tag, payload);
  payload.ExpectEnd();
  return command;
}

}  // namespace phantom::metadata
