// Reads a candidate node's extension version and cluster membership through
// phantomdb.node_identity() on that node.
#include "pg/remote/node_identity.hpp"

#include "core/metadata/cluster_id.hpp"

namespace phantom::pg {

metadata::CandidateIdentity FetchNodeIdentity(NodeConnection& connection, const LocalNode& self) {
  metadata::CandidateIdentity identity;
  auto version = connection.Query("SELECT extversion FROM pg_catalog.pg_extension WHERE extname = 'phantomdb'");
  if (version.empty() || !version[0][0]) return identity;
  identity.extension_version = *version[0][0];

  auto rows = connection.Query("SELECT system_identifier, port, cluster_id FROM phantomdb.node_identity()");
  const RemoteRow& row = rows.at(0);
  identity.is_local_node = row[0] == self.system_identifier && row[1] == std::to_string(self.port);
  if (row[2]) identity.cluster_id = metadata::ParseClusterId(*row[2]);
  return identity;
}

}  // namespace phantom::pg
