// Binary encoding of the catalog's records, shared by the command codec and
// the catalog image codec so a node, table or group is laid out the same way
// in a log entry and in a snapshot. All integers little-endian (ByteWriter).
// Decoding rejects out-of-range enums, and checks every count against the
// bytes left before reserving anything, so corrupted bytes fail cleanly.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/common/byte_buffer.hpp"
#include "core/metadata/command.hpp"

namespace phantom::metadata {

// The fewest bytes an encoded element takes (every string at least its
// length prefix), for checking a count against the bytes left.
// Node: id, name, host, port, region, role, state, heartbeat.
inline constexpr size_t kMinNodeBytes = 4 + 4 + 4 + 4 + 4 + 1 + 1 + 8;
// Colocation group: id, shard count, distribution type, replication factor.
inline constexpr size_t kMinGroupBytes = 4 + 4 + 4 + 4;
// Shard: id, index, hash bounds, placement count.
inline constexpr size_t kMinShardBytes = 8 + 4 + 4 + 4 + 4;
// Table: id, schema, name, method, column, colocation id, shard count.
inline constexpr size_t kMinTableBytes = 8 + 4 + 4 + 1 + 4 + 4 + 4;

void PutClusterId(ByteWriter& out, const ClusterId& id);  // 16 raw bytes
ClusterId GetClusterId(ByteReader& in);

void PutNodeState(ByteWriter& out, NodeState state);  // one byte
NodeState GetNodeState(ByteReader& in);

void PutNode(ByteWriter& out, const NodeRecord& node);
NodeRecord GetNode(ByteReader& in);

void PutGroup(ByteWriter& out, const ColocationRecord& group);
ColocationRecord GetGroup(ByteReader& in);

void PutTable(ByteWriter& out, const TableRecord& table);  // with its shards and placements
TableRecord GetTable(ByteReader& in);

// A vector's u32 length prefix. Putting throws XX000 for more than fits;
// getting fails (XX001) when count * min_element_bytes exceeds the bytes left.
void PutCount(ByteWriter& out, size_t count, const char* element);
uint32_t GetCount(ByteReader& in, size_t min_element_bytes, const char* element);

}  // namespace phantom::metadata
