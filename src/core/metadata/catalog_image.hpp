// The whole replicated catalog as one value: what a metadata Raft snapshot
// carries, so a node that is too far behind (or new) installs the catalog
// instead of replaying a log that has been compacted away. Restoring an image
// and then applying the entries after the snapshot's index must give the
// catalog that applying the whole log gives.
//
// Encoding (all integers little-endian), in the shared frame of codec_frame.hpp,
// records laid out as in commands (record_codec.hpp):
//   magic "PHMI" | format version u8 | has cluster u8 | [cluster] |
//   node count u32 | nodes | group count u32 | groups | table count u32 |
//   tables | CRC-32C u32
// where cluster = cluster id (16 bytes) | next node id i32 | next table id i64 |
//   next shard id i64 | next colocation id i32 | metadata version i64.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/metadata/catalog_store.hpp"
#include "core/metadata/command.hpp"

namespace phantom::metadata {

inline constexpr uint8_t kCatalogImageFormatVersion = 1;

// The whole replicated catalog, as a Raft snapshot carries it.
struct CatalogImage {
  std::optional<ClusterRecord> cluster;
  std::vector<NodeRecord> nodes;         // by node_id
  std::vector<ColocationRecord> groups;  // by colocation_id
  std::vector<TableRecord> tables;       // by table_id, with shards and placements
  bool operator==(const CatalogImage&) const = default;
};

CatalogImage ReadImage(CatalogStore& store);

// Replaces the store's whole content with the image (deletes everything first).
void RestoreImage(CatalogStore& store, const CatalogImage& image);

std::string EncodeImage(const CatalogImage& image);

// Throws phantom::Error (XX001, "catalog image is corrupted: ...") on bad
// bytes, as the command codec does; also when the nodes, groups or tables are
// not in strictly ascending id order, which no catalog produces (and the
// restored tables' keys would reject).
CatalogImage DecodeImage(std::string_view bytes);

}  // namespace phantom::metadata
