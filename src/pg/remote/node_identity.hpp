// Asking another node who it is, before it joins this cluster.
#pragma once

#include "core/metadata/node_membership.hpp"
#include "pg/local_node.hpp"
#include "pg/remote/node_connection.hpp"

namespace phantom::pg {

metadata::CandidateIdentity FetchNodeIdentity(NodeConnection& connection, const LocalNode& self);

}  // namespace phantom::pg
