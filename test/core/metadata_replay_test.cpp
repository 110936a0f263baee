// Property tests for the metadata log: seeded random sequences of membership
// decisions, each command encoded, decoded and applied to independent
// catalogs, must leave them identical, and replaying the decoded log onto a
// fresh catalog must rebuild the same catalog. A failure prints the seed and
// the step, so it reproduces.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "core/common/error.hpp"
#include "core/metadata/command_apply.hpp"
#include "core/metadata/command_codec.hpp"
#include "core/metadata/node_membership.hpp"
#include "in_memory_catalog.hpp"

namespace phantom::metadata {
namespace {

constexpr const char* kVersion = "0.1";
constexpr int kSequences = 300;

const std::vector<std::string> kHosts = {"a", "b", "10.0.0.1", "::1", "db\xC3\xA9.example", "fe80::2"};
const std::vector<std::string> kNames = {
    "alpha", "beta", "\xCE\xB3\xCE\xAC\xCE\xBC\xCE\xBC\xCE\xB1", "\xF0\x9F\x90\x98", "a:5432", "b:5433"};

// An encoded log, and the catalogs that apply it.
struct Log {
  std::vector<std::string> entries;

  // Encodes, decodes and applies the command to every catalog; returns the
  // decoded command.
  Command Append(const Command& command, std::vector<InMemoryCatalog*> catalogs) {
    std::string bytes = EncodeCommand(command);
    const Command decoded = DecodeCommand(bytes);
    EXPECT_EQ(decoded, command);
    EXPECT_EQ(EncodeCommand(decoded), bytes);
    for (InMemoryCatalog* catalog : catalogs) ApplyCommand(*catalog, decoded);
    entries.push_back(std::move(bytes));
    return decoded;
  }

  InMemoryCatalog Replay() const {
    InMemoryCatalog catalog;
    for (const std::string& bytes : entries) ApplyCommand(catalog, DecodeCommand(bytes));
    return catalog;
  }
};

// Everything phantom_add_node / phantom_remove_node promise about the
// coordinator's catalog.
void CheckCoordinatorInvariants(const InMemoryCatalog& catalog) {
  ASSERT_TRUE(catalog.cluster);
  const ClusterRecord& cluster = *catalog.cluster;
  EXPECT_EQ(cluster.local_node_id, 1);
  std::set<std::string> names;
  std::set<std::string> addresses;
  int voters = 0;
  NodeId previous = 0;
  bool has_self = false;
  for (const NodeRecord& node : catalog.nodes) {
    EXPECT_GT(node.node_id, previous) << "nodes out of order";
    previous = node.node_id;
    EXPECT_LT(node.node_id, cluster.next_node_id);
    EXPECT_TRUE(names.insert(node.name).second) << "duplicate name " << node.name;
    EXPECT_TRUE(addresses.insert(NodeAddress(node.host, node.port)).second) << "duplicate address";
    voters += node.is_raft_voter ? 1 : 0;
    has_self = has_self || node.node_id == cluster.local_node_id;
  }
  EXPECT_TRUE(has_self) << "the coordinator's own row is gone";
  EXPECT_GE(voters, 1);
  EXPECT_LE(voters, kMaxRaftVoters);
}

class Simulation {
 public:
  explicit Simulation(uint32_t seed) : random_(seed) {}

  void Run() {
    AddNodeRequest self = RandomRequest();
    self.name.reset();
    ClusterId id{};
    for (uint8_t& byte : id) byte = static_cast<uint8_t>(random_());
    log_.Append(DecideCreateCluster(id, self, Now()), {&leader_, &follower_});
    expected_next_id_ = 2;

    const int steps = 1 + static_cast<int>(random_() % 60);
    for (int step = 0; step < steps; step++) {
      SCOPED_TRACE("step " + std::to_string(step));
      const uint32_t dice = random_() % 100;
      if (dice < 55)
        TryAdd();
      else if (dice < 90)
        TryRemove();
      else
        TryRemoveRefused();
      ASSERT_EQ(leader_, follower_);
      CheckCoordinatorInvariants(leader_);
      CheckMembers();
      if (::testing::Test::HasFailure()) return;
    }
    EXPECT_EQ(log_.Replay(), leader_);
    for (const auto& [address, member] : members_) EXPECT_EQ(member_logs_[address].Replay(), member) << address;
  }

  int added() const { return added_; }
  int removed() const { return removed_; }
  int refused() const { return refused_; }

 private:
  int64_t Now() { return static_cast<int64_t>(random_() % 1000000) + 1700000000000000; }

  AddNodeRequest RandomRequest() {
    AddNodeRequest request;
    request.host = kHosts[random_() % kHosts.size()];
    request.port = 5432 + static_cast<int32_t>(random_() % 3);
    if (random_() % 2) request.name = kNames[random_() % kNames.size()];
    request.region = random_() % 2 ? "default" : "eu-\xC3\xB8st";
    request.role = random_() % 3 ? "primary" : "replica";
    return request;
  }

  // The candidate as it would describe itself over libpq: its own catalog
  // says which cluster it is in.
  CandidateIdentity Describe(const std::string& address) {
    CandidateIdentity candidate;
    candidate.extension_version = kVersion;
    auto member = members_.find(address);
    if (member != members_.end() && member->second.cluster) {
      candidate.cluster_id = member->second.cluster->cluster_id;
      candidate.cluster_coordinator =
          NodeAddress(member->second.cluster->coordinator_host, member->second.cluster->coordinator_port);
    }
    return candidate;
  }

  // phantom_add_node, in the glue's order.
  void TryAdd() {
    const AddNodeRequest request = RandomRequest();
    ASSERT_NO_THROW(ValidateAddNodeRequest(request));
    const std::string address = NodeAddress(request.host, request.port);
    const InMemoryCatalog before = leader_;
    try {
      if (FindRegisteredNode(leader_.ListNodes(), request)) return;  // already there: nothing to propose
      const Command command =
          DecideAddNode(*leader_.GetCluster(), leader_.ListNodes(), request, Describe(address), kVersion, Now());
      const auto voters = std::count_if(leader_.nodes.begin(), leader_.nodes.end(),
                                        [](const NodeRecord& node) { return node.is_raft_voter; });
      const NodeRecord& node = std::get<AddNode>(command).node;
      EXPECT_EQ(node.node_id, expected_next_id_++) << "ids come from next_node_id, never reused";
      EXPECT_EQ(node.is_raft_voter, voters < kMaxRaftVoters);
      EXPECT_EQ(node.name, request.name.value_or(address));
      log_.Append(command, {&leader_, &follower_});
      added_++;
      // The added node records which cluster it joined.
      InMemoryCatalog& member = members_[address];
      const JoinCluster join{leader_.cluster->cluster_id, leader_.cluster->coordinator_host,
                             leader_.cluster->coordinator_port};
      if (std::optional<Command> joined = DecideJoinCluster(member.GetCluster(), member.ListNodes(), join))
        member_logs_[address].Append(*joined, {&member});
    } catch (const Error& error) {
      // A name that is taken, or an address registered under another name.
      EXPECT_EQ(error.Sqlstate(), "42710") << error.Message();
      EXPECT_EQ(leader_, before);
      refused_++;
    }
  }

  // phantom_remove_node on a random node other than the coordinator, by
  // name or by address.
  void TryRemove() {
    std::vector<NodeRecord> others;
    for (const NodeRecord& node : leader_.nodes)
      if (node.node_id != leader_.cluster->local_node_id) others.push_back(node);
    if (others.empty()) return;
    const NodeRecord target = others[random_() % others.size()];
    const std::string address = NodeAddress(target.host, target.port);
    // An address only names the node when no node is named like it.
    bool address_is_a_name = false;
    for (const NodeRecord& node : leader_.nodes) address_is_a_name = address_is_a_name || node.name == address;
    const std::string ref = (random_() % 2 || address_is_a_name) ? target.name : address;

    const RemoveNode command = DecideRemoveNode(*leader_.cluster, leader_.nodes, {}, ref);
    EXPECT_EQ(command.node_id, target.node_id) << ref;
    log_.Append(command, {&leader_, &follower_});
    removed_++;
    // The removed node is told it left.
    InMemoryCatalog& member = members_[address];
    if (std::optional<Command> left = DecideLeaveCluster(member.GetCluster(), leader_.cluster->cluster_id))
      member_logs_[address].Append(*left, {&member});
  }

  // Removals that must be refused and change nothing: the coordinator, and
  // a node that is not there.
  void TryRemoveRefused() {
    const InMemoryCatalog before = leader_;
    const std::string self = leader_.nodes.front().name;
    try {
      DecideRemoveNode(*leader_.cluster, leader_.nodes, {}, self);
      ADD_FAILURE() << "removed the coordinator";
    } catch (const Error& error) {
      EXPECT_EQ(error.Sqlstate(), "55000");
      EXPECT_EQ(error.Message(), "cannot remove node \"" + self + "\": " +
                                     (leader_.nodes.size() == 1 ? "it is the last node of the cluster"
                                                                : "it holds the cluster metadata"));
    }
    EXPECT_THROW(DecideRemoveNode(*leader_.cluster, leader_.nodes, {}, "nowhere:1"), Error);
    EXPECT_EQ(leader_, before);
    refused_++;
  }

  // Every registered node (but the coordinator) is a member administered from
  // the coordinator; every removed one has left.
  void CheckMembers() {
    const ClusterRecord& cluster = *leader_.cluster;
    const ClusterRecord membership{cluster.cluster_id, 0, 1, cluster.coordinator_host, cluster.coordinator_port};
    for (const auto& [address, member] : members_) {
      bool registered = false;
      for (const NodeRecord& node : leader_.nodes)
        registered = registered || NodeAddress(node.host, node.port) == address;
      EXPECT_TRUE(member.nodes.empty()) << address;
      if (registered) {
        EXPECT_EQ(member.cluster, membership) << address;
      } else {
        EXPECT_FALSE(member.cluster.has_value()) << address;
      }
    }
  }

  std::mt19937 random_;
  InMemoryCatalog leader_;    // the coordinator's catalog, which decisions read
  InMemoryCatalog follower_;  // applies the same decoded log, and nothing else
  Log log_;
  std::map<std::string, InMemoryCatalog> members_;  // the added nodes' own catalogs, by address
  std::map<std::string, Log> member_logs_;
  NodeId expected_next_id_ = 0;
  int added_ = 0;
  int removed_ = 0;
  int refused_ = 0;
};

TEST(MetadataReplayTest, RandomMembershipSequencesReplayIdentically) {
  int added = 0;
  int removed = 0;
  int refused = 0;
  for (uint32_t seed = 1; seed <= kSequences; seed++) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    Simulation simulation(seed);
    simulation.Run();
    added += simulation.added();
    removed += simulation.removed();
    refused += simulation.refused();
    if (HasFailure()) return;
  }
  // The sequences exercised every path, not just the first few steps.
  EXPECT_GT(added, 1000);
  EXPECT_GT(removed, 500);
  EXPECT_GT(refused, 500);
}

// Random commands, most of which do not fit the catalog: two catalogs given
// the same commands accept and refuse the same ones with the same error, a
// refused command writes nothing, and replaying only the accepted commands
// rebuilds the catalog.
TEST(MetadataReplayTest, RandomCommandsApplyDeterministicallyOrChangeNothing) {
  std::mt19937 random(0xC0FFEE);
  auto cluster_id = [&] {
    ClusterId id{};
    id.fill(static_cast<uint8_t>(1 + random() % 3));
    return id;
  };
  auto node = [&] {
    NodeRecord record;
    // Positive, as every id a decision hands out is: apply does not validate
    // ids, and a CreateCluster for node 0 would make a catalog that claims
    // to be a mere member yet holds a row.
    record.node_id = static_cast<NodeId>(1 + random() % 6);
    record.name = kNames[random() % kNames.size()];
    record.host = kHosts[random() % 3];
    record.port = 5432 + static_cast<int32_t>(random() % 2);
    record.region = "default";
    record.role = random() % 2 ? NodeRole::kPrimary : NodeRole::kReplica;
    record.state = static_cast<NodeState>(random() % 6);
    record.is_raft_voter = random() % 2;
    record.last_heartbeat_us = static_cast<int64_t>(random());
    return record;
  };
  auto command = [&]() -> Command {
    switch (random() % 5) {
      case 0:
        return CreateCluster{cluster_id(), node()};
      case 1:
        return AddNode{node()};
      case 2:
        return RemoveNode{static_cast<NodeId>(random() % 8)};
      case 3:
        return JoinCluster{cluster_id(), kHosts[random() % 3], 5432 + static_cast<int32_t>(random() % 2)};
      default:
        return LeaveCluster{cluster_id()};
    }
  };

  int accepted = 0;
  int rejected = 0;
  for (int sequence = 0; sequence < kSequences; sequence++) {
    SCOPED_TRACE("sequence " + std::to_string(sequence));
    InMemoryCatalog first;
    InMemoryCatalog second;
    Log accepted_log;
    for (int step = 0; step < 30; step++) {
      const Command decoded = DecodeCommand(EncodeCommand(command()));
      SCOPED_TRACE("step " + std::to_string(step) + " " + CommandName(decoded));
      const InMemoryCatalog before = first;
      const int writes_before = first.writes;
      std::string first_error;
      std::string second_error;
      try {
        ApplyCommand(first, decoded);
      } catch (const Error& error) {
        first_error = error.Sqlstate() + " " + error.Message();
      }
      try {
        ApplyCommand(second, decoded);
      } catch (const Error& error) {
        second_error = error.Sqlstate() + " " + error.Message();
      }
      ASSERT_EQ(first_error, second_error);
      ASSERT_EQ(first, second);
      if (first_error.empty()) {
        accepted_log.entries.push_back(EncodeCommand(decoded));
        accepted++;
      } else {
        EXPECT_EQ(first, before);
        EXPECT_EQ(first.writes, writes_before) << first_error;
        rejected++;
      }
    }
    EXPECT_EQ(accepted_log.Replay(), first);
    if (HasFailure()) return;
  }
  EXPECT_GT(accepted, 1000);
  EXPECT_GT(rejected, 1000);
}

}  // namespace
}  // namespace phantom::metadata
