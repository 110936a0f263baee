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

// A vector's length prefix, checked against the bytes left before anything is
// reserved: each element takes at least min_element_bytes, so a count that
// cannot fit is corruption, however large it claims to be.
uint32_t GetCount(ByteReader& in, size_t min_element_bytes, const char* element) {
  uint32_t count = in.GetU32();
  if (static_cast<uint64_t>(count) * min_element_bytes > in.Remaining())
    in.Fail(std::to_string(count) + " " + element + "(s) cannot fit in the " + std::to_string(in.Remaining()) +
            " byte(s) left");
  return count;
}

void PutCount(ByteWriter& out, size_t count, const char* element) {
  if (count > std::numeric_limits<uint32_t>::max())
    throw Error(sqlstate::kInternalError, "cannot encode " + std::to_string(count) + " " + element + "(s)");
  out.PutU32(static_cast<uint32_t>(count));
}

constexpr size_t kPlacementBytes = 4;                 // node id
constexpr size_t kMinShardBytes = 8 + 4 + 4 + 4 + 4;  // ids, bounds, placement count

void PutShard(ByteWriter& out, const ShardRecord& shard) {
  out.PutI64(shard.shard_id);
  out.PutI32(shard.shard_index);
  out.PutI32(shard.hash_min);
  out.PutI32(shard.hash_max);
  PutCount(out, shard.placements.size(), "placement");
  for (NodeId node : shard.placements) out.PutI32(node);
}

ShardRecord GetShard(ByteReader& in) {
  ShardRecord shard;
  shard.shard_id = in.GetI64();
  shard.shard_index = in.GetI32();
  shard.hash_min = in.GetI32();
  shard.hash_max = in.GetI32();
  uint32_t placements = GetCount(in, kPlacementBytes, "placement");
  shard.placements.reserve(placements);
  for (uint32_t i = 0; i < placements; i++) shard.placements.push_back(in.GetI32());
  return shard;
}

void PutTable(ByteWriter& out, const TableRecord& table) {
  out.PutI64(table.table_id);
  out.PutString(table.schema_name);
  out.PutString(table.table_name);
  out.PutU8(static_cast<uint8_t>(table.method));
  out.PutString(table.distribution_column);
  out.PutI32(table.colocation_id);
  PutCount(out, table.shards.size(), "shard");
  for (const ShardRecord& shard : table.shards) PutShard(out, shard);
}

TableRecord GetTable(ByteReader& in) {
  TableRecord table;
  table.table_id = in.GetI64();
  table.schema_name = in.GetString();
  table.table_name = in.GetString();
  uint8_t method = in.GetU8();
  if (method > static_cast<uint8_t>(DistributionMethod::kReference))
    in.Fail("unknown distribution method " + std::to_string(method));
  table.method = static_cast<DistributionMethod>(method);
  table.distribution_column = in.GetString();
  table.colocation_id = in.GetI32();
  uint32_t shards = GetCount(in, kMinShardBytes, "shard");
  table.shards.reserve(shards);
  for (uint32_t i = 0; i < shards; i++) table.shards.push_back(GetShard(in));
  return table;
}

void PutGroup(ByteWriter& out, const ColocationRecord& group) {
  out.PutI32(group.colocation_id);
  out.PutI32(group.shard_count);
  out.PutString(group.distribution_type);
  out.PutI32(group.replication_factor);
}

ColocationRecord GetGroup(ByteReader& in) {
  ColocationRecord group;
  group.colocation_id = in.GetI32();
  group.shard_count = in.GetI32();
  group.distribution_type = in.GetString();
  group.replication_factor = in.GetI32();
  return group;
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
    case 6: {
      CreateDistributedTable command;
      command.table = GetTable(in);
      if (in.GetBool()) command.new_group = GetGroup(in);
      return command;
    }
    case 7:
      return DropDistributedTable{in.GetI64()};
    case 8: {
      RenameDistributedTable command;
      command.table_id = in.GetI64();
      command.schema_name = in.GetString();
      command.table_name = in.GetString();
      command.distribution_column = in.GetString();
      return command;
    }
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
