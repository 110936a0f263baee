// What this node knows about itself: the address other nodes reach it at,
// its Postgres system identifier, and the installed extension version.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "core/metadata/node_membership.hpp"

namespace phantom::pg {

struct LocalNode {
  std::string host;                 // phantomdb.advertise_host, or derived
  int32_t port = 0;                 // the server's port
  std::optional<std::string> name;  // phantomdb.node_name, if set
  std::string system_identifier;    // from pg_control, as text
  std::string extension_version;    // installed phantomdb version

  // The request that registers this node on first use of the cluster.
  metadata::AddNodeRequest AsRequest() const;
};

// Call inside spi::WithSpi.
LocalNode DescribeLocalNode();

}  // namespace phantom::pg
