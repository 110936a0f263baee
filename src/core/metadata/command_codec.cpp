// Encoding and decoding of metadata commands; layout in command_codec.hpp.
// Tags are the variant's index + 1 and are part of the format: a new command
// is appended to the variant, never inserted. Version 2 renumbered them when
// JoinCluster (4) and LeaveCluster (5) were retired before any release.
#include "core/metadata/command_codec.hpp"

#include <limits>

#include "core/common/byte_buffer.hpp"
#include "core/common/error.hpp"
#include "core/metadata/codec_frame.hpp"
#include "core/metadata/record_codec.hpp"
#include "core/common/pure.hpp"

namespace phantom::metadata {

namespace {

constexpr FrameFormat kFormat{"PHMC", kCommandFormatVersion, "metadata command", "command", 1 + 4};  // tag, length

struct PayloadWriter {
  ByteWriter& out;
  void operator()(const CreateCluster& command) const {
    PutClusterId(out, command.cluster_id);
    PutNode(out, command.self);
  }
  void operator()(const AddNode& command) const { PutNode(out, command.node); }
  void operator()(const RemoveNode& command) const { out.PutI32(command.node_id); }
  void operator()(const CreateDistributedTable& command) const {
    PutTable(out, command.table);
    out.PutBool(command.new_group.has_value());
    if (command.new_group) PutGroup(out, *command.new_group);
  }
  void operator()(const DropDistributedTable& command) const { out.PutI64(command.table_id); }
  void operator()(const RenameDistributedTable& command) const {
    out.PutI64(command.table_id);
    out.PutString(command.schema_name);
    out.PutString(command.table_name);
    out.PutString(command.distribution_column);
  }
  void operator()(const SetNodeState& command) const {
    out.PutI32(command.node_id);
    PutNodeState(out, command.from);
    PutNodeState(out, command.to);
    out.PutI64(command.last_heartbeat_us);
  }
  void operator()(const MetadataBarrier&) const {}
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
      CreateDistributedTable command;
      command.table = GetTable(in);
      if (in.GetBool()) command.new_group = GetGroup(in);
      return command;
    }
    case 5:
      return DropDistributedTable{in.GetI64()};
    case 6: {
      RenameDistributedTable command;
      command.table_id = in.GetI64();
      command.schema_name = in.GetString();
      command.table_name = in.GetString();
      command.distribution_column = in.GetString();
      return command;
    }
    case 7: {
      SetNodeState command;
      command.node_id = in.GetI32();
      command.from = GetNodeState(in);
      command.to = GetNodeState(in);
      command.last_heartbeat_us = in.GetI64();
      return command;
    }
    case 8:
      return MetadataBarrier{};
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

  ByteWriter body;
  body.PutU8(static_cast<uint8_t>(command.index() + 1));
  body.PutU32(static_cast<uint32_t>(payload.Size()));
  body.PutBytes(payload.Bytes());
  return SealFrame(kFormat, body.Bytes());
}

Command DecodeCommand(std::string_view bytes) {
  ByteReader body(OpenFrame(kFormat, bytes), kFormat.what);
  const uint8_t tag = body.GetU8();
  if (tag < 1 || tag > std::variant_size_v<Command>) body.Fail("unknown command tag " + std::to_string(tag));
  const uint32_t payload_size = body.GetU32();
  if (payload_size != body.Remaining())
    body.Fail("payload length " + std::to_string(payload_size) + " does not match the " +
              std::to_string(body.Remaining()) + " byte(s) present");

  ByteReader payload(body.GetBytes(payload_size), kFormat.what);
  Command command = ReadPayload(tag, payload);
  payload.ExpectEnd();
  return command;
}

}  // namespace phantom::metadata
