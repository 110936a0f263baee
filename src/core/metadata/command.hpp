// Metadata commands: the only way the replicated cluster catalog changes. A
// command is a plain value; a node wraps it in a Proposal (proposal.hpp),
// proposes it to the metadata Raft log, and every node applies the committed
// entries in log order through command_apply, so every node holds the same
// catalog. Facts that differ between nodes (which node a server is) are not
// in the catalog: the glue keeps them node-locally.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace phantom::metadata {

using ClusterId = std::array<uint8_t, 16>;  // a random UUID, raw bytes
using NodeId = int32_t;
using TableId = int64_t;
using ShardId = int64_t;
using ColocationId = int32_t;  // 0 = none (reference tables)

enum class NodeState : uint8_t { kJoining = 0, kActive = 1, kSuspect = 2, kFailed = 3, kDraining = 4, kDrained = 5 };
enum class NodeRole : uint8_t { kPrimary = 0, kReplica = 1 };

// One row of phantomdb.nodes.
struct NodeRecord {
  NodeId node_id = 0;
  std::string name;
  std::string host;
  int32_t port = 0;
  std::string region;
  NodeRole role = NodeRole::kPrimary;
  NodeState state = NodeState::kActive;
  // Microseconds since the Unix epoch; 0 = never. Written by AddNode and by
  // the Raft leader's SetNodeState, so every node stores the same value.
  int64_t last_heartbeat_us = 0;

  bool operator==(const NodeRecord&) const = default;
};

// The singleton row of phantomdb.cluster: which cluster the catalog
// describes, and the counters every node must hand out identically.
struct ClusterRecord {
  ClusterId cluster_id{};
  NodeId next_node_id = 1;  // ids are never reused, even after a removal
  // Like node ids, these are never reused: a shard id names tables on nodes,
  // and a leftover table of a dropped shard must never be mistaken for a new one.
  TableId next_table_id = 1;
  ShardId next_shard_id = 102008;  // shard tables are <table>_<shard id>; six digits read well
  ColocationId next_colocation_id = 1;
  // The log index of the last accepted versioned command (IsVersioned in
  // proposal.hpp). A proposal decided on an older catalog is refused, so a
  // decision never acts on a catalog it did not see.
  int64_t metadata_version = 0;

  bool operator==(const ClusterRecord&) const = default;
};

enum class DistributionMethod : uint8_t { kHash = 0, kReference = 1 };

// One row of phantomdb.colocation_groups: tables in a group have the same
// shard count and distribution type, and shard i of each lives on the same nodes.
struct ColocationRecord {
  ColocationId colocation_id = 0;
  int32_t shard_count = 0;
  std::string distribution_type;  // format_type() of the distribution column, e.g. "bigint"
  int32_t replication_factor = 1;

  bool operator==(const ColocationRecord&) const = default;
};

// One row of phantomdb.shards with its placements (phantomdb.placements).
struct ShardRecord {
  ShardId shard_id = 0;
  int32_t shard_index = 0;  // position in the table's hash order, 0-based
  int32_t hash_min = 0;     // inclusive bounds in the signed 32-bit hash space
  int32_t hash_max = 0;
  std::vector<NodeId> placements;  // nodes holding a copy, first = primary

  bool operator==(const ShardRecord&) const = default;
};

// One row of phantomdb.tables with its shards, ordered by shard_index.
struct TableRecord {
  TableId table_id = 0;
  std::string schema_name;
  std::string table_name;
  DistributionMethod method = DistributionMethod::kHash;
  std::string distribution_column;  // empty for reference tables
  ColocationId colocation_id = 0;   // 0 for reference tables
  std::vector<ShardRecord> shards;

  bool operator==(const TableRecord&) const = default;
};

// First use of the cluster: the founding node registers itself. Applying it
// to a catalog that already describes a cluster is a conflict.
struct CreateCluster {
  ClusterId cluster_id{};
  NodeRecord self;
  bool operator==(const CreateCluster&) const = default;
};

struct AddNode {
  NodeRecord node;
  bool operator==(const AddNode&) const = default;
};

struct RemoveNode {
  NodeId node_id = 0;
  bool operator==(const RemoveNode&) const = default;
};

// Registers a distributed or reference table whose shards already exist on
// their nodes. new_group is set when the table founds its colocation group.
struct CreateDistributedTable {
  TableRecord table;
  std::optional<ColocationRecord> new_group;
  bool operator==(const CreateDistributedTable&) const = default;
};

// Forgets a table (DROP TABLE, undistribute); a colocation group left without
// tables is forgotten with it.
struct DropDistributedTable {
  TableId table_id = 0;
  bool operator==(const DropDistributedTable&) const = default;
};

// ALTER TABLE ... RENAME / SET SCHEMA, and renaming the distribution column.
struct RenameDistributedTable {
  TableId table_id = 0;
  std::string schema_name;
  std::string table_name;
  std::string distribution_column;
  bool operator==(const RenameDistributedTable&) const = default;
};

// The Raft leader's failure detector changed a node's state (failure_detector.hpp).
struct SetNodeState {
  NodeId node_id = 0;
  NodeState from = NodeState::kActive;  // applying refuses when the record's state differs
  NodeState to = NodeState::kActive;
  int64_t last_heartbeat_us = 0;  // the leader's last answer from the node; 0 = none; stored in the record
  bool operator==(const SetNodeState&) const = default;
};

// Changes nothing: phantom_metadata_barrier proposes it to learn when this
// node has applied everything committed before the call.
struct MetadataBarrier {
  bool operator==(const MetadataBarrier&) const = default;
};

// The order is the codec's tag order (command_codec.cpp): append, never insert.
using Command = std::variant<CreateCluster, AddNode, RemoveNode, CreateDistributedTable, DropDistributedTable,
                             RenameDistributedTable, SetNodeState, MetadataBarrier>;

// Names used in SQL output and error messages ("active", "primary", ...).
const char* NodeStateName(NodeState state);
const char* NodeRoleName(NodeRole role);
// Parses a role name as a user types it; throws phantom::Error (22023) naming
// the value and listing the accepted ones.
NodeRole ParseNodeRole(const std::string& name);
const char* DistributionMethodName(DistributionMethod method);  // "hash", "reference"
// A short name for a command ("AddNode"), for logs and the metadata log view.
const char* CommandName(const Command& command);

}  // namespace phantom::metadata
