// Applies one decoded metadata command to the catalog. Apply is deterministic:
// the same command on the same catalog makes the same change on every node.
// A command that does not fit the catalog (e.g. AddNode with a taken name)
// throws phantom::Error and changes nothing through the store; the caller's
// transaction rolls back with it.
#pragma once

#include "core/metadata/catalog_store.hpp"
#include "core/metadata/command.hpp"

namespace phantom::metadata {

void ApplyCommand(CatalogStore& store, const Command& command);

}  // namespace phantom::metadata
