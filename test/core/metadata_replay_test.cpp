// Property tests for the replicated metadata log. Seeded random histories:
// several nodes decide membership changes on their own replicas, which may
// lag behind the log, and propose them with the index they decided on; the
// Raft leader (and now and then a deposed one, on a lagging replica) proposes
// the failure detector's node state changes. Every entry is encoded, decoded
// and applied by every replica. Checked:
//   - every replica applying the same log holds the same catalog, and refuses
//     the same entries with the same error;
//   - a versioned proposal is refused (40001) exactly when a versioned entry
//     was accepted after the index it was decided on, and is otherwise
//     accepted: a decision on a current catalog always fits it;
//   - a SetNodeState applies exactly when the node still has the state it was
//     decided on;
//   - a snapshot image taken at any index, restored on a fresh catalog and
//     followed by the rest of the log, gives the same catalog, as does
//     replaying the whole log.
// A failure prints the seed and the step, so it reproduces.
#include <gtest/gtest.h>

#include <algorithm>
#include <iostream>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "core/common/error.hpp"
#include "core/metadata/catalog_image.hpp"
#include "core/metadata/command_apply.hpp"
#include "core/metadata/failure_detector.hpp"
#include "core/metadata/node_membership.hpp"
#include "core/metadata/proposal.hpp"
#include "in_memory_catalog.hpp"

namespace phantom::metadata {
namespace {

constexpr const char* kVersion = "0.1";
constexpr int kSequences = 300;
constexpr int kReplicas = 3;
constexpr int64_t kSecond = 1'000'000;

const std::vector<std::string> kHosts = {"a", "b", "10.0.0.1", "::1", "db\xC3\xA9.example", "fe80::2"};
const std::vector<std::string> kNames = {
    "alpha", "beta", "\xCE\xB3\xCE\xAC\xCE\xBC\xCE\xBC\xCE\xB1", "\xF0\x9F\x90\x98", "a:5432", "b:5433"};

// The outcome of applying one entry: "" when accepted, else the SQLSTATE.
std::string Apply(InMemoryCatalog& catalog, const std::string& bytes, int64_t index) {
  const Proposal proposal = DecodeProposal(bytes);
  const InMemoryCatalog before = catalog;
  const int writes = catalog.writes;
  try {
    ApplyCommand(catalog, proposal, index);
    return "";
  } catch (const Error& error) {
    EXPECT_EQ(catalog, before) << "a refused entry changed the catalog: " << error.Message();
    EXPECT_EQ(catalog.writes, writes) << error.Message();
    return error.Sqlstate();
  }
}

// One node's copy of the catalog and how far it has applied the log.
struct Replica {
  InMemoryCatalog catalog;
  int64_t applied = 0;
};

class Simulation {
 public:
  explicit Simulation(uint32_t seed) : random_(seed) {}

  void Run() {
    AddNodeRequest self = RandomRequest();
    self.name.reset();
    ClusterId id{};
    for (uint8_t& byte : id) byte = static_cast<uint8_t>(random_());
    cluster_id_ = id;
    Propose(Proposal{Random64(), 1, 0, DecideCreateCluster(id, self, Now())});
    ASSERT_EQ(outcomes_.back(), "");
    snapshot_at_ = 1 + static_cast<int64_t>(random_() % 40);

    const int steps = 1 + static_cast<int>(random_() % 60);
    for (int step = 0; step < steps; step++) {
      SCOPED_TRACE("step " + std::to_string(step));
      // Some node decides on its replica, caught up partway or not at all
      // (but past the CreateCluster: before it, there is nothing to decide on).
      Replica& proposer = replicas_[random_() % kReplicas];
      CatchUp(proposer, std::max<int64_t>(
                            1, proposer.applied + static_cast<int64_t>(random_() % (Last() - proposer.applied + 1))));
      const uint32_t dice = random_() % 100;
      if (dice < 45)
        TryAdd(proposer);
      else if (dice < 70)
        TryRemove(proposer);
      else
        ProposeStateChanges(random_() % 4 == 0 ? proposer : Leader());
      CheckInvariants();
      if (::testing::Test::HasFailure()) return;
    }
    for (Replica& replica : replicas_) {
      CatchUp(replica, Last());
      EXPECT_EQ(replica.catalog, Leader().catalog);
    }
    Replica replayed;
    CatchUp(replayed, Last());
    EXPECT_EQ(replayed.catalog, Leader().catalog);
    if (snapshot_) {
      Replica restored;
      RestoreImage(restored.catalog, DecodeImage(snapshot_->second));
      restored.applied = snapshot_->first;
      CatchUp(restored, Last());
      EXPECT_EQ(restored.catalog, Leader().catalog) << "from the image at index " << snapshot_->first;
      restored_++;
    }
  }

  int added() const { return added_; }
  int removed() const { return removed_; }
  int stale() const { return stale_; }
  int state_changes() const { return state_changes_; }
  int state_refusals() const { return state_refusals_; }
  int restored() const { return restored_; }
  int refused_other_cluster() const { return refused_other_cluster_; }

 private:
  int64_t Now() { return 1'700'000'000 * kSecond + static_cast<int64_t>(random_() % 1000) * kSecond; }
  uint64_t Random64() { return (static_cast<uint64_t>(random_()) << 32) | random_(); }
  int64_t Last() const { return static_cast<int64_t>(log_.size()); }
  // Replica 0 applies every entry as it is appended: the reference.
  Replica& Leader() { return replicas_[0]; }

  // Applies the log up to `index`, checking each outcome against the
  // reference's, and takes the snapshot image when the reference passes its index.
  void CatchUp(Replica& replica, int64_t index) {
    while (replica.applied < index) {
      replica.applied++;
      const std::string outcome = Apply(replica.catalog, log_[replica.applied - 1], replica.applied);
      if (replica.applied <= static_cast<int64_t>(outcomes_.size()))
        EXPECT_EQ(outcome, outcomes_[replica.applied - 1]) << "entry " << replica.applied;
      else
        outcomes_.push_back(outcome);
      if (&replica == &Leader() && replica.applied == snapshot_at_)
        snapshot_.emplace(snapshot_at_, EncodeImage(ReadImage(replica.catalog)));
    }
  }

  // Appends the proposal to the log, the reference applies it, and the
  // outcome is checked against the model; returns the outcome.
  std::string Propose(const Proposal& proposal) {
    const std::string bytes = EncodeProposal(proposal);
    EXPECT_EQ(DecodeProposal(bytes), proposal);
    log_.push_back(bytes);
    const std::optional<NodeRecord> node = FindNode(Leader().catalog, proposal.command);
    CatchUp(Leader(), Last());
    const std::string& outcome = outcomes_.back();
    if (IsVersioned(proposal.command)) {
      const bool is_stale = proposal.based_on != 0 && last_versioned_ > proposal.based_on;
      EXPECT_EQ(outcome, is_stale ? kSerializationFailure : "")
          << CommandName(proposal.command) << " based on " << proposal.based_on << ", last versioned "
          << last_versioned_;
      if (outcome.empty()) last_versioned_ = Last();
      stale_ += is_stale ? 1 : 0;
    } else {
      const SetNodeState& change = std::get<SetNodeState>(proposal.command);
      const std::string expected = !node ? "42704" : node->state != change.from ? kSerializationFailure : "";
      EXPECT_EQ(outcome, expected) << "node " << change.node_id;
      (outcome.empty() ? state_changes_ : state_refusals_)++;
    }
    return outcome;
  }

  static std::optional<NodeRecord> FindNode(const InMemoryCatalog& catalog, const Command& command) {
    const auto* change = std::get_if<SetNodeState>(&command);
    if (change == nullptr) return std::nullopt;
    for (const NodeRecord& node : catalog.nodes)
      if (node.node_id == change->node_id) return node;
    return std::nullopt;
  }

  AddNodeRequest RandomRequest() {
    AddNodeRequest request;
    request.host = kHosts[random_() % kHosts.size()];
    request.port = 5432 + static_cast<int32_t>(random_() % 3);
    if (random_() % 2) request.name = kNames[random_() % kNames.size()];
    request.region = random_() % 2 ? "default" : "eu-\xC3\xB8st";
    request.role = random_() % 3 ? "primary" : "replica";
    return request;
  }

  // The candidate as it describes itself over libpq: the cluster it believes
  // it belongs to is its own node-local record.
  CandidateIdentity Describe(const std::string& address) {
    CandidateIdentity candidate;
    candidate.extension_version = kVersion;
    const auto belief = believes_.find(address);
    if (belief != believes_.end()) candidate.cluster_id = belief->second;
    return candidate;
  }

  // phantom_add_node on the proposer, in the glue's order.
  void TryAdd(Replica& proposer) {
    const AddNodeRequest request = RandomRequest();
    ASSERT_NO_THROW(ValidateAddNodeRequest(request));
    const std::string address = NodeAddress(request.host, request.port);
    if (!believes_.count(address) && random_() % 10 == 0) believes_[address] = ClusterId{0x99};  // used elsewhere
    const InMemoryCatalog before = proposer.catalog;
    Command command;
    try {
      if (FindRegisteredNode(proposer.catalog.nodes, request)) return;  // already there: nothing to propose
      command =
          DecideAddNode(*proposer.catalog.cluster, proposer.catalog.nodes, request, Describe(address), kVersion, Now());
    } catch (const Error& error) {
      // A taken name or an address registered under another name (42710,
      // checked first), or a node of another cluster.
      if (error.Sqlstate() == "55000") {
        EXPECT_TRUE(believes_.count(address) && believes_[address] != cluster_id_) << error.Message();
        refused_other_cluster_++;
      } else {
        EXPECT_EQ(error.Sqlstate(), "42710") << error.Message();
      }
      EXPECT_EQ(proposer.catalog, before);
      return;
    }
    const NodeRecord& node = std::get<AddNode>(command).node;
    EXPECT_EQ(node.node_id, proposer.catalog.cluster->next_node_id) << "ids come from next_node_id";
    EXPECT_EQ(node.state, NodeState::kJoining);
    EXPECT_EQ(node.name, request.name.value_or(address));
    if (Propose(Proposal{Random64(), 2, proposer.applied, command}).empty()) {
      added_++;
      believes_[address] = cluster_id_;  // the glue records it on the node
    }
  }

  // phantom_remove_node on the proposer, of any node, by name or address.
  void TryRemove(Replica& proposer) {
    const std::vector<NodeRecord>& nodes = proposer.catalog.nodes;
    const NodeRecord target = nodes[random_() % nodes.size()];
    const std::string address = NodeAddress(target.host, target.port);
    // An address only names the node when no node is named like it.
    bool address_is_a_name = false;
    for (const NodeRecord& node : nodes) address_is_a_name = address_is_a_name || node.name == address;
    const std::string ref = (random_() % 2 || address_is_a_name) ? target.name : address;
    if (nodes.size() == 1) {
      EXPECT_THROW(DecideRemoveNode(*proposer.catalog.cluster, nodes, {}, ref), Error) << "removed the last node";
      return;
    }
    const RemoveNode command = DecideRemoveNode(*proposer.catalog.cluster, nodes, {}, ref);
    EXPECT_EQ(command.node_id, target.node_id) << ref;
    if (Propose(Proposal{Random64(), 3, proposer.applied, command}).empty()) {
      removed_++;
      // Told it left, or unreachable and still believing it belongs here.
      if (random_() % 2) believes_.erase(address);
    }
  }

  // The failure detector on a leader whose catalog is `leader`'s replica
  // (a deposed leader's may lag), with random heartbeat answers.
  void ProposeStateChanges(const Replica& leader) {
    const int64_t now = Now();
    std::map<NodeId, int64_t> last_heard;
    LeaderState state;
    state.leader_id = leader.catalog.nodes.front().node_id;
    state.leader_since_us = now - static_cast<int64_t>(random_() % 60) * kSecond;
    for (const NodeRecord& node : leader.catalog.nodes) {
      if (random_() % 4 != 0) last_heard[node.node_id] = now - static_cast<int64_t>(random_() % 40) * kSecond;
      if (random_() % 2) state.caught_up.insert(node.node_id);
      state.without_shards.insert(node.node_id);
    }
    for (const StateChange& change : Evaluate(leader.catalog.nodes, last_heard, now, FailurePolicy{}, state)) {
      const auto heard = last_heard.find(change.node_id);
      const int64_t heartbeat = heard == last_heard.end() ? 0 : heard->second;
      // based_on is no check for this command; set it anyway, as a leader would.
      Propose(Proposal{Random64(), state.leader_id, leader.applied,
                       SetNodeState{change.node_id, change.from, change.to, heartbeat}});
    }
  }

  // Everything phantom_add_node / phantom_remove_node promise about the catalog.
  void CheckInvariants() {
    const InMemoryCatalog& catalog = Leader().catalog;
    ASSERT_TRUE(catalog.cluster);
    const ClusterRecord& cluster = *catalog.cluster;
    EXPECT_EQ(cluster.cluster_id, cluster_id_);
    EXPECT_EQ(cluster.metadata_version, last_versioned_);
    EXPECT_FALSE(catalog.nodes.empty());
    std::set<std::string> names;
    std::set<std::string> addresses;
    NodeId previous = 0;
    for (const NodeRecord& node : catalog.nodes) {
      EXPECT_GT(node.node_id, previous) << "nodes out of order";
      previous = node.node_id;
      EXPECT_LT(node.node_id, cluster.next_node_id);
      EXPECT_TRUE(names.insert(node.name).second) << "duplicate name " << node.name;
      EXPECT_TRUE(addresses.insert(NodeAddress(node.host, node.port)).second) << "duplicate address";
    }
  }

  std::mt19937 random_;
  ClusterId cluster_id_{};
  std::vector<std::string> log_;       // encoded proposals; entry i is at index i + 1
  std::vector<std::string> outcomes_;  // the reference's outcome per entry
  Replica replicas_[kReplicas];
  int64_t last_versioned_ = 0;                 // the model: index of the last accepted versioned entry
  std::map<std::string, ClusterId> believes_;  // node-local: the cluster each address believes it is in
  int64_t snapshot_at_ = 0;
  std::optional<std::pair<int64_t, std::string>> snapshot_;  // index, encoded image
  int added_ = 0;
  int removed_ = 0;
  int stale_ = 0;
  int state_changes_ = 0;
  int state_refusals_ = 0;
  int restored_ = 0;
  int refused_other_cluster_ = 0;
};

TEST(MetadataReplayTest, RandomHistoriesReplayIdenticallyOnEveryReplica) {
  int added = 0;
  int removed = 0;
  int stale = 0;
  int state_changes = 0;
  int state_refusals = 0;
  int restored = 0;
  int refused_other_cluster = 0;
  for (uint32_t seed = 1; seed <= kSequences; seed++) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    Simulation simulation(seed);
    simulation.Run();
    added += simulation.added();
    removed += simulation.removed();
    stale += simulation.stale();
    state_changes += simulation.state_changes();
    state_refusals += simulation.state_refusals();
    restored += simulation.restored();
    refused_other_cluster += simulation.refused_other_cluster();
    if (HasFailure()) return;
  }
  // The histories exercised every path, not just the first few steps.
  EXPECT_GT(added, 1000);
  EXPECT_GT(removed, 500);
  EXPECT_GT(stale, 500);
  EXPECT_GT(state_changes, 500);
  EXPECT_GT(state_refusals, 30);
  EXPECT_GT(restored, 60);
  EXPECT_GT(refused_other_cluster, 50);
  std::cout << "[ replay   ] added=" << added << " removed=" << removed << " stale=" << stale
            << " state changes=" << state_changes << " refused=" << state_refusals << " restored=" << restored
            << " other cluster=" << refused_other_cluster << "\n";
}

// Random proposals, most of which do not fit the catalog: two catalogs given
// the same log accept and refuse the same entries with the same error, a
// refused entry writes nothing, and replaying only the accepted entries (at
// their indexes) rebuilds the catalog.
TEST(MetadataReplayTest, RandomProposalsApplyDeterministicallyOrChangeNothing) {
  std::mt19937 random(0xC0FFEE);
  auto cluster_id = [&] {
    ClusterId id{};
    id.fill(static_cast<uint8_t>(1 + random() % 3));
    return id;
  };
  auto state = [&] { return static_cast<NodeState>(random() % 6); };
  auto node = [&] {
    NodeRecord record;
    // Positive, as every id a decision hands out is.
    record.node_id = static_cast<NodeId>(1 + random() % 6);
    record.name = kNames[random() % kNames.size()];
    record.host = kHosts[random() % 3];
    record.port = 5432 + static_cast<int32_t>(random() % 2);
    record.region = "default";
    record.role = random() % 2 ? NodeRole::kPrimary : NodeRole::kReplica;
    record.state = state();
    record.last_heartbeat_us = static_cast<int64_t>(random());
    return record;
  };
  auto command = [&]() -> Command {
    switch (random() % 5) {
      case 0:
        return CreateCluster{cluster_id(), node()};
      case 1:
      case 2:
        return AddNode{node()};
      case 3:
        return RemoveNode{static_cast<NodeId>(random() % 8)};
      default:
        return SetNodeState{static_cast<NodeId>(random() % 8), state(), state(), static_cast<int64_t>(random())};
    }
  };

  int accepted = 0;
  int rejected = 0;
  int stale = 0;
  for (int sequence = 0; sequence < kSequences; sequence++) {
    SCOPED_TRACE("sequence " + std::to_string(sequence));
    InMemoryCatalog first;
    InMemoryCatalog second;
    std::vector<std::pair<int64_t, std::string>> accepted_log;
    for (int64_t index = 1; index <= 30; index++) {
      const int64_t based_on = random() % 3 == 0 ? 0 : static_cast<int64_t>(random() % index);
      const std::string bytes = EncodeProposal(Proposal{random(), 1, based_on, command()});
      SCOPED_TRACE("index " + std::to_string(index) + " " + CommandName(DecodeProposal(bytes).command));
      const std::string first_outcome = Apply(first, bytes, index);
      const std::string second_outcome = Apply(second, bytes, index);
      ASSERT_EQ(first_outcome, second_outcome);
      ASSERT_EQ(first, second);
      if (first_outcome.empty()) {
        accepted_log.emplace_back(index, bytes);
        accepted++;
      } else {
        rejected++;
        stale += first_outcome == kSerializationFailure ? 1 : 0;
      }
    }
    InMemoryCatalog replayed;
    for (const auto& [index, bytes] : accepted_log) EXPECT_EQ(Apply(replayed, bytes, index), "");
    EXPECT_EQ(replayed, first);
    if (HasFailure()) return;
  }
  EXPECT_GT(accepted, 1000);
  EXPECT_GT(rejected, 1000);
  EXPECT_GT(stale, 300);
}

}  // namespace
}  // namespace phantom::metadata
