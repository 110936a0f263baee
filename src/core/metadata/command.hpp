// Metadata commands: the only way the cluster catalog changes. A command is a
// plain value; it is encoded by command_codec, appended to the metadata log
// and applied by command_apply on every node (later: after Raft commits it).
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
  bool is_raft_voter = false;
  int64_t last_heartbeat_us = 0;  // microseconds since the Unix epoch; 0 = never

  bool operator==(const NodeRecord&) const = default;
};

// The singleton row of phantomdb.cluster: which cluster this node's catalog
// describes, and which node holds the metadata log (until Raft replicates it).
struct ClusterRecord {
  ClusterId cluster_id{};
  NodeId local_node_id = 0;      // this node's id; 0 when this node only joined
  NodeId next_node_id = 1;       // ids are never reused, even after a removal
  std::string coordinator_host;  // where the metadata is administered
  int32_t coordinator_port = 0;
  // Like node ids, these are never reused: a shard id names tables on nodes,
  // and a leftover table of a dropped shard must never be mistaken for a new one.
  TableId next_table_id = 1;
  ShardId next_shard_id = 102008;  // shard tables are <table>_<shard id>; six digits read well
  ColocationId next_colocation_id = 1;

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

// First use of a node: it founds a cluster and registers itself.
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

// Recorded on a node when another node's cluster adds it.
struct JoinCluster {
  ClusterId cluster_id{};
  std::string coordinator_host;
  int32_t coordinator_port = 0;
  bool operator==(const JoinCluster&) const = default;
};

// Recorded on a node when its cluster removes it; it may join another later.
struct LeaveCluster {
  ClusterId cluster_id{};
  bool operator==(const LeaveCluster&) const = default;
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

using Command = std::variant<CreateCluster, AddNode, RemoveNode, JoinCluster, LeaveCluster, CreateDistributedTable,
                             DropDistributedTable, RenameDistributedTable>;

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
