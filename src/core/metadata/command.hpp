// Metadata commands: the only way the cluster catalog changes. A command is a
// plain value; it is encoded by command_codec, appended to the metadata log
// and applied by command_apply on every node (later: after Raft commits it).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <variant>

namespace phantom::metadata {

using ClusterId = std::array<uint8_t, 16>;  // a random UUID, raw bytes
using NodeId = int32_t;

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

  bool operator==(const ClusterRecord&) const = default;
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

using Command = std::variant<CreateCluster, AddNode, RemoveNode, JoinCluster, LeaveCluster>;

// Names used in SQL output and error messages ("active", "primary", ...).
const char* NodeStateName(NodeState state);
const char* NodeRoleName(NodeRole role);
// Parses a role name as a user types it; throws phantom::Error (22023) naming
// the value and listing the accepted ones.
NodeRole ParseNodeRole(const std::string& name);
// A short name for a command ("AddNode"), for logs and the metadata log view.
const char* CommandName(const Command& command);

}  // namespace phantom::metadata
