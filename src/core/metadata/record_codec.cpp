// Encoding of catalog records; see record_codec.hpp.
#include "core/metadata/record_codec.hpp"

#include <limits>
#include <string>

#include "core/common/error.hpp"
#include "core/common/pure.hpp"

namespace phantom::metadata {

namespace {

constexpr size_t kPlacementBytes = 4;  // node id

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
  const uint32_t placements = GetCount(in, kPlacementBytes, "placement");
  shard.placements.reserve(placements);
  for (uint32_t i = 0; i < placements; i++) shard.placements.push_back(in.GetI32());
  return shard;
}

}  // namespace

void PutClusterId(ByteWriter& out, const ClusterId& id) {
  out.PutBytes(std::string_view(reinterpret_cast<const char*>(id.data()), id.size()));
}

ClusterId GetClusterId(ByteReader& in) {
  const std::string_view bytes = in.GetBytes(ClusterId{}.size());
  ClusterId id{};
  for (size_t i = 0; i < id.size(); i++) id[i] = static_cast<uint8_t>(bytes[i]);
  return id;
}

void PutNodeState(ByteWriter& out, NodeState state) { out.PutU8(static_cast<uint8_t>(state)); }

NodeState GetNodeState(ByteReader& in) {
  const uint8_t state = in.GetU8();
  if (state > static_cast<uint8_t>(NodeState::kDrained)) in.Fail("unknown node state " + std::to_string(state));
  return static_cast<NodeState>(state);
}

void PutNode(ByteWriter& out, const NodeRecord& node) {
  out.PutI32(node.node_id);
  out.PutString(node.name);
  out.PutString(node.host);
  out.PutI32(node.port);
  out.PutString(node.region);
  out.PutU8(static_cast<uint8_t>(node.role));
  PutNodeState(out, node.state);
  out.PutI64(node.last_heartbeat_us);
}

NodeRecord GetNode(ByteReader& in) {
  NodeRecord node;
  node.node_id = in.GetI32();
  node.name = in.GetString();
  node.host = in.GetString();
  node.port = in.GetI32();
  node.region = in.GetString();
  const uint8_t role = in.GetU8();
  if (role > static_cast<uint8_t>(NodeRole::kReplica)) in.Fail("unknown node role " + std::to_string(role));
  node.role = static_cast<NodeRole>(role);
  node.state = GetNodeState(in);
  node.last_heartbeat_us = in.GetI64();
  return node;
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
  const uint8_t method = in.GetU8();
  if (method > static_cast<uint8_t>(DistributionMethod::kReference))
    in.Fail("unknown distribution method " + std::to_string(method));
  table.method = static_cast<DistributionMethod>(method);
  table.distribution_column = in.GetString();
  table.colocation_id = in.GetI32();
  const uint32_t shards = GetCount(in, kMinShardBytes, "shard");
  table.shards.reserve(shards);
  for (uint32_t i = 0; i < shards; i++) table.shards.push_back(GetShard(in));
  return table;
}

void PutCount(ByteWriter& out, size_t count, const char* element) {
  if (count > std::numeric_limits<uint32_t>::max())
    throw Error(sqlstate::kInternalError, "cannot encode " + std::to_string(count) + " " + element + "(s)");
  out.PutU32(static_cast<uint32_t>(count));
}

uint32_t GetCount(ByteReader& in, size_t min_element_bytes, const char* element) {
  const uint32_t count = in.GetU32();
  if (static_cast<uint64_t>(count) * min_element_bytes > in.Remaining())
    in.Fail(std::to_string(count) + " " + element + "(s) cannot fit in the " + std::to_string(in.Remaining()) +
            " byte(s) left");
  return count;
}

}  // namespace phantom::metadata
