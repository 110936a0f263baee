// For tests about what a command does, not about versioning: applies it as
// the next entry of a log, proposed with no based_on check, at the index
// after the catalog's metadata version (1 on an empty catalog).
#pragma once

#include <cstdint>

#include "core/metadata/catalog_store.hpp"
#include "core/metadata/command_apply.hpp"

namespace phantom::metadata {

inline int64_t NextIndex(CatalogStore& store) {
  const auto cluster = store.GetCluster();
  return (cluster ? cluster->metadata_version : 0) + 1;
}

inline void ApplyNext(CatalogStore& store, const Command& command) {
  ApplyCommand(store, Proposal{0, 0, 0, command}, NextIndex(store));
}

}  // namespace phantom::metadata
