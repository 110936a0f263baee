// Records the metadata tests build their catalogs from.
#pragma once

#include <cstdint>
#include <string>

#include "core/metadata/command.hpp"

namespace phantom::metadata {

// A cluster id of sixteen `seed` bytes: distinct seeds, distinct clusters.
inline ClusterId IdOf(uint8_t seed) {
  ClusterId id{};
  id.fill(seed);
  return id;
}

// An active primary named after its host, on port 5432 in region "default".
inline NodeRecord Node(NodeId node_id, const std::string& host) {
  NodeRecord node;
  node.node_id = node_id;
  node.name = host;
  node.host = host;
  node.port = 5432;
  node.region = "default";
  return node;
}

}  // namespace phantom::metadata
