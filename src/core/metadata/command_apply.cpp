// Applying metadata log entries to the catalog; see command_apply.hpp. Each
// entry is checked against the catalog before the first write (the index,
// then whether the proposal is stale, then the command itself), so an entry
// that does not fit throws having changed nothing.
#include "core/metadata/command_apply.hpp"

#include <algorithm>
#include <limits>
#include <set>

#include "core/common/error.hpp"
#include "core/metadata/node_membership.hpp"
#include "core/sharding/shard_map.hpp"
#include "core/common/pure.hpp"

namespace phantom::metadata {

namespace {

[[noreturn]] void Conflict(const Command& command, const std::string& problem) {
  throw Error(sqlstate::kObjectNotInPrerequisiteState,
              std::string("metadata command ") + CommandName(command) + " conflicts with the catalog: " + problem);
}

// Ids are positive and leave room for next_node_id = id + 1.
void CheckNodeId(const Command& command, NodeId node_id) {
  if (node_id < 1 || node_id == std::numeric_limits<NodeId>::max())
    Conflict(command, "node id " + std::to_string(node_id) + " is out of range");
}

std::string QualifiedName(const std::string& schema_name, const std::string& table_name) {
  return "\"" + schema_name + "\".\"" + table_name + "\"";
}

[[noreturn]] void UnknownTable(const Command& command, TableId table_id) {
  throw Error(sqlstate::kUndefinedObject, std::string("metadata command ") + CommandName(command) +
                                              " names unknown table id " + std::to_string(table_id));
}

const TableRecord* FindTable(const std::vector<TableRecord>& tables, TableId table_id) {
  for (const TableRecord& table : tables)
    if (table.table_id == table_id) return &table;
  return nullptr;
}

// The distribution column must be present exactly when the method hashes one.
void CheckDistributionColumn(const Command& command, DistributionMethod method, const std::string& column) {
  if (method == DistributionMethod::kHash && column.empty())
    Conflict(command, "a hash-distributed table needs a distribution column");
  if (method == DistributionMethod::kReference && !column.empty())
    Conflict(command, "a reference table has no distribution column");
}

// Everything about a new table's shards that does not depend on its method.
void CheckShards(const Command& command, const TableRecord& table, const std::vector<TableRecord>& tables,
                 const std::vector<NodeRecord>& nodes) {
  if (table.shards.empty()) Conflict(command, "the table has no shards");
  // Sets, not scans: a table has up to 4096 shards and the catalog many tables.
  std::set<ShardId> ids;
  for (const ShardRecord& shard : table.shards) {
    const std::string name = "shard " + std::to_string(shard.shard_id);
    // Ids leave room for next_shard_id = id + 1.
    if (shard.shard_id < 1 || shard.shard_id == std::numeric_limits<ShardId>::max())
      Conflict(command, "shard id " + std::to_string(shard.shard_id) + " is out of range");
    if (!ids.insert(shard.shard_id).second)
      Conflict(command, "shard id " + std::to_string(shard.shard_id) + " appears twice");
    if (shard.shard_index != static_cast<int64_t>(ids.size()) - 1)
      Conflict(command, name + " has index " + std::to_string(shard.shard_index) + ", expected " +
                            std::to_string(ids.size() - 1));
    if (shard.placements.empty()) Conflict(command, name + " has no placement");
    for (size_t i = 0; i < shard.placements.size(); i++) {
      const NodeId node_id = shard.placements[i];
      if (std::none_of(nodes.begin(), nodes.end(), [&](const NodeRecord& node) { return node.node_id == node_id; }))
        Conflict(command, name + " is placed on unknown node id " + std::to_string(node_id));
      if (std::find(shard.placements.begin(), shard.placements.begin() + static_cast<std::ptrdiff_t>(i), node_id) !=
          shard.placements.begin() + static_cast<std::ptrdiff_t>(i))
        Conflict(command, name + " is placed twice on node id " + std::to_string(node_id));
    }
  }
  for (const TableRecord& existing : tables)
    for (const ShardRecord& shard : existing.shards)
      if (ids.count(shard.shard_id) != 0)
        Conflict(command, "shard id " + std::to_string(shard.shard_id) + " is taken by table id " +
                              std::to_string(existing.table_id));
}

// A row is found by hashing it, so the shards must tile the space exactly as
// the routing arithmetic expects.
void CheckHashRanges(const Command& command, const TableRecord& table) {
  if (table.shards.size() > static_cast<size_t>(sharding::kMaxShardCount))
    Conflict(command, std::to_string(table.shards.size()) + " shards exceed the limit of " +
                          std::to_string(sharding::kMaxShardCount));
  const std::vector<sharding::HashRange> ranges = sharding::SplitHashSpace(static_cast<int32_t>(table.shards.size()));
  for (size_t i = 0; i < ranges.size(); i++) {
    const ShardRecord& shard = table.shards[i];
    if (shard.hash_min != ranges[i].min || shard.hash_max != ranges[i].max)
      Conflict(command, "shard " + std::to_string(shard.shard_id) + " covers " + std::to_string(shard.hash_min) + ".." +
                            std::to_string(shard.hash_max) + ", expected " + std::to_string(ranges[i].min) + ".." +
                            std::to_string(ranges[i].max));
  }
}

// Applies one command. Handlers check, then write rows; the cluster record is
// read once into cluster_ and written back once by the caller (with the new
// metadata_version for a versioned command), not by each handler.
class Applier {
 public:
  Applier(CatalogStore& store, const Command& command, std::optional<ClusterRecord>& cluster)
      : store_(store), command_(command), cluster_(cluster) {}

  void operator()(const CreateCluster& create) {
    CheckNodeId(command_, create.self.node_id);
    if (cluster_) Conflict(command_, "the catalog already describes a cluster");
    ClusterRecord cluster;
    cluster.cluster_id = create.cluster_id;
    cluster.next_node_id = create.self.node_id + 1;
    cluster_ = cluster;
    store_.InsertNode(create.self);
  }

  void operator()(const AddNode& add) {
    std::optional<ClusterRecord>& cluster = cluster_;
    CheckNodeId(command_, add.node.node_id);
    if (!cluster) Conflict(command_, "the catalog describes no cluster");
    for (const NodeRecord& node : store_.ListNodes()) {
      if (node.node_id == add.node.node_id) Conflict(command_, "node id " + std::to_string(node.node_id) + " is taken");
      if (node.name == add.node.name) Conflict(command_, "node name \"" + node.name + "\" is taken");
      if (node.host == add.node.host && node.port == add.node.port)
        Conflict(command_, NodeAddress(node.host, node.port) + " is already registered");
    }
    store_.InsertNode(add.node);
    cluster->next_node_id = std::max(cluster->next_node_id, add.node.node_id + 1);
  }

  void operator()(const RemoveNode& remove) {
    std::vector<NodeRecord> nodes = store_.ListNodes();
    bool found =
        std::any_of(nodes.begin(), nodes.end(), [&](const NodeRecord& node) { return node.node_id == remove.node_id; });
    if (!found)
      throw Error(sqlstate::kUndefinedObject,
                  std::string("metadata command RemoveNode names unknown node id ") + std::to_string(remove.node_id));
    if (nodes.size() == 1) Conflict(command_, "node id " + std::to_string(remove.node_id) + " is the last node");
    // Removing it would lose those shards' data, or a replica of it.
    size_t placements = 0;
    for (const TableRecord& table : store_.ListTables())
      for (const ShardRecord& shard : table.shards)
        placements += static_cast<size_t>(std::count(shard.placements.begin(), shard.placements.end(), remove.node_id));
    if (placements > 0)
      Conflict(command_, "node id " + std::to_string(remove.node_id) + " still holds " + std::to_string(placements) +
                             " shard placement(s)");
    store_.DeleteNode(remove.node_id);
  }

  void operator()(const CreateDistributedTable& create) {
    const TableRecord& table = create.table;
    std::optional<ClusterRecord>& cluster = cluster_;
    if (!cluster) Conflict(command_, "the catalog describes no cluster");
    if (table.table_id < 1 || table.table_id == std::numeric_limits<TableId>::max())
      Conflict(command_, "table id " + std::to_string(table.table_id) + " is out of range");
    const std::vector<TableRecord> tables = store_.ListTables();
    for (const TableRecord& existing : tables) {
      if (existing.table_id == table.table_id)
        Conflict(command_, "table id " + std::to_string(table.table_id) + " is taken");
      if (existing.schema_name == table.schema_name && existing.table_name == table.table_name)
        Conflict(command_, "table " + QualifiedName(table.schema_name, table.table_name) + " is already distributed");
    }
    CheckDistributionColumn(command_, table.method, table.distribution_column);
    CheckShards(command_, table, tables, store_.ListNodes());
    if (table.method == DistributionMethod::kHash)
      CheckHashGroup(create, tables);
    else
      CheckReference(create);
    CheckHashRanges(command_, table);

    if (create.new_group) store_.InsertColocationGroup(*create.new_group);
    store_.InsertTable(table);
    cluster->next_table_id = std::max(cluster->next_table_id, table.table_id + 1);
    for (const ShardRecord& shard : table.shards)
      cluster->next_shard_id = std::max(cluster->next_shard_id, shard.shard_id + 1);
    if (table.colocation_id > 0)
      cluster->next_colocation_id = std::max(cluster->next_colocation_id, table.colocation_id + 1);
  }

  void operator()(const DropDistributedTable& drop) {
    const std::vector<TableRecord> tables = store_.ListTables();
    const TableRecord* table = FindTable(tables, drop.table_id);
    if (table == nullptr) UnknownTable(command_, drop.table_id);
    const ColocationId group = table->colocation_id;
    const bool last_in_group = group != 0 && std::none_of(tables.begin(), tables.end(), [&](const TableRecord& other) {
                                 return other.table_id != drop.table_id && other.colocation_id == group;
                               });
    store_.DeleteTable(drop.table_id);
    // An empty group has no placements left to copy, so nothing could join it.
    if (last_in_group) store_.DeleteColocationGroup(group);
  }

  void operator()(const RenameDistributedTable& rename) {
    const std::vector<TableRecord> tables = store_.ListTables();
    const TableRecord* table = FindTable(tables, rename.table_id);
    if (table == nullptr) UnknownTable(command_, rename.table_id);
    for (const TableRecord& other : tables)
      if (other.table_id != rename.table_id && other.schema_name == rename.schema_name &&
          other.table_name == rename.table_name)
        Conflict(command_, "table " + QualifiedName(rename.schema_name, rename.table_name) + " is already distributed");
    CheckDistributionColumn(command_, table->method, rename.distribution_column);
    store_.RenameTable(rename.table_id, rename.schema_name, rename.table_name, rename.distribution_column);
  }

  // The `from` check makes a stale change (from a deposed leader, or decided
  // before another change to the same node) do nothing, as failure_detector.hpp
  // relies on; the leader re-evaluates and proposes again if still needed.
  void operator()(const MetadataBarrier&) {}

  void operator()(const SetNodeState& change) {
    std::optional<NodeRecord> node;
    for (const NodeRecord& existing : store_.ListNodes())
      if (existing.node_id == change.node_id) node = existing;
    if (!node)
      throw Error(sqlstate::kUndefinedObject,
                  "metadata command SetNodeState names unknown node id " + std::to_string(change.node_id));
    if (node->state != change.from)
      throw Error(kSerializationFailure, "node id " + std::to_string(change.node_id) + " is " +
                                             NodeStateName(node->state) + ", not " + NodeStateName(change.from) +
                                             " as the change to " + NodeStateName(change.to) + " assumed");
    store_.UpdateNodeState(change.node_id, change.to, change.last_heartbeat_us);
  }

 private:
  void CheckHashGroup(const CreateDistributedTable& create, const std::vector<TableRecord>& tables) {
    const TableRecord& table = create.table;
    const std::string id = std::to_string(table.colocation_id);
    // Ids leave room for next_colocation_id = id + 1.
    if (table.colocation_id < 1 || table.colocation_id == std::numeric_limits<ColocationId>::max())
      Conflict(command_, "colocation id " + id + " is out of range");
    const std::vector<ColocationRecord> groups = store_.ListColocationGroups();
    const auto group = std::find_if(groups.begin(), groups.end(), [&](const ColocationRecord& existing) {
      return existing.colocation_id == table.colocation_id;
    });
    const std::string shard_count = std::to_string(table.shards.size());
    if (create.new_group) {
      const ColocationRecord& founded = *create.new_group;
      if (founded.colocation_id != table.colocation_id)
        Conflict(command_, "the new colocation group " + std::to_string(founded.colocation_id) +
                               " is not the table's colocation group " + id);
      if (group != groups.end()) Conflict(command_, "colocation group " + id + " already exists");
      if (founded.shard_count < 0 || static_cast<size_t>(founded.shard_count) != table.shards.size())
        Conflict(command_, "colocation group " + id + " has " + std::to_string(founded.shard_count) +
                               " shards, the table " + shard_count);
      for (const ShardRecord& shard : table.shards)
        if (static_cast<int64_t>(shard.placements.size()) != founded.replication_factor)
          Conflict(command_, "shard " + std::to_string(shard.shard_id) + " has " +
                                 std::to_string(shard.placements.size()) + " placement(s), the replication factor is " +
                                 std::to_string(founded.replication_factor));
      return;
    }
    if (group == groups.end()) Conflict(command_, "colocation group " + id + " does not exist");
    if (group->shard_count < 0 || static_cast<size_t>(group->shard_count) != table.shards.size())
      Conflict(command_, "colocation group " + id + " has " + std::to_string(group->shard_count) +
                             " shards, the table " + shard_count);
    // Colocated shards are joined locally, so shard i must live where shard i
    // of the group's tables lives; its first table speaks for them all.
    const auto member = std::find_if(tables.begin(), tables.end(), [&](const TableRecord& existing) {
      return existing.colocation_id == table.colocation_id;
    });
    if (member == tables.end()) return;
    for (size_t i = 0; i < table.shards.size() && i < member->shards.size(); i++)
      if (table.shards[i].placements != member->shards[i].placements)
        Conflict(command_, "shard " + std::to_string(table.shards[i].shard_id) + " is not placed like shard " +
                               std::to_string(member->shards[i].shard_id) + " of colocated table id " +
                               std::to_string(member->table_id));
  }

  void CheckReference(const CreateDistributedTable& create) {
    const TableRecord& table = create.table;
    if (table.colocation_id != 0)
      Conflict(command_, "a reference table has no colocation group, not " + std::to_string(table.colocation_id));
    if (create.new_group) Conflict(command_, "a reference table founds no colocation group");
    if (table.shards.size() != 1)
      Conflict(command_, "a reference table has one shard, not " + std::to_string(table.shards.size()));
  }

  CatalogStore& store_;
  const Command& command_;
  std::optional<ClusterRecord>& cluster_;
};

}  // namespace

void ApplyCommand(CatalogStore& store, const Proposal& proposal, int64_t index) {
  std::optional<ClusterRecord> cluster = store.GetCluster();
  const int64_t version = cluster ? cluster->metadata_version : 0;
  if (index < 1 || index <= version)
    throw Error(sqlstate::kInternalError, "metadata log entry " + std::to_string(index) +
                                              " is not after the catalog's metadata version " +
                                              std::to_string(version));
  const bool versioned = IsVersioned(proposal.command);
  // Checked before the command itself: a proposal decided on an old catalog
  // may conflict only because of what changed since, and deciding it again
  // gives the right answer either way.
  if (versioned && proposal.based_on != 0 && version > proposal.based_on)
    throw Error(kSerializationFailure, "the cluster's metadata changed while this command was being decided",
                std::string("The ") + CommandName(proposal.command) + " was decided on the metadata as of log index " +
                    std::to_string(proposal.based_on) + "; the entry at log index " + std::to_string(version) +
                    " changed it since.",
                "Retry the command.");
  std::visit(Applier(store, proposal.command, cluster), proposal.command);
  if (versioned && cluster) {
    cluster->metadata_version = index;
    store.PutCluster(*cluster);
  }
}

}  // namespace phantom::metadata
