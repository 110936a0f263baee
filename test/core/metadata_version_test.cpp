// The catalog's metadata version and the proposals checked against it: a
// versioned command decided on a catalog that another versioned command has
// changed since is refused (40001) on apply, alike on every node.
#include <gtest/gtest.h>

#include "metadata_samples.hpp"

#include <cstdint>
#include <string>

#include "core/metadata/command_apply.hpp"
#include "core/metadata/node_membership.hpp"
#include "core/metadata/proposal.hpp"
#include "expect_error.hpp"
#include "in_memory_catalog.hpp"

namespace phantom::metadata {
namespace {

constexpr int64_t kNow = 1700000000000000;
constexpr const char* kVersion = "0.1";

Proposal Propose(const Command& command, int64_t based_on) { return Proposal{42, 1, based_on, command}; }

// Cluster 0x11 founded at index 3 by node 1 (a), node 2 (b) added at index 7:
// gaps, as SetNodeState entries and refused entries leave in a real log.
InMemoryCatalog AtVersionSeven() {
  InMemoryCatalog catalog;
  ApplyCommand(catalog, Propose(CreateCluster{IdOf(0x11), Node(1, "a")}, 0), 3);
  ApplyCommand(catalog, Propose(AddNode{Node(2, "b")}, 3), 7);
  catalog.writes = 0;
  return catalog;
}

ExpectedError Stale(const char* command, int64_t based_on, int64_t version) {
  return {"40001", "the cluster's metadata changed while this command was being decided",
          std::string("The ") + command + " was decided on the metadata as of log index " + std::to_string(based_on) +
              "; the entry at log index " + std::to_string(version) + " changed it since.",
          "Retry the command."};
}

void ExpectRefused(InMemoryCatalog& catalog, const Proposal& proposal, int64_t index, const ExpectedError& expected) {
  const InMemoryCatalog before = catalog;
  const int writes = catalog.writes;
  ExpectError([&] { ApplyCommand(catalog, proposal, index); }, expected);
  EXPECT_EQ(catalog, before);
  EXPECT_EQ(catalog.writes, writes);
}

TEST(IsVersionedTest, EverythingButSetNodeState) {
  EXPECT_TRUE(IsVersioned(CreateCluster{}));
  EXPECT_TRUE(IsVersioned(AddNode{}));
  EXPECT_TRUE(IsVersioned(RemoveNode{}));
  EXPECT_TRUE(IsVersioned(CreateDistributedTable{}));
  EXPECT_TRUE(IsVersioned(DropDistributedTable{}));
  EXPECT_TRUE(IsVersioned(RenameDistributedTable{}));
  EXPECT_FALSE(IsVersioned(SetNodeState{}));
}

TEST(MetadataVersionTest, CreateClusterSetsItToItsIndex) {
  InMemoryCatalog catalog;
  ApplyCommand(catalog, Propose(CreateCluster{IdOf(0x11), Node(1, "a")}, 0), 3);
  ASSERT_TRUE(catalog.cluster);
  EXPECT_EQ(catalog.cluster->metadata_version, 3);
}

// Each versioned command, accepted, moves the version to its own index.
TEST(MetadataVersionTest, EveryVersionedCommandMovesItToItsIndex) {
  InMemoryCatalog catalog = AtVersionSeven();
  EXPECT_EQ(catalog.cluster->metadata_version, 7);
  TableRecord table;
  table.table_id = 1;
  table.schema_name = "public";
  table.table_name = "countries";
  table.method = DistributionMethod::kReference;
  table.shards = {ShardRecord{102008, 0, INT32_MIN, INT32_MAX, {1}}};
  const std::vector<std::pair<Command, int64_t>> entries = {
      {AddNode{Node(3, "c")}, 8},
      {CreateDistributedTable{table, std::nullopt}, 11},
      {RenameDistributedTable{1, "public", "nations", ""}, 12},
      {DropDistributedTable{1}, 20},
      {RemoveNode{3}, 21},
  };
  for (const auto& [command, index] : entries) {
    SCOPED_TRACE(CommandName(command));
    ApplyCommand(catalog, Propose(command, catalog.cluster->metadata_version), index);
    EXPECT_EQ(catalog.cluster->metadata_version, index);
  }
}

TEST(MetadataVersionTest, AcceptedWhenNothingVersionedWasAcceptedSince) {
  // Decided on exactly the current version.
  InMemoryCatalog catalog = AtVersionSeven();
  ApplyCommand(catalog, Propose(AddNode{Node(3, "c")}, 7), 8);
  EXPECT_EQ(catalog.nodes.size(), 3u);
  // Decided on a later index: the proposer had applied unversioned or
  // refused entries after the last versioned one.
  catalog = AtVersionSeven();
  ApplyCommand(catalog, Propose(AddNode{Node(3, "c")}, 12), 13);
  EXPECT_EQ(catalog.cluster->metadata_version, 13);
}

TEST(MetadataVersionTest, RefusedWhenAVersionedCommandWasAcceptedSince) {
  InMemoryCatalog catalog = AtVersionSeven();
  ExpectRefused(catalog, Propose(AddNode{Node(3, "c")}, 6), 8, Stale("AddNode", 6, 7));
  ExpectRefused(catalog, Propose(RemoveNode{2}, 3), 8, Stale("RemoveNode", 3, 7));
  ExpectRefused(catalog, Propose(DropDistributedTable{1}, 1), 9, Stale("DropDistributedTable", 1, 7));
}

// Staleness is checked first: the command may conflict only because of what
// changed since it was decided, and deciding it again tells the truth.
TEST(MetadataVersionTest, StalenessIsReportedBeforeAConflict) {
  InMemoryCatalog catalog = AtVersionSeven();
  ExpectRefused(catalog, Propose(AddNode{Node(3, "b")}, 6), 8, Stale("AddNode", 6, 7));
  ExpectRefused(catalog, Propose(CreateCluster{IdOf(0x22), Node(1, "z")}, 6), 8, Stale("CreateCluster", 6, 7));
  // Not stale: the conflict itself.
  ExpectRefused(catalog, Propose(AddNode{Node(3, "b")}, 7), 8,
                {"55000", "metadata command AddNode conflicts with the catalog: node name \"b\" is taken"});
}

TEST(MetadataVersionTest, BasedOnZeroIsNeverStale) {
  InMemoryCatalog catalog = AtVersionSeven();
  ApplyCommand(catalog, Propose(AddNode{Node(3, "c")}, 0), 8);
  EXPECT_EQ(catalog.nodes.size(), 3u);
  EXPECT_EQ(catalog.cluster->metadata_version, 8);
}

// A refused entry changes nothing, its index included: what the proposers
// decided on is still current.
TEST(MetadataVersionTest, ARefusedEntryLeavesTheVersion) {
  InMemoryCatalog catalog = AtVersionSeven();
  ExpectRefused(catalog, Propose(RemoveNode{9}, 7), 8,
                {"42704", "metadata command RemoveNode names unknown node id 9"});
  ApplyCommand(catalog, Propose(AddNode{Node(3, "c")}, 7), 9);
  EXPECT_EQ(catalog.cluster->metadata_version, 9);
}

TEST(MetadataVersionTest, SetNodeStateNeitherChecksNorMovesIt) {
  InMemoryCatalog catalog = AtVersionSeven();
  // Based on an old index, yet applied: its own `from` is its check.
  ApplyCommand(catalog, Propose(SetNodeState{2, NodeState::kActive, NodeState::kSuspect, 5}, 1), 8);
  EXPECT_EQ(catalog.nodes[1].state, NodeState::kSuspect);
  EXPECT_EQ(catalog.cluster->metadata_version, 7);
  // So a versioned command decided before it is still current.
  ApplyCommand(catalog, Propose(AddNode{Node(3, "c")}, 7), 9);
  EXPECT_EQ(catalog.cluster->metadata_version, 9);
}

// Two nodes decide an add at once on the same catalog: the first entry in
// the log wins, the second is refused, and decided again it goes through.
TEST(MetadataVersionTest, ConcurrentDecisionsOneWinsTheOtherRetries) {
  InMemoryCatalog catalog = AtVersionSeven();
  CandidateIdentity candidate;
  candidate.extension_version = kVersion;
  AddNodeRequest c{"c", 5432, std::nullopt, "default", "primary"};
  AddNodeRequest d{"d", 5432, std::nullopt, "default", "primary"};
  const int64_t seen = catalog.cluster->metadata_version;
  const Command add_c = DecideAddNode(*catalog.cluster, catalog.nodes, c, candidate, kVersion, kNow);
  const Command add_d = DecideAddNode(*catalog.cluster, catalog.nodes, d, candidate, kVersion, kNow);
  // Both took the same next id: applying both would clash or worse.
  EXPECT_EQ(std::get<AddNode>(add_c).node.node_id, std::get<AddNode>(add_d).node.node_id);
  ApplyCommand(catalog, Proposal{1, 1, seen, add_c}, 8);
  ExpectRefused(catalog, Proposal{2, 2, seen, add_d}, 9, Stale("AddNode", 7, 8));
  const Command retried = DecideAddNode(*catalog.cluster, catalog.nodes, d, candidate, kVersion, kNow);
  ApplyCommand(catalog, Proposal{3, 2, catalog.cluster->metadata_version, retried}, 10);
  ASSERT_EQ(catalog.nodes.size(), 4u);
  EXPECT_EQ(catalog.nodes[2].host, "c");
  EXPECT_EQ(catalog.nodes[3].host, "d");
  EXPECT_EQ(catalog.nodes[3].node_id, 4);
}

// Log indexes only grow; an entry not after the version is the caller's bug.
TEST(MetadataVersionTest, TheIndexMustComeAfterTheVersion) {
  InMemoryCatalog fresh;
  ExpectRefused(fresh, Propose(CreateCluster{IdOf(0x11), Node(1, "a")}, 0), 0,
                {"XX000", "metadata log entry 0 is not after the catalog's metadata version 0"});
  ExpectRefused(fresh, Propose(CreateCluster{IdOf(0x11), Node(1, "a")}, 0), -1,
                {"XX000", "metadata log entry -1 is not after the catalog's metadata version 0"});
  InMemoryCatalog catalog = AtVersionSeven();
  for (int64_t index : {7, 5})
    ExpectRefused(
        catalog, Propose(AddNode{Node(3, "c")}, 0), index,
        {"XX000", "metadata log entry " + std::to_string(index) + " is not after the catalog's metadata version 7"});
  ExpectRefused(catalog, Propose(SetNodeState{2, NodeState::kActive, NodeState::kSuspect, 5}, 0), 7,
                {"XX000", "metadata log entry 7 is not after the catalog's metadata version 7"});
}

}  // namespace
}  // namespace phantom::metadata
