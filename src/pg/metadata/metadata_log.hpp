// The local metadata log: the single path by which the catalog changes.
//
// ProposeCommand encodes a command, appends it to phantomdb.metadata_log,
// decodes the logged bytes back and applies them to the catalog, and records
// the applied index — all in the caller's transaction, so the log, the
// catalog and the applied index commit or roll back together. Raft will
// replace the append with a replicated one; apply stays as it is.
#pragma once

#include <cstdint>

#include "core/metadata/command.hpp"

namespace phantom::pg {

// Serialises metadata changes: taken before reading the catalog to decide on
// a command, held until the transaction ends. Plain reads are not blocked.
void LockMetadata();

// Returns the log index of the command. Call inside spi::WithSpi, after
// LockMetadata.
int64_t ProposeCommand(const metadata::Command& command);

// True while ProposeCommand applies a command: the only time the catalog
// tables accept writes.
bool ApplyingMetadataCommand();

}  // namespace phantom::pg
