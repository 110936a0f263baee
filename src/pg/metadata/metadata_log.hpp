// The path by which the catalog changes: a command is decided on any node,
// proposed to the metadata Raft group (raft_worker.hpp), committed, and
// applied by every node's raft worker in log order. The proposer waits until
// its own node has applied it.
//
// Deciding. LockMetadata serialises the decisions of this node's backends
// and first waits until this node has applied everything its Raft member
// knows to be committed, so the decision reads current metadata. The
// proposal carries the applied index it was decided on; if another node's
// change was applied after that, every node refuses it alike (40001, retry).
//
// Proposing. ProposeCommand proposes at once: for changes with no work of
// their own in the caller's transaction (membership). ProposeAtCommit holds
// the command until the caller's transaction commits: distributed_commit
// proposes it after every remote participant prepared and before the local
// commit, so a refused or failed proposal rolls everything back.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/metadata/catalog_image.hpp"
#include "core/metadata/command.hpp"
#include "pg/raft/raft_shared.hpp"

namespace phantom::pg {

// Takes this node's metadata lock until the transaction ends and catches up
// with the committed log. Call inside spi::WithSpi, before reading the
// catalog to decide on a command.
void LockMetadata();

// Proposes now and returns the log index once this node applied it. Throws
// the refusal (e.g. 40001, 42710) when applying refused it. Call after
// LockMetadata.
int64_t ProposeCommand(const metadata::Command& command);

// Proposes when the transaction commits (see above). Call after LockMetadata.
void ProposeAtCommit(const metadata::Command& command);
// For distributed_commit: whether commands wait for the commit, proposing
// them (in order; throws like ProposeCommand), and forgetting them at the
// end of the transaction.
bool HasCommandsAtCommit();
// The catalog as it will be once the transaction's commands at commit
// applied: what the rest of the transaction decides and plans with (a
// command refused here is left out; the commit reports it). Call inside
// spi::WithSpi.
metadata::CatalogImage CatalogWithCommandsAtCommit();
void ProposeCommandsAtCommit();
void ForgetCommandsAtCommit() noexcept;

// Asks this node's raft worker to found a cluster with this node as node 1
// and waits until it leads it. Call inside spi::WithSpi.
void FoundCluster(const std::string& cluster_id);

// The status of this node's raft worker once it runs for this incarnation of
// the extension (it restarts within a second of DROP/CREATE EXTENSION):
// its identity matches phantomdb.local_node. Throws 55000 after
// phantomdb.node_timeout_ms. Call inside spi::WithSpi.
raft_shared::Status CurrentRaftWorker();

// True while a metadata command is being applied (or the raft worker writes
// its own tables): the only time the catalog tables accept writes.
bool ApplyingMetadataCommand();

// Opens the catalog for writing for its lifetime; a plain counter, so
// leaving it on unwind calls nothing in Postgres.
class ApplyingScope {
 public:
  ApplyingScope();
  ~ApplyingScope();
  ApplyingScope(const ApplyingScope&) = delete;
  ApplyingScope& operator=(const ApplyingScope&) = delete;
};

}  // namespace phantom::pg
