// How the raft worker turns committed log entries into catalog rows. Every
// function runs inside the worker's transaction with SPI connected; the
// worker commits the batch (and the applied index with it) as one
// transaction, so each entry is applied exactly once.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "core/metadata/proposal.hpp"

namespace phantom::pg::catalog_applier {

// phantomdb.metadata_applied: the last log index the catalog reflects.
int64_t AppliedIndex();
void SetAppliedIndex(int64_t index);

struct Applied {
  // Empty when the command was applied; else why apply refused it (a
  // deterministic refusal: every node refuses the same entry).
  std::string sqlstate;
  std::string message;
  std::string hint;
};

// Applies one proposal entry in a subtransaction: a refusal by the core
// (phantom::Error) rolls back only this entry and is returned; any other
// error propagates (the node cannot apply, and must not skip the entry).
// The entry is recorded in phantomdb.metadata_log either way.
Applied ApplyProposal(const metadata::Proposal& proposal, int64_t index, int64_t term);
// Records an entry that is not a proposal (a conf change) in the log table.
void RecordEntry(int64_t index, int64_t term, const std::string& description);

// The whole replicated catalog as snapshot bytes (catalog_image.hpp).
std::string CatalogImageBytes();
// Replaces the catalog with a snapshot's image, as of index.
void RestoreCatalog(const std::string& image_bytes, int64_t index);
// Empties the catalog, the log table and the node's identity (it left its
// cluster, or a new extension must not see an old one).
void ClearCatalog();

// This node's identity (phantomdb.local_node), written only by the worker.
struct Identity {
  int32_t node_id = 0;
  std::string cluster_id;
};
std::optional<Identity> LoadIdentity();
void StoreIdentity(const Identity& identity);

}  // namespace phantom::pg::catalog_applier
