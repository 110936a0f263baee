// Applies one committed entry of the metadata Raft log to the catalog. Apply
// is deterministic: the same proposal at the same index on the same catalog
// makes the same change, or throws the same error, on every node, so every
// replica of the catalog stays identical. A command that does not fit the
// catalog (e.g. AddNode with a taken name) throws phantom::Error and changes
// nothing through the store; the caller's transaction rolls back with it and
// the entry counts as applied, refused alike everywhere.
#pragma once

#include <cstdint>

#include "core/metadata/catalog_store.hpp"
#include "core/metadata/command.hpp"
#include "core/metadata/proposal.hpp"

namespace phantom::metadata {

// SQLSTATE serialization_failure: the proposal lost a race and may simply be
// decided and proposed again.
inline constexpr const char* kSerializationFailure = "40001";

// Applies the command of the log entry at `index`. For a versioned command: when proposal.based_on != 0 and the
// catalog's metadata_version > based_on (another versioned command was accepted after the proposer decided), throws
// phantom::Error with SQLSTATE 40001, message "the cluster's metadata changed while this command was being decided",
// hint "Retry the command." and changes nothing. On success a versioned command sets cluster.metadata_version = index
// (CreateCluster included). SetNodeState: throws 40001 when the node's current state != from (message naming the node
// and both states), 42704 for an unknown node; never bumps the version. Log indexes only grow, so an index below 1 or
// not above the catalog's metadata_version is a bug in the caller: XX000, nothing changed.
void ApplyCommand(CatalogStore& store, const Proposal& proposal, int64_t index);

}  // namespace phantom::metadata
