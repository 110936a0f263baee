// Names of node states, roles and commands; see command.hpp.
#include "core/metadata/command.hpp"

#include "core/common/error.hpp"
#include "core/common/pure.hpp"

namespace phantom::metadata {

const char* NodeStateName(NodeState state) {
  switch (state) {
    case NodeState::kJoining:
      return "joining";
    case NodeState::kActive:
      return "active";
    case NodeState::kSuspect:
      return "suspect";
    case NodeState::kFailed:
      return "failed";
    case NodeState::kDraining:
      return "draining";
    case NodeState::kDrained:
      return "drained";
  }
  return "unknown";
}

const char* NodeRoleName(NodeRole role) {
  switch (role) {
    case NodeRole::kPrimary:
      return "primary";
    case NodeRole::kReplica:
      return "replica";
  }
  return "unknown";
}

NodeRole ParseNodeRole(const std::string& name) {
  if (name == "primary") return NodeRole::kPrimary;
  if (name == "replica") return NodeRole::kReplica;
  throw Error(sqlstate::kInvalidParameterValue, "invalid node role \"" + name + "\"", "",
              "Valid roles are \"primary\" and \"replica\".");
}

const char* DistributionMethodName(DistributionMethod method) {
  switch (method) {
    case DistributionMethod::kHash:
      return "hash";
    case DistributionMethod::kReference:
      return "reference";
  }
  return "unknown";
}

const char* CommandName(const Command& command) {
  struct Namer {
    const char* operator()(const CreateCluster&) const { return "CreateCluster"; }
    const char* operator()(const AddNode&) const { return "AddNode"; }
    const char* operator()(const RemoveNode&) const { return "RemoveNode"; }
    const char* operator()(const CreateDistributedTable&) const { return "CreateDistributedTable"; }
    const char* operator()(const DropDistributedTable&) const { return "DropDistributedTable"; }
    const char* operator()(const RenameDistributedTable&) const { return "RenameDistributedTable"; }
    const char* operator()(const SetNodeState&) const { return "SetNodeState"; }
    const char* operator()(const MetadataBarrier&) const { return "MetadataBarrier"; }
  };
  return std::visit(Namer{}, command);
}

}  // namespace phantom::metadata
