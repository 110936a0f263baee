// Proposing metadata commands to the Raft group and waiting for them; see
// metadata_log.hpp.
#include "pg/metadata/metadata_log.hpp"

#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

#include "core/common/error.hpp"
#include "core/metadata/command_apply.hpp"
#include "core/metadata/image_catalog_store.hpp"
#include "core/metadata/proposal.hpp"
#include "pg/guard.hpp"
#include "pg/latch_nap.hpp"
#include "pg/metadata/metadata_cache.hpp"
#include "pg/metadata/spi_catalog_store.hpp"
#include "pg/raft/catalog_applier.hpp"
#include "pg/raft/raft_records.hpp"
#include "pg/raft/raft_shared.hpp"
#include "pg/settings.hpp"
#include "pg/spi.hpp"

extern "C" {
#include "miscadmin.h"
#include "storage/proc.h"
}

namespace phantom::pg {

namespace {

using Clock = std::chrono::steady_clock;

int applying = 0;
// The applied index the current transaction's decisions read (LockMetadata).
int64_t decided_on = 0;
std::vector<metadata::Command> at_commit;

constexpr int64_t kMetadataLockKey = 0x7068616e746f6d;  // "phantom"

// How long a proposal may take: a leader election and the commit itself.
std::chrono::milliseconds ProposalTimeout() {
  return std::chrono::milliseconds(node_timeout_ms + 3 * raft_election_timeout_ms);
}

raft_shared::Status WorkerStatus() { return CurrentRaftWorker(); }

[[noreturn]] void ThrowTimeout(const std::string& what) {
  const raft_shared::Status status = raft_shared::ReadStatus(MyDatabaseId);
  throw Error("57014", "timed out waiting for " + what,
              status.leader == 0 ? "The metadata Raft group has no leader: fewer than a majority of its voters are "
                                   "reachable from here."
                                 : "The leader is node " + std::to_string(status.leader) + ".",
              "See phantom_raft_status() on each node. A change that timed out may still take effect once the "
              "group has a majority again.");
}

int64_t Propose(const metadata::Command& command, int64_t based_on) {
  metadata::Proposal proposal;
  proposal.origin = WorkerStatus().node_id;
  proposal.based_on = based_on;
  proposal.command = command;
  const auto deadline = Clock::now() + ProposalTimeout();
  // Every attempt has its own id: an attempt the group dropped and one that
  // committed after all are told apart, and the first applied one wins (a
  // later copy is refused by its stale based_on).
  std::vector<uint64_t> attempts;
  while (Clock::now() < deadline) {
    if (!pg_strong_random(&proposal.id, sizeof proposal.id))
      throw Error(sqlstate::kInternalError, "could not generate a proposal id");
    attempts.push_back(proposal.id);
    const std::string record =
        EncodeProposalRecord({MyProc->pgprocno, proposal.id, metadata::EncodeProposal(proposal)});
    if (!raft_shared::Push(MyDatabaseId, raft_shared::RecordKind::kProposal, record)) {
      WorkerStatus();
      NapOnLatch(50);
      continue;
    }
    const auto resend_at = Clock::now() + std::chrono::milliseconds(2 * raft_election_timeout_ms);
    // A proposal forwarded to a leader that then died is lost: once another
    // leader is known, it is sent again at once.
    const int32_t sent_to = raft_shared::ReadStatus(MyDatabaseId).leader;
    bool transient = false;
    while (!transient && Clock::now() < std::min(resend_at, deadline)) {
      const int32_t leader = raft_shared::ReadStatus(MyDatabaseId).leader;
      if (leader != 0 && leader != sent_to) break;
      std::optional<raft_shared::Outcome> applied;
      for (uint64_t id : attempts) {
        std::optional<raft_shared::Outcome> outcome = raft_shared::FindOutcome(MyDatabaseId, id);
        if (!outcome) continue;
        if (outcome->index == 0) {
          if (id == proposal.id) transient = true;  // not proposed: no leader yet
        } else if (!applied || outcome->index < applied->index) {
          applied = outcome;
        }
      }
      if (applied) {
        if (!applied->sqlstate.empty()) throw Error(applied->sqlstate, applied->message, "", applied->hint);
        metadata_cache::InvalidateAll();
        return applied->index;
      }
      NapOnLatch(transient ? 50 : 10);
    }
  }
  ThrowTimeout("the metadata change to commit");
}

}  // namespace

raft_shared::Status CurrentRaftWorker() {
  spi::Execute("SELECT node_id, cluster_id::text FROM phantomdb.local_node");
  const int32_t node_id = spi::RowCount() > 0 ? spi::GetInt32(0, 0) : 0;
  const std::string cluster_id = spi::RowCount() > 0 ? spi::GetText(0, 1) : "";
  const auto deadline = Clock::now() + std::chrono::milliseconds(node_timeout_ms);
  for (;;) {
    raft_shared::Status status = raft_shared::RunningWorker();
    if (status.node_id == node_id && status.cluster_id == cluster_id) return status;
    if (Clock::now() >= deadline)
      throw Error(sqlstate::kObjectNotInPrerequisiteState,
                  "the raft worker of this node does not run for this node's cluster membership yet", "",
                  "It restarts shortly after CREATE EXTENSION phantomdb; check the server log if it does not.");
    NapOnLatch(10);
  }
}

ApplyingScope::ApplyingScope() { applying++; }
ApplyingScope::~ApplyingScope() { applying--; }
bool ApplyingMetadataCommand() { return applying > 0; }

void LockMetadata() {
  spi::Execute("SELECT pg_catalog.pg_advisory_xact_lock($1)", {spi::Int64(kMetadataLockKey)});
  const auto deadline = Clock::now() + ProposalTimeout();
  for (;;) {
    // Read each time: a worker that just restarted (the extension was
    // re-created) reports a different log.
    const int64_t committed = WorkerStatus().commit;
    decided_on = catalog_applier::AppliedIndex();
    if (decided_on >= committed) return;
    if (Clock::now() >= deadline) ThrowTimeout("this node to apply the committed metadata log");
    NapOnLatch(5);
  }
}

int64_t ProposeCommand(const metadata::Command& command) {
  // What this transaction decides next, it decides on the state this
  // command left.
  decided_on = Propose(command, decided_on);
  return decided_on;
}

void ProposeAtCommit(const metadata::Command& command) {
  at_commit.push_back(command);
  metadata_cache::MarkStale();
}

metadata::CatalogImage CatalogWithCommandsAtCommit() {
  spi::OneSnapshotScope one_snapshot;
  SpiCatalogStore store;
  metadata::CatalogImage image = metadata::ReadImage(store);
  metadata::ImageCatalogStore overlay(image);
  int64_t index = image.cluster ? image.cluster->metadata_version : 0;
  for (const metadata::Command& command : at_commit) {
    try {
      metadata::ApplyCommand(overlay, metadata::Proposal{0, 0, 0, command}, ++index);
    } catch (const Error&) {
      // Refused here, refused at commit too (which reports it); once
      // proposed, the catalog holds it and applying it again is refused.
    }
  }
  return image;
}

bool HasCommandsAtCommit() { return !at_commit.empty(); }

void ProposeCommandsAtCommit() {
  // The commands stay held while they are proposed: the metadata cache,
  // reloaded by the proposing queries, must keep showing them.
  const std::vector<metadata::Command> commands = at_commit;
  // The first is decided on what LockMetadata read; each later one on the
  // state its predecessor left, which this transaction decided with.
  int64_t based_on = decided_on;
  for (const metadata::Command& command : commands) based_on = Propose(command, based_on);
}

void ForgetCommandsAtCommit() noexcept {
  if (at_commit.empty()) return;
  at_commit.clear();
  metadata_cache::MarkStale();
}

void FoundCluster(const std::string& cluster_id) {
  WorkerStatus();
  const auto deadline = Clock::now() + ProposalTimeout();
  bool asked = false;
  for (;;) {
    const raft_shared::Status status = WorkerStatus();
    if (status.node_id != 0 && status.cluster_id == cluster_id && status.role == "leader") return;
    if (status.node_id != 0 && status.cluster_id != cluster_id)
      throw Error(sqlstate::kObjectNotInPrerequisiteState, "this node already belongs to cluster " + status.cluster_id);
    if (!asked) asked = raft_shared::Push(MyDatabaseId, raft_shared::RecordKind::kBootstrap, cluster_id);
    if (Clock::now() >= deadline) ThrowTimeout("this node's raft worker to found the cluster");
    NapOnLatch(10);
  }
}

}  // namespace phantom::pg
